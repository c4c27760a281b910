//! Asset QR labels at the counter: the signed payload comes from the server (only it holds the
//! key), the label is rendered here with the shipped template and printed on the branch's
//! printer, or saved as a PDF when there is none.

use std::{path::Path, time::Duration};

use sentra_printing::label::{AssetLabel, LabelTemplate, render_asset_label};
use serde::Serialize;
use uuid::Uuid;

use super::Counter;
use crate::{
    CoreError,
    printer::{self, JobStatus, PrintJob},
};

/// How long a print job is followed before the app stops waiting (it stays queued).
const FOLLOW_LIMIT: Duration = Duration::from_mins(2);

/// A rendered label.
#[derive(Debug, Clone)]
pub struct RenderedLabel {
    pub plate: String,
    pub pdf: Vec<u8>,
}

/// A finished print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Printed {
    pub job_id: i32,
    pub status: JobStatus,
}

impl Counter {
    /// Renders the current label of `asset` (needs the server for the signed payload).
    pub async fn label(&self, asset: Uuid) -> Result<RenderedLabel, CoreError> {
        let api = self.signed_api().await?;
        let details = api.asset(asset).await?;
        let payload = api.label(asset).await?;
        let template =
            LabelTemplate::shipped().map_err(|e| CoreError::new("render_failed", e.to_string()))?;
        let pdf = render_asset_label(
            &template,
            &AssetLabel {
                payload: payload.payload,
                plate: details.plate_or_serial.clone(),
                sku_name: details.sku_name,
                branch_code: details.home_branch_code,
                label_version: u32::try_from(payload.label_version).map_err(|_| {
                    CoreError::new(
                        "invalid_response",
                        "the server sent a negative label version",
                    )
                })?,
            },
        )
        .map_err(|e| CoreError::new("render_failed", e.to_string()))?;
        Ok(RenderedLabel {
            plate: details.plate_or_serial,
            pdf,
        })
    }

    /// Prints the label of `asset` on the chosen printer and follows the job to its end.
    pub async fn print_label(
        &self,
        asset: Uuid,
        on_status: impl FnMut(JobStatus),
    ) -> Result<Printed, CoreError> {
        let label = self.label(asset).await?;
        let settings = self.preferences().printer;
        let user = self
            .session
            .lock()
            .await
            .signed_in()
            .map_or_else(|| "sentra-desktop".to_owned(), |who| who.email.clone());
        let job = PrintJob {
            title: format!("Label {}", label.plate),
            user,
            pdf: label.pdf,
        };
        let job_id = printer::print_and_follow(&settings, &job, FOLLOW_LIMIT, on_status).await?;
        Ok(Printed {
            job_id,
            status: JobStatus::Completed,
        })
    }

    /// Saves the label of `asset` as a PDF at `path`.
    pub async fn save_label(&self, asset: Uuid, path: &Path) -> Result<(), CoreError> {
        let label = self.label(asset).await?;
        printer::save_pdf(path, &label.pdf)
    }
}
