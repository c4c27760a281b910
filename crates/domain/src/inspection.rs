//! Inspections (handover records): what was checked, read and photographed when an asset changed
//! hands, and the tamper-proof hash that lets anyone check later that none of it changed.
//!
//! An [`InspectionRecord`] is the hashed payload. Its JSON (RFC 8785 canonical form) hashed with
//! SHA-256 is the record's `tamper_proof_hash`; the record carries the previous hash of the same
//! asset's chain (`prev_hash`) and its place in it (`seq`), so a removed or re-ordered record
//! breaks the chain. Each top-level member is also hashed on its own ([`member_hashes`]), so a
//! verifier can name the member that changed, not only that something did.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{ChecklistItem, EvidenceHash, TextRule, evidence::CanonicalJsonError, evidence_hash};

crate::stored_enum! {
    /// Why an asset was inspected.
    pub enum InspectionKind as "inspection kind" {
        /// Handed to the customer at the counter.
        Pickup = "PICKUP",
        /// Taken back from the customer.
        Return = "RETURN",
        /// Delivered to the customer's address.
        Delivery = "DELIVERY",
        /// Moved between branches.
        Transfer = "TRANSFER",
    }
}

crate::stored_enum! {
    /// How bad a damage mark is.
    pub enum DamageSeverity as "damage severity" {
        /// Cosmetic: a scratch, a small dent.
        Minor = "MINOR",
        /// Needs a repair but the asset can be used.
        Moderate = "MODERATE",
        /// The asset should not be used until repaired.
        Severe = "SEVERE",
    }
}

/// The answer to one checklist line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistAnswer {
    /// The template line's key.
    pub key: String,
    /// Whether the line was found in order.
    pub ok: bool,
    /// What the inspector noted, if anything.
    #[serde(default)]
    pub note: String,
}

/// One damage found on the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DamageMark {
    /// Where: "front bumper", "left mirror".
    pub area: String,
    /// What: "scratch", "dent", "crack".
    #[serde(rename = "type")]
    pub kind: String,
    pub severity: DamageSeverity,
    #[serde(default)]
    pub note: String,
}

/// A stored file the record refers to, by its object key and the SHA-256 of its bytes (for
/// encrypted files, of the plain bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub object_key: String,
    /// Lowercase hex.
    pub sha256: String,
    /// The checklist line the photo shows, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checklist_key: Option<String>,
}

/// The signatures on a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatures {
    /// The customer's (none for a transfer between branches).
    pub customer: Option<FileRef>,
    /// The staff member's.
    pub staff: FileRef,
}

/// The hashed payload of one inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionRecord {
    pub id: Uuid,
    pub asset_id: Uuid,
    /// Where the handover happened.
    pub branch_id: Uuid,
    pub booking_id: Option<Uuid>,
    pub kind: InspectionKind,
    /// The record this one corrects (records are never changed; a correction is a new record).
    pub corrects: Option<Uuid>,
    pub checklist: Vec<ChecklistAnswer>,
    pub odometer_km: u32,
    /// Fuel in eighths of a tank (0 = empty, 8 = full).
    pub fuel_eighths: u8,
    pub damages: Vec<DamageMark>,
    pub photos: Vec<FileRef>,
    pub signatures: Signatures,
    pub inspector_id: Uuid,
    pub device_id: Option<Uuid>,
    /// When the inspection was done (RFC 3339, UTC, milliseconds).
    pub recorded_at: String,
    /// 1 for the asset's first record, then 2, 3, ...
    pub seq: u32,
    /// The previous record's hash in the asset's chain (lowercase hex), none for the first.
    pub prev_hash: Option<String>,
}

/// Writes an instant the way records store it: `2026-12-02T05:39:25.123Z`.
pub fn record_time(instant: DateTime<Utc>) -> String {
    instant.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl InspectionRecord {
    /// The record as JSON (the form that is stored and hashed).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("an inspection record is plain JSON")
    }

    /// The record's `tamper_proof_hash`.
    pub fn tamper_proof_hash(&self) -> EvidenceHash {
        evidence_hash(&self.to_json()).expect("records hold no numbers beyond 2^53")
    }
}

/// SHA-256 (hex) of each top-level member of a stored payload, in canonical form.
pub fn member_hashes(payload: &Value) -> Result<BTreeMap<String, String>, CanonicalJsonError> {
    let mut hashes = BTreeMap::new();
    if let Value::Object(members) = payload {
        for (name, member) in members {
            hashes.insert(name.clone(), evidence_hash(member)?.to_hex());
        }
    }
    Ok(hashes)
}

/// The members of `payload` whose hash differs from (or is missing in) `recorded`, plus the
/// recorded members the payload lost, sorted by name.
pub fn altered_members(payload: &Value, recorded: &BTreeMap<String, String>) -> Vec<String> {
    let now = member_hashes(payload).unwrap_or_default();
    let mut altered: Vec<String> = now
        .iter()
        .filter(|(name, hash)| recorded.get(*name) != Some(*hash))
        .map(|(name, _)| name.clone())
        .collect();
    altered.extend(recorded.keys().filter(|n| !now.contains_key(*n)).cloned());
    altered.sort();
    altered.dedup();
    altered
}

/// One link of an asset's chain as stored: its place, its hash and the previous hash it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLink {
    pub seq: u32,
    pub hash: String,
    pub prev_hash: Option<String>,
}

/// What is wrong with an asset's chain up to and including one record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("record {seq} of this asset's chain is missing")]
    Missing { seq: u32 },
    #[error("record {seq} names a previous record that is not the one before it")]
    WrongPrevious { seq: u32 },
}

/// Checks `links` (one asset's records, any order) from the first up to `upto`: every place from
/// 1 is filled once, and each record names the hash of the one before it.
pub fn chain_breaks(links: &[ChainLink], upto: u32) -> Vec<ChainBreak> {
    let mut by_seq: BTreeMap<u32, &ChainLink> = BTreeMap::new();
    for link in links {
        by_seq.insert(link.seq, link);
    }
    let mut breaks = Vec::new();
    for seq in 1..=upto {
        let Some(link) = by_seq.get(&seq) else {
            breaks.push(ChainBreak::Missing { seq });
            continue;
        };
        let expected = seq
            .checked_sub(1)
            .filter(|s| *s > 0)
            .and_then(|s| by_seq.get(&s))
            .map(|l| l.hash.as_str());
        let missing_before = seq > 1 && expected.is_none();
        if !missing_before && link.prev_hash.as_deref() != expected {
            breaks.push(ChainBreak::WrongPrevious { seq });
        }
    }
    breaks
}

/// Why an inspection's content is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectionError {
    #[error("checklist: line {0} of the template is not answered")]
    Unanswered(String),
    #[error("checklist: {0} is not a line of this asset's template")]
    UnknownLine(String),
    #[error("checklist: line {0} is answered twice")]
    AnsweredTwice(String),
    #[error("checklist: line {0} needs a photo")]
    PhotoRequired(String),
    #[error("fuel is given in eighths of a tank, 0 to 8")]
    Fuel,
    #[error("the odometer reading is at most 2,000,000 km")]
    Odometer,
    #[error("{field}: {problem}")]
    Text {
        field: &'static str,
        problem: String,
    },
    #[error("at most {0} damage marks")]
    TooManyDamages(usize),
    #[error("at most {0} photos")]
    TooManyPhotos(usize),
    #[error("the customer's signature is required for a {0} inspection")]
    CustomerSignature(InspectionKind),
}

/// Most damage marks on one record.
pub const MAX_DAMAGES: usize = 50;
/// Most photos on one record.
pub const MAX_PHOTOS: usize = 40;
/// Highest odometer reading accepted.
pub const MAX_ODOMETER_KM: u32 = 2_000_000;

/// Refuses text a printed handover record must not carry (see [`TextRule`]); the stored record
/// holds the cleaned (NFC, trimmed) form.
fn text(field: &'static str, value: &str, rule: TextRule) -> Result<(), InspectionError> {
    match rule.clean(value) {
        Ok(clean) if clean == value => Ok(()),
        Ok(_) => Err(InspectionError::Text {
            field,
            problem: "must be stored trimmed and NFC-normalised (see TextRule::clean)".to_owned(),
        }),
        Err(e) => Err(InspectionError::Text {
            field,
            problem: e.to_string(),
        }),
    }
}

/// Checks a record's content against the SKU's checklist `template`.
pub fn validate(
    record: &InspectionRecord,
    template: &[ChecklistItem],
) -> Result<(), InspectionError> {
    let mut answered = std::collections::BTreeSet::new();
    for answer in &record.checklist {
        if !template.iter().any(|item| item.key == answer.key) {
            return Err(InspectionError::UnknownLine(answer.key.clone()));
        }
        if !answered.insert(answer.key.as_str()) {
            return Err(InspectionError::AnsweredTwice(answer.key.clone()));
        }
        text("note", &answer.note, TextRule::note(500))?;
    }
    for item in template {
        if !answered.contains(item.key.as_str()) {
            return Err(InspectionError::Unanswered(item.key.clone()));
        }
        let photographed = record
            .photos
            .iter()
            .any(|p| p.checklist_key.as_deref() == Some(item.key.as_str()));
        if item.requires_photo && !photographed {
            return Err(InspectionError::PhotoRequired(item.key.clone()));
        }
    }
    if record.fuel_eighths > 8 {
        return Err(InspectionError::Fuel);
    }
    if record.odometer_km > MAX_ODOMETER_KM {
        return Err(InspectionError::Odometer);
    }
    if record.damages.len() > MAX_DAMAGES {
        return Err(InspectionError::TooManyDamages(MAX_DAMAGES));
    }
    for damage in &record.damages {
        text("damage area", &damage.area, TextRule::line(120))?;
        text("damage type", &damage.kind, TextRule::line(120))?;
        text("note", &damage.note, TextRule::note(500))?;
    }
    if record.photos.len() > MAX_PHOTOS {
        return Err(InspectionError::TooManyPhotos(MAX_PHOTOS));
    }
    if record.signatures.customer.is_none() && record.kind != InspectionKind::Transfer {
        return Err(InspectionError::CustomerSignature(record.kind));
    }
    Ok(())
}

#[cfg(test)]
#[path = "inspection/tests.rs"]
mod tests;
