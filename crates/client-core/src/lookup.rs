//! What a scan opens. Online, the server answers (`POST /api/v1/scans`): it checks the code's
//! signature and that an asset label is the asset's current one. Offline, the branch's copy
//! answers: the booking or asset must be in it, and an asset label must carry the version the
//! copy holds (a replaced label is refused). The copy cannot check signatures (it holds no
//! key), which the screen says.

use sentra_api_client::ApiClient;
use sentra_protocol::{Asset, Booking, CounterCustomer, ScanRequest};
use serde::Serialize;

use crate::{CoreError, scanner::ScanTarget, store::Store};

/// The screen a scan opens, with what it shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "screen", rename_all = "snake_case")]
pub enum Opened {
    Booking {
        booking: Booking,
        /// The customer's counter fields (from the offline copy).
        customer: Option<CounterCustomer>,
        /// Read from the offline copy, not confirmed by the server.
        offline: bool,
    },
    Asset {
        asset: Asset,
        offline: bool,
    },
    /// A printed document's verify link: the record's hash, checked on the verify screen
    /// against this app's own server (the link's host is never opened).
    Verify {
        hash: String,
    },
}

impl Opened {
    /// Whether this answer came from the offline copy (not yet checked by the server).
    pub fn is_offline(&self) -> bool {
        match self {
            Opened::Booking { offline, .. } | Opened::Asset { offline, .. } => *offline,
            Opened::Verify { .. } => false,
        }
    }
}

/// Looks the scan up in the offline copy.
pub fn open_offline(store: &Store, target: &ScanTarget) -> Result<Opened, CoreError> {
    match target {
        ScanTarget::Booking { id, .. } => {
            let found = store.booking(*id)?.ok_or_else(|| {
                CoreError::new(
                    "not_in_offline_copy",
                    "this booking is not in this branch's offline copy",
                )
            })?;
            Ok(Opened::Booking {
                booking: found.booking,
                customer: found.customer,
                offline: true,
            })
        }
        ScanTarget::Asset {
            id, label_version, ..
        } => {
            let asset = store.asset(*id)?.ok_or_else(|| {
                CoreError::new(
                    "not_in_offline_copy",
                    "this asset is not in this branch's offline copy",
                )
            })?;
            let scanned = i64::from(*label_version);
            let current = i64::from(asset.label_version);
            if scanned > current {
                // Re-issued after the last sync: only the server can tell.
                return Err(CoreError::new(
                    "offline_copy_stale",
                    "this label is newer than the offline copy; the server must check it",
                ));
            }
            if scanned < current {
                return Err(CoreError::new(
                    "invalid_label",
                    format!(
                        "this label (version {label_version}) was replaced by a newer one (version {})",
                        asset.label_version
                    ),
                ));
            }
            Ok(Opened::Asset {
                asset,
                offline: true,
            })
        }
        ScanTarget::Verify { hash } => Ok(Opened::Verify { hash: hash.clone() }),
    }
}

/// Asks the server what the scan names (`api` carries the staff token).
pub async fn open_online(api: &ApiClient, target: &ScanTarget) -> Result<Opened, CoreError> {
    let payload = match target {
        ScanTarget::Booking { payload, .. } | ScanTarget::Asset { payload, .. } => payload,
        ScanTarget::Verify { hash } => return Ok(Opened::Verify { hash: hash.clone() }),
    };
    let found = api
        .scan(&ScanRequest {
            payload: payload.clone(),
        })
        .await?;
    match (found.booking, found.asset) {
        (Some(booking), _) => Ok(Opened::Booking {
            booking,
            customer: None,
            offline: false,
        }),
        (None, Some(asset)) => Ok(Opened::Asset {
            asset,
            offline: false,
        }),
        (None, None) => Err(CoreError::new(
            "invalid_response",
            "the server named neither a booking nor an asset",
        )),
    }
}
