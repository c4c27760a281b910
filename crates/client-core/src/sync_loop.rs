//! Keeping the offline copy fresh in the background: a sync round (push the outbox, then pull
//! the feed) every interval, at once when asked ("sync now", a local change), and after a
//! failure again with exponential back-off, so a server that is down is not hammered and the
//! counter sees when the next try is. Events go to the UI as they happen.

use std::{future::Future, time::Duration};

use serde::Serialize;
use tokio::sync::{Notify, watch};

use sentra_api_client::ApiClient;

use crate::{
    CoreError,
    store::Store,
    sync::{PullProgress, pull, push},
};

/// Delays after consecutive failures: `base`, 2×, 4×, … capped at `cap`; a success resets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Default for Backoff {
    /// 2 s, 4 s, 8 s … at most 5 minutes.
    fn default() -> Self {
        Self::new(Duration::from_secs(2), Duration::from_mins(5))
    }
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap,
            failures: 0,
        }
    }

    /// Records a failure; returns how long to wait before the next try.
    pub fn failed(&mut self) -> Duration {
        let factor = 2_u32.saturating_pow(self.failures.min(20));
        self.failures = self.failures.saturating_add(1);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// Records a success.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RoundReport {
    pub pushed: usize,
    pub pulled: usize,
    /// Outbox entries still waiting (new ones written during the round).
    pub pending: usize,
    /// Conflicts and rejections waiting for the user.
    pub unsettled: usize,
}

/// What the UI is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    /// A round started.
    Started,
    /// Pages of the feed applied so far in this round.
    Pulling {
        pages: usize,
        records: usize,
        first_copy: bool,
    },
    /// The round finished.
    Synced(RoundReport),
    /// The round failed; the next try is in `retry_in_secs` (the UI shows the offline banner).
    Offline {
        code: String,
        message: String,
        retry_in_secs: u64,
    },
}

impl SyncEvent {
    /// The progress event for a pull's progress.
    pub fn pulling(progress: PullProgress) -> Self {
        Self::Pulling {
            pages: progress.pages,
            records: progress.upserted + progress.removed,
            first_copy: progress.first_copy,
        }
    }
}

/// One round for the device holding `device_token`: the outbox first (the server decides on
/// what the counter did offline), then the feed, with progress events.
pub async fn round(
    api: &ApiClient,
    device_token: &str,
    store: &mut Store,
    mut on_event: impl FnMut(SyncEvent),
) -> Result<RoundReport, CoreError> {
    let pushed = push(api, device_token, store).await?;
    let pulled = pull(api, device_token, store, |p| {
        on_event(SyncEvent::pulling(p));
    })
    .await?;
    Ok(RoundReport {
        pushed: pushed.sent,
        pulled: pulled.upserted + pulled.removed,
        pending: store.pending_count()?,
        unsettled: store.unsettled()?.len(),
    })
}

/// Runs `round` every `interval` until `stop` turns true, at once when `wake` is notified,
/// backing off after failures. A failure that no retry can fix (`device_revoked`,
/// `session_ended`) ends the loop and is returned.
pub async fn run<F, Fut>(
    mut round: F,
    interval: Duration,
    mut backoff: Backoff,
    wake: &Notify,
    mut stop: watch::Receiver<bool>,
    mut on_event: impl FnMut(SyncEvent),
) -> Option<CoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<RoundReport, CoreError>>,
{
    loop {
        if *stop.borrow() {
            return None;
        }
        on_event(SyncEvent::Started);
        let wait = match round().await {
            Ok(report) => {
                backoff.succeeded();
                on_event(SyncEvent::Synced(report));
                interval
            }
            Err(err) if is_final(&err) => return Some(err),
            Err(err) => {
                let delay = backoff.failed();
                on_event(SyncEvent::Offline {
                    code: err.code,
                    message: err.message,
                    retry_in_secs: delay.as_secs(),
                });
                delay
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
            changed = stop.changed() => if changed.is_err() {
                // Nobody can stop the loop any more: its owner is gone, so end it.
                return None;
            }
        }
    }
}

/// [`run`], with the first round held back until `first_wait` has passed or someone asks for
/// it (`wake`), whichever comes first. At start the window is drawing its first screen: the
/// round then waits for the screen to listen and ask, instead of competing with it for the CPU.
pub async fn run_after<F, Fut>(
    first_wait: Duration,
    round: F,
    interval: Duration,
    backoff: Backoff,
    wake: &Notify,
    mut stop: watch::Receiver<bool>,
    on_event: impl FnMut(SyncEvent),
) -> Option<CoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<RoundReport, CoreError>>,
{
    tokio::select! {
        () = tokio::time::sleep(first_wait) => {}
        () = wake.notified() => {}
        changed = stop.changed() => if changed.is_err() {
            return None;
        }
    }
    run(round, interval, backoff, wake, stop, on_event).await
}

/// Failures that waiting does not fix: the user must act (log in, register the PC again).
fn is_final(err: &CoreError) -> bool {
    matches!(
        err.code.as_str(),
        "device_revoked" | "device_not_registered" | "session_ended" | "not_signed_in"
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_and_resets_on_success() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..10).map(|_| backoff.failed().as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        backoff.succeeded();
        assert_eq!(backoff.failed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_down_server_is_retried_with_growing_gaps_then_synced_and_a_revoked_device_stops() {
        let calls = Arc::new(Mutex::new(0_u32));
        let counter = Arc::clone(&calls);
        let round = move || {
            let counter = Arc::clone(&counter);
            async move {
                let n = {
                    let mut calls = counter.lock().expect("lock");
                    *calls += 1;
                    *calls
                };
                match n {
                    1..=3 => Err(CoreError::new("server_unreachable", "down")),
                    4 => Ok(RoundReport {
                        pushed: 2,
                        ..RoundReport::default()
                    }),
                    _ => Err(CoreError::new("device_revoked", "HQ revoked this PC")),
                }
            }
        };
        let wake = Notify::new();
        let (_stop_tx, stop) = watch::channel(false);
        let mut events = Vec::new();
        let started = tokio::time::Instant::now();
        let ended = run(
            round,
            Duration::from_secs(30),
            Backoff::default(),
            &wake,
            stop,
            |e| events.push(e),
        )
        .await;
        assert_eq!(ended.map(|e| e.code).as_deref(), Some("device_revoked"));
        let retries: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                SyncEvent::Offline { retry_in_secs, .. } => Some(*retry_in_secs),
                _ => None,
            })
            .collect();
        assert_eq!(retries, [2, 4, 8], "the banner shows when the next try is");
        // It really waited: 2 + 4 + 8 s of back-off, then the 30 s interval after the success.
        assert_eq!(started.elapsed().as_secs(), 2 + 4 + 8 + 30);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, SyncEvent::Synced(r) if r.pushed == 2))
        );
        assert_eq!(*calls.lock().expect("lock"), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn sync_now_wakes_the_loop_and_stop_ends_it() {
        let round = || async { Ok(RoundReport::default()) };
        let wake = Arc::new(Notify::new());
        let (stop_tx, stop) = watch::channel(false);
        let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel();
        let waker = Arc::clone(&wake);
        let looping = tokio::spawn(async move {
            run(
                round,
                Duration::from_hours(1),
                Backoff::default(),
                &waker,
                stop,
                |e| {
                    let _ = events_tx.send(e);
                },
            )
            .await
        });
        let started = tokio::time::Instant::now();
        let synced = |e: &SyncEvent| matches!(e, SyncEvent::Synced(_));
        while !synced(&events.recv().await.expect("the first round")) {}
        wake.notify_one();
        while !synced(&events.recv().await.expect("a second round")) {}
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "sync now ran the round without waiting the hour"
        );
        stop_tx.send(true).expect("the loop listens");
        assert!(looping.await.expect("join").is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_round_waits_for_the_screen_to_ask_or_for_its_time() {
        let rounds = Arc::new(Mutex::new(Vec::new()));
        let start = tokio::time::Instant::now();
        let spawn = |wake: Arc<Notify>| {
            let rounds = Arc::clone(&rounds);
            let (stop_tx, stop) = watch::channel(false);
            let task = tokio::spawn(async move {
                let round = move || {
                    rounds.lock().expect("lock").push(start.elapsed());
                    async { Ok(RoundReport::default()) }
                };
                run_after(
                    Duration::from_secs(2),
                    round,
                    Duration::from_hours(1),
                    Backoff::default(),
                    &wake,
                    stop,
                    |_| {},
                )
                .await
            });
            (stop_tx, task)
        };
        // Nobody asks: the first round runs after the wait.
        let (stop_tx, task) = spawn(Arc::new(Notify::new()));
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(*rounds.lock().expect("lock"), [Duration::from_secs(2)]);
        stop_tx.send(true).expect("listening");
        assert!(task.await.expect("join").is_none());

        // The screen asks (before the loop even waits): the round runs at once.
        rounds.lock().expect("lock").clear();
        let wake = Arc::new(Notify::new());
        wake.notify_one();
        let asked = start.elapsed();
        let (stop_tx, task) = spawn(wake);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(*rounds.lock().expect("lock"), [asked]);
        stop_tx.send(true).expect("listening");
        assert!(task.await.expect("join").is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_loop_whose_owner_is_gone_ends_instead_of_spinning() {
        let wake = Notify::new();
        let (stop_tx, stop) = watch::channel(false);
        drop(stop_tx);
        let round = || async { Ok(RoundReport::default()) };
        let ended = tokio::time::timeout(
            Duration::from_secs(5),
            run(
                round,
                Duration::from_secs(30),
                Backoff::default(),
                &wake,
                stop,
                |_| {},
            ),
        )
        .await;
        assert_eq!(ended.ok(), Some(None), "ended at once");
    }
}
