//! Sync with the server: `pull` brings the branch's offline copy up to date from the feed, page
//! by page, each page applied with its cursor in one local transaction, with progress for the UI;
//! `push` sends the outbox in batches and settles each entry with the server's answer.

use sentra_api_client::ApiClient;
use sentra_protocol::{PushOutcome, PushRequest, SyncPullQuery};

use crate::{CoreError, store::Store};

/// Records asked for per page.
const PAGE: u32 = 500;
/// A feed that never ends is a server bug: stop after this many pages.
const MAX_PAGES: usize = 100_000;

/// How far a pull got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PullProgress {
    /// Pages applied so far.
    pub pages: usize,
    /// Records written so far.
    pub upserted: usize,
    /// Records removed so far.
    pub removed: usize,
    /// Still receiving the first full copy of the branch.
    pub first_copy: bool,
}

/// Pulls every waiting page for the device holding `device_token` into `store`, calling
/// `progress` after each page. A pull cut off (network, crash) resumes from the last page
/// applied: nothing is lost and nothing is applied twice in a way that matters (records are
/// whole).
pub async fn pull(
    api: &ApiClient,
    device_token: &str,
    store: &mut Store,
    mut progress: impl FnMut(PullProgress),
) -> Result<PullProgress, CoreError> {
    let mut done = PullProgress::default();
    for _ in 0..MAX_PAGES {
        let query = SyncPullQuery {
            cursor: store.cursor()?,
            limit: Some(PAGE),
        };
        let page = api.sync_pull(device_token, &query).await?;
        let applied = store.apply(&page)?;
        done.pages += 1;
        done.upserted += applied.upserted;
        done.removed += applied.removed;
        done.first_copy = page.snapshot;
        progress(done);
        if !page.has_more {
            return Ok(done);
        }
    }
    Err(CoreError::new(
        "invalid_response",
        "the server's change feed did not end",
    ))
}

/// Operations per push (the server's limit).
const BATCH: usize = 100;

/// What a push did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushSummary {
    /// Operations sent.
    pub sent: usize,
    /// Carried out by the server (now or before: a replay).
    pub applied: usize,
    /// Conflicts and rejections now waiting for the user.
    pub unsettled: usize,
}

/// Pushes the whole outbox in batches. A push cut off (network, crash) is simply done again:
/// the server carries each operation out once and answers a replay with its first result.
pub async fn push(
    api: &ApiClient,
    device_token: &str,
    store: &mut Store,
) -> Result<PushSummary, CoreError> {
    let mut summary = PushSummary::default();
    for _ in 0..MAX_PAGES {
        let operations = store.pending(BATCH)?;
        if operations.is_empty() {
            return Ok(summary);
        }
        summary.sent += operations.len();
        let results = api
            .sync_push(device_token, &PushRequest { operations })
            .await?
            .results;
        for result in &results {
            if result.outcome == PushOutcome::Applied {
                summary.applied += 1;
            } else {
                summary.unsettled += 1;
            }
        }
        store.settle(&results)?;
    }
    Err(CoreError::new("local_storage", "the outbox did not empty"))
}
