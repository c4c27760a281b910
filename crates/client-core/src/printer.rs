//! The branch printer: listing printers, sending a PDF and following the job to its end, over
//! IPP (the `ipp` crate). On Linux and macOS that is the local CUPS scheduler
//! (`http://127.0.0.1:631`, or another CUPS server); an IPP Everywhere printer can be addressed
//! directly. With no printer, the document can still be saved as a PDF ([`save_pdf`]).

use std::{
    path::Path,
    time::{Duration, Instant},
};

use ipp::prelude::*;
use serde::{Deserialize, Serialize};

use crate::CoreError;

/// Where the app prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterSettings {
    /// The CUPS (or IPP) server.
    pub server: String,
    /// The chosen queue; `None` uses the server's default printer.
    pub printer: Option<String>,
}

impl Default for PrinterSettings {
    fn default() -> Self {
        Self {
            server: "http://127.0.0.1:631".to_owned(),
            printer: None,
        }
    }
}

/// A printer for the settings screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrinterInfo {
    pub name: String,
    /// Human description set by whoever installed it.
    pub info: Option<String>,
    pub state: PrinterStatus,
    pub accepting_jobs: bool,
}

/// What a printer is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterStatus {
    Idle,
    Printing,
    Stopped,
}

/// Where a print job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Waiting,
    Held,
    Printing,
    /// The printer stopped mid-job (out of paper, offline): it resumes when fixed.
    Stopped,
    Completed,
    Canceled,
    Aborted,
}

impl JobStatus {
    /// Whether the job will change no more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Canceled | Self::Aborted)
    }
}

/// A document to print.
#[derive(Debug, Clone)]
pub struct PrintJob {
    /// Shown in the printer's queue (`SJ-2026-0042`, `Label B 1234 XYZ`).
    pub title: String,
    /// Who prints (the staff member's e-mail).
    pub user: String,
    pub pdf: Vec<u8>,
}

/// The printers the server offers, the default one first.
pub async fn printers(server: &str) -> Result<Vec<PrinterInfo>, CoreError> {
    let uri = server_uri(server)?;
    let client = client(uri.clone());
    let answer = match send(&client, IppOperationBuilder::cups().get_printers()).await {
        Ok(answer) => answer,
        // CUPS answers "not found" when it has no printer at all.
        Err(err) if err.code == "printer_not_found" => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let default = server_default(&client).await;
    let mut found: Vec<PrinterInfo> = answer
        .attributes()
        .groups_of(DelimiterTag::PrinterAttributes)
        .filter_map(|group| {
            let name = group.get("printer-name")?.value().to_string();
            Some(PrinterInfo {
                info: group
                    .get("printer-info")
                    .map(|a| a.value().to_string())
                    .filter(|s| !s.is_empty()),
                state: match group.get("printer-state").map(IppAttribute::value) {
                    Some(IppValue::Enum(4)) => PrinterStatus::Printing,
                    Some(IppValue::Enum(5)) => PrinterStatus::Stopped,
                    _ => PrinterStatus::Idle,
                },
                accepting_jobs: !matches!(
                    group
                        .get("printer-is-accepting-jobs")
                        .map(IppAttribute::value),
                    Some(IppValue::Boolean(false))
                ),
                name,
            })
        })
        .collect();
    found.sort_by_key(|p| (Some(&p.name) != default.as_ref(), p.name.clone()));
    Ok(found)
}

/// Sends `job` to the chosen printer (see [`PrinterSettings::printer`]); returns the job id.
pub async fn print_pdf(settings: &PrinterSettings, job: &PrintJob) -> Result<i32, CoreError> {
    let uri = printer_uri(settings).await?;
    send_job(&uri, job).await
}

/// Where job `job_id` is.
pub async fn job_status(settings: &PrinterSettings, job_id: i32) -> Result<JobStatus, CoreError> {
    status_of(&printer_uri(settings).await?, job_id).await
}

/// Prints and follows the job until it ends or `limit` passes, reporting each change of
/// status. An aborted or canceled job is an error the user sees (`print_failed`); the print
/// server not answering for a moment while following is waited out (the job is queued: sending
/// it again would print it twice).
pub async fn print_and_follow(
    settings: &PrinterSettings,
    job: &PrintJob,
    limit: Duration,
    mut progress: impl FnMut(JobStatus),
) -> Result<i32, CoreError> {
    let uri = printer_uri(settings).await?;
    let id = send_job(&uri, job).await?;
    let started = Instant::now();
    let mut last = None;
    loop {
        match status_of(&uri, id).await {
            Ok(status) => {
                if last != Some(status) {
                    progress(status);
                    last = Some(status);
                }
                match status {
                    JobStatus::Completed => return Ok(id),
                    JobStatus::Canceled | JobStatus::Aborted => {
                        return Err(CoreError::new(
                            "print_failed",
                            format!("the printer {status:?} job {id}").to_lowercase(),
                        ));
                    }
                    _ => {}
                }
            }
            Err(err) if err.code == "printer_unreachable" => {}
            Err(err) => return Err(err),
        }
        if started.elapsed() > limit {
            return Err(CoreError::new(
                "print_slow",
                format!("job {id} did not finish within {limit:?}; it stays queued"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn send_job(uri: &Uri, job: &PrintJob) -> Result<i32, CoreError> {
    let operation = IppOperationBuilder::print_job(
        uri.clone(),
        IppPayload::new(std::io::Cursor::new(job.pdf.clone())),
    )
    .user_name(job.user.as_str())
    .job_title(job.title.as_str())
    .document_format("application/pdf")
    .build()
    .map_err(|e| CoreError::new("invalid_request", e.to_string()))?;
    let answer = send(&client(uri.clone()), operation).await?;
    integer_of(&answer, DelimiterTag::JobAttributes, "job-id")
        .ok_or_else(|| CoreError::new("printer_refused", "the printer gave the job no id"))
}

async fn status_of(uri: &Uri, job_id: i32) -> Result<JobStatus, CoreError> {
    let operation = IppOperationBuilder::get_job_attributes(uri.clone(), job_id)
        .build()
        .map_err(|e| CoreError::new("invalid_request", e.to_string()))?;
    let answer =
        send(&client(uri.clone()), operation)
            .await
            .map_err(|err| match err.code.as_str() {
                "printer_not_found" => CoreError::new(
                    "print_job_unknown",
                    format!("the print server no longer knows job {job_id}"),
                ),
                _ => err,
            })?;
    Ok(
        match integer_of(&answer, DelimiterTag::JobAttributes, "job-state") {
            Some(3) => JobStatus::Waiting,
            Some(4) => JobStatus::Held,
            Some(5) => JobStatus::Printing,
            Some(6) => JobStatus::Stopped,
            Some(7) => JobStatus::Canceled,
            Some(8) => JobStatus::Aborted,
            Some(9) => JobStatus::Completed,
            _ => {
                return Err(CoreError::new(
                    "printer_refused",
                    "the printer did not say where the job is",
                ));
            }
        },
    )
}

/// Saves `pdf` at `path` whole or not at all (written beside it, then renamed).
pub fn save_pdf(path: &Path, pdf: &[u8]) -> Result<(), CoreError> {
    let fail =
        |e: std::io::Error| CoreError::new("save_failed", format!("{}: {e}", path.display()));
    crate::files::write_whole(path, pdf).map_err(fail)?;
    // A saved document is for people (e-mail, a shared folder): readable like any new file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).map_err(fail)?;
    }
    Ok(())
}

async fn printer_uri(settings: &PrinterSettings) -> Result<Uri, CoreError> {
    let name = if let Some(name) = &settings.printer {
        name.clone()
    } else {
        chosen_for_us(&settings.server).await?
    };
    let base = settings.server.trim_end_matches('/');
    format!("{base}/printers/{name}")
        .parse()
        .map_err(|_| CoreError::new("invalid_printer", format!("{name:?} is not a printer name")))
}

/// The server's default printer, or the only one there is; never a guess.
async fn chosen_for_us(server: &str) -> Result<String, CoreError> {
    if let Some(name) = server_default(&client(server_uri(server)?)).await {
        return Ok(name);
    }
    match printers(server).await?.as_slice() {
        [only] => Ok(only.name.clone()),
        [] => Err(no_printer()),
        _ => Err(CoreError::new(
            "printer_not_chosen",
            "several printers and no default: choose one in the settings",
        )),
    }
}

fn server_uri(server: &str) -> Result<Uri, CoreError> {
    format!("{}/", server.trim_end_matches('/'))
        .parse()
        .map_err(|_| {
            CoreError::new(
                "invalid_printer",
                format!("{server:?} is not a server address"),
            )
        })
}

fn client(uri: Uri) -> AsyncIppClient {
    AsyncIppClient::builder(uri)
        .request_timeout(Duration::from_secs(20))
        .build()
}

fn not_found() -> CoreError {
    CoreError::new(
        "printer_not_found",
        "the chosen printer is not on the print server (removed or renamed): choose another",
    )
}

/// The print server's default printer, if it has one.
async fn server_default(client: &AsyncIppClient) -> Option<String> {
    let request =
        IppRequestResponse::new(IppVersion::v1_1(), Operation::CupsGetDefault, None).ok()?;
    let answer = send(client, request).await.ok()?;
    answer
        .attributes()
        .first_of(DelimiterTag::PrinterAttributes)?
        .get("printer-name")
        .map(|a| a.value().to_string())
}

fn no_printer() -> CoreError {
    CoreError::new(
        "no_printer",
        "no printer is set up; the document can still be saved as a PDF",
    )
}

async fn send(
    client: &AsyncIppClient,
    operation: impl Into<IppRequestResponse>,
) -> Result<IppRequestResponse, CoreError> {
    let answer = client.send(operation).await.map_err(|err| match err {
        IppError::AsyncClientError(_) | IppError::IoError(_) => CoreError::new(
            "printer_unreachable",
            format!("the print server cannot be reached: {err}"),
        ),
        IppError::RequestError(404) => not_found(),
        other => CoreError::new("printer_refused", other.to_string()),
    })?;
    match answer.header().status_code() {
        status if status.is_success() => Ok(answer),
        StatusCode::ClientErrorNotFound => Err(not_found()),
        status => Err(CoreError::new(
            "printer_refused",
            format!("the printer refused the job: {status}"),
        )),
    }
}

fn integer_of(answer: &IppRequestResponse, tag: DelimiterTag, name: &str) -> Option<i32> {
    match answer.attributes().first_of(tag)?.get(name)?.value() {
        IppValue::Integer(v) | IppValue::Enum(v) => Some(*v),
        _ => None,
    }
}

#[cfg(test)]
#[path = "printer_tests.rs"]
mod tests;
