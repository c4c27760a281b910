//! Verification of an inspection record from what is stored now: the payload against its
//! recorded hash (naming the members that changed), the typed columns against the payload, every
//! photo's and signature's bytes against their SHA-256, and the asset's chain up to its newest
//! record (naming a missing or re-linked record).

use sentra_domain::{
    evidence_hash,
    inspection::{self, ChainBreak, ChainLink},
};
use sentra_protocol::{Verification, VerificationFinding};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{HandoverError, Handovers, records::hex};
use crate::kyc::vault::Wrapped;

#[derive(sqlx::FromRow)]
struct Stored {
    id: Uuid,
    asset_id: Uuid,
    payload: Value,
    member_hashes: Value,
    tamper_proof_hash: String,
    prev_hash: Option<String>,
    seq: i32,
    odometer_km: i32,
    fuel_eighths: i16,
    kind: String,
    branch_id: Uuid,
    booking_id: Option<Uuid>,
    corrects: Option<Uuid>,
    damage_count: i32,
    inspector_id: Uuid,
    device_id: Option<Uuid>,
    recorded_at: chrono::DateTime<chrono::Utc>,
}

fn finding(
    code: &str,
    subject: impl Into<String>,
    detail: impl Into<String>,
) -> VerificationFinding {
    VerificationFinding {
        code: code.to_owned(),
        subject: subject.into(),
        detail: detail.into(),
    }
}

impl Handovers {
    /// The record with this hash (the verify page's lookup).
    pub async fn inspection_id_by_hash(&self, hash: &str) -> Result<Option<Uuid>, HandoverError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM inspections WHERE tamper_proof_hash = $1")
                .bind(hash)
                .fetch_optional(&self.db)
                .await?,
        )
    }

    /// Recomputes record `id` from what is stored now and names everything that differs.
    pub async fn verify(&self, id: Uuid) -> Result<Verification, HandoverError> {
        let stored: Stored = sqlx::query_as(
            "SELECT id, asset_id, payload, member_hashes, tamper_proof_hash, prev_hash, seq, \
                    odometer_km, fuel_eighths, kind, branch_id, booking_id, corrects, damage_count, \
                    inspector_id, device_id, recorded_at FROM inspections WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db)
        .await?
        .ok_or(HandoverError::NotFound("Inspection"))?;
        let mut findings = Vec::new();
        let recomputed = evidence_hash(&stored.payload)
            .map(|h| h.to_hex())
            .unwrap_or_default();
        if recomputed != stored.tamper_proof_hash {
            let recorded: std::collections::BTreeMap<String, String> =
                serde_json::from_value(stored.member_hashes.clone()).unwrap_or_default();
            let altered = inspection::altered_members(&stored.payload, &recorded);
            if altered.is_empty() {
                findings.push(finding(
                    "payload_altered",
                    "record",
                    "the stored record no longer matches its hash",
                ));
            }
            for member in altered {
                findings.push(finding(
                    "payload_altered",
                    member.clone(),
                    format!("{member} was changed after the record was made"),
                ));
            }
        }
        Self::columns(&stored, &mut findings);
        let files_checked = self.files(&stored.payload, &mut findings).await?;
        self.chain(&stored, &mut findings).await?;
        Ok(Verification {
            inspection_id: stored.id,
            tamper_proof_hash: stored.tamper_proof_hash,
            recomputed_hash: recomputed,
            verified: findings.is_empty(),
            files_checked,
            findings,
        })
    }

    /// The typed columns repeat payload members: they must agree.
    fn columns(stored: &Stored, findings: &mut Vec<VerificationFinding>) {
        let payload = &stored.payload;
        let id = |v: Option<Uuid>| v.map_or(Value::Null, |v| Value::from(v.to_string()));
        let damages = payload
            .get("damages")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let checks = [
            ("odometer_km", Value::from(stored.odometer_km)),
            ("fuel_eighths", Value::from(stored.fuel_eighths)),
            ("kind", Value::from(stored.kind.clone())),
            ("seq", Value::from(stored.seq)),
            ("asset_id", Value::from(stored.asset_id.to_string())),
            ("branch_id", Value::from(stored.branch_id.to_string())),
            ("booking_id", id(stored.booking_id)),
            ("corrects", id(stored.corrects)),
            ("inspector_id", Value::from(stored.inspector_id.to_string())),
            ("device_id", id(stored.device_id)),
            (
                "recorded_at",
                Value::from(inspection::record_time(stored.recorded_at)),
            ),
            (
                "prev_hash",
                stored.prev_hash.clone().map_or(Value::Null, Value::from),
            ),
        ];
        if usize::try_from(stored.damage_count).ok() != Some(damages) {
            findings.push(finding(
                "column_differs",
                "damages",
                format!(
                    "the record has {damages} damage marks, the table says {}",
                    stored.damage_count
                ),
            ));
        }
        for (member, column) in checks {
            let in_payload = payload.get(member).cloned().unwrap_or(Value::Null);
            if in_payload != column {
                findings.push(finding(
                    "column_differs",
                    member,
                    format!("the record says {in_payload}, the table says {column}"),
                ));
            }
        }
    }

    /// Reads every photo and signature the payload names and checks its SHA-256.
    async fn files(
        &self,
        payload: &Value,
        findings: &mut Vec<VerificationFinding>,
    ) -> Result<u32, HandoverError> {
        let mut checked = 0;
        let photos = payload
            .get("photos")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (index, photo) in photos.iter().enumerate() {
            let subject = format!("photos[{index}]");
            let (key, expected) = file_ref(photo);
            let mut hasher = Sha256::new();
            let size = self
                .storage
                .read_each(&key, |chunk| hasher.update(chunk))
                .await?;
            checked += 1;
            match size {
                None => findings.push(finding(
                    "photo_missing",
                    subject,
                    format!("the photo {key} is gone from storage"),
                )),
                Some(_) if hex(&hasher.finalize()) != expected => findings.push(finding(
                    "photo_altered",
                    subject,
                    format!("the bytes of the photo {key} differ from those recorded"),
                )),
                Some(_) => {}
            }
        }
        let signatures = payload.get("signatures").cloned().unwrap_or(Value::Null);
        for who in ["customer", "staff"] {
            let Some(signature) = signatures.get(who).filter(|s| !s.is_null()) else {
                continue;
            };
            let subject = format!("signatures.{who}");
            let (key, expected) = file_ref(signature);
            checked += 1;
            match self.signature_bytes(&key).await? {
                None => findings.push(finding(
                    "signature_missing",
                    subject,
                    format!("the {who}'s signature is gone from storage"),
                )),
                Some(None) => findings.push(finding(
                    "signature_altered",
                    subject,
                    format!(
                        "the {who}'s stored signature no longer decrypts: its bytes were changed"
                    ),
                )),
                Some(Some(plain)) if super::records::sha256_hex(&plain) != expected => {
                    findings.push(finding(
                        "signature_altered",
                        subject,
                        format!("the {who}'s signature differs from the one recorded"),
                    ));
                }
                Some(Some(_)) => {}
            }
        }
        Ok(checked)
    }

    /// A signature's plain bytes: `None` when it is gone (object or key), `Some(None)` when its
    /// stored bytes no longer decrypt (altered).
    async fn signature_bytes(&self, key: &str) -> Result<Option<Option<Vec<u8>>>, HandoverError> {
        let wrapped: Option<(Option<Vec<u8>>, Option<String>, i16)> =
            sqlx::query_as("SELECT wrapped_key, key_id, format FROM uploads WHERE object_key = $1")
                .bind(key)
                .fetch_optional(&self.db)
                .await?;
        let Some((Some(wrapped_key), Some(key_id), format)) = wrapped else {
            return Ok(None);
        };
        let Some(ciphertext) = self.storage.get(key).await? else {
            return Ok(None);
        };
        let wrapped = Wrapped {
            wrapped_key: &wrapped_key,
            key_id: &key_id,
            format,
        };
        Ok(Some(
            self.vault
                .open(key, wrapped, &ciphertext)
                .ok()
                .map(|plain| plain.to_vec()),
        ))
    }

    /// The asset's chain from its first record to its newest.
    async fn chain(
        &self,
        stored: &Stored,
        findings: &mut Vec<VerificationFinding>,
    ) -> Result<(), HandoverError> {
        let rows: Vec<(i32, String, Option<String>)> = sqlx::query_as(
            "SELECT seq, tamper_proof_hash, prev_hash FROM inspections WHERE asset_id = $1 ORDER BY seq",
        )
        .bind(stored.asset_id)
        .fetch_all(&self.db)
        .await?;
        let links: Vec<ChainLink> = rows
            .into_iter()
            .map(|(seq, hash, prev_hash)| ChainLink {
                seq: u32::try_from(seq).unwrap_or(0),
                hash,
                prev_hash,
            })
            .collect();
        let newest = links.iter().map(|l| l.seq).max().unwrap_or(0);
        for broken in inspection::chain_breaks(&links, newest) {
            let (code, seq) = match broken {
                ChainBreak::Missing { seq } => ("record_missing", seq),
                ChainBreak::WrongPrevious { seq } => ("chain_broken", seq),
            };
            findings.push(finding(code, format!("seq {seq}"), broken.to_string()));
        }
        Ok(())
    }
}

fn file_ref(value: &Value) -> (String, String) {
    let text = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (text("object_key"), text("sha256"))
}
