//! Asset QR labels at the counter: the signed payload comes from the server (only it holds the
//! key), the label is rendered here with the shipped template, shown as a print preview (an SVG
//! drawn from the same page as the PDF), and printed on the branch's printer, or saved as a PDF
//! when there is none.

use std::{path::Path, time::Duration};

use sentra_printing::{
    label::{AssetLabel, LabelTemplate, draw_asset_label},
    preview::page_svg,
};
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
    /// The print preview (SVG, sized in millimetres).
    pub preview_svg: String,
    pub label_version: u32,
}

/// What the print preview screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelPreview {
    pub plate: String,
    pub svg: String,
    /// The printer the label will go to (`None`: the server's default printer).
    pub printer: Option<String>,
    pub label_version: u32,
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
        let label_version = u32::try_from(payload.label_version).map_err(|_| {
            CoreError::new(
                "invalid_response",
                "the server sent a negative label version",
            )
        })?;
        let page = draw_asset_label(
            &template,
            &AssetLabel {
                payload: payload.payload,
                plate: details.plate_or_serial.clone(),
                sku_name: details.sku_name,
                branch_code: details.home_branch_code,
                label_version,
            },
        )
        .map_err(|e| CoreError::new("render_failed", e.to_string()))?;
        Ok(RenderedLabel {
            plate: details.plate_or_serial,
            pdf: page.finish(),
            preview_svg: page_svg(&page),
            label_version,
        })
    }

    /// The print preview of the label of `asset`, and where it would be printed.
    pub async fn label_preview(&self, asset: Uuid) -> Result<LabelPreview, CoreError> {
        let label = self.label(asset).await?;
        Ok(LabelPreview {
            plate: label.plate,
            svg: label.preview_svg,
            printer: self.preferences().printer.printer,
            label_version: label.label_version,
        })
    }

    /// Prints the label of `asset` on the chosen printer and follows the job to its end. With
    /// `previewed`, the label version staff saw in the preview: a label reissued since is
    /// refused (`label_changed`) rather than printed unseen.
    pub async fn print_label(
        &self,
        asset: Uuid,
        previewed: Option<u32>,
        on_status: impl FnMut(JobStatus),
    ) -> Result<Printed, CoreError> {
        let label = self.label(asset).await?;
        if previewed.is_some_and(|seen| seen != label.label_version) {
            return Err(CoreError::new(
                "label_changed",
                "the label was reissued after the preview; look at the new one first",
            ));
        }
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
