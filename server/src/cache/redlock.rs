//! Redlock across N independent Redis nodes: a per-asset lease that makes concurrent booking
//! attempts of one asset queue instead of piling into Postgres.
//!
//! **Why our own module, not `rslock`.** rslock 0.10 fits the algorithm, but: its guard does not
//! release on drop (issue #30, by design), it has no per-node time limit (a hung node stalls the
//! whole acquisition for redis-rs's defaults), and it offers no fencing token. We need a bounded
//! per-node wait, a busy/unavailable distinction (busy → 409 with a retry hint; unavailable → go on
//! without the lock, since Postgres decides), and explicit release right after commit. The
//! algorithm is short, so it lives here with its tests.
//!
//! **Released on every exit.** [`Redlock::acquire_guarded`] returns a [`LeaseGuard`]: released
//! explicitly after commit, or, when its holder ends any other way (the request's time limit, a
//! client that disconnects, a panic), by a release its `Drop` spawns. Against a crash it holds the
//! key with a short TTL (a slice) that a watchdog renews while the holder lives, up to the
//! configured upper bound: a dead process leaves the lock for at most one slice.
//!
//! **What the lock is not.** It is an efficiency lock. A holder paused past the TTL loses mutual
//! exclusion; correctness never depends on it: the Postgres exclusion constraint and the
//! compare-and-set on `hold_token` are the fences.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::future::join_all;
use rand::Rng;

use super::RedisHandle;

/// Deletes the key only if it still holds our token.
const RELEASE: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// Sets a new TTL only if the key still holds our token.
const EXTEND: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0";

/// How long a busy lock is expected to stay busy: holders keep it for one booking transaction
/// (milliseconds), and `acquire` already waited through its retries. Busy callers are told to
/// come back after this long.
pub const EXPECTED_WAIT: Duration = Duration::from_secs(1);

/// Retry policy of [`Redlock::acquire`].
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// Base pause between attempts; a random jitter of up to the same length is added.
    pub delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 40,
            delay: Duration::from_millis(10),
        }
    }
}

/// Whether a busy lock is waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockWait {
    /// Retry as the [`RetryPolicy`] says (a customer who asked for this one asset).
    Retry,
    /// One round: answer `Busy` at once (a booking by SKU has other units to try).
    Once,
}

/// A held lock. Release it with [`Redlock::release`]; otherwise it lapses after its TTL.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The locked key.
    pub resource: String,
    /// Random value only this holder knows.
    pub token: String,
    /// Until when mutual exclusion holds (TTL minus elapsed time minus clock drift).
    pub valid_until: Instant,
}

/// Why a lock was not acquired.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// Someone else holds it; the caller may retry after this long (the expected wait, not the
    /// holder's TTL: holders release right after their transaction).
    #[error("the lock is held by someone else")]
    Busy { retry_after: Duration },
    /// Too few nodes answered to reach a quorum.
    #[error("too few lock nodes answered ({answered} of {nodes})")]
    Unavailable { answered: usize, nodes: usize },
}

/// The lock manager.
#[derive(Debug)]
pub struct Redlock {
    nodes: Vec<RedisHandle>,
    retry: RetryPolicy,
    /// Longest wait for one node's answer; a slow node counts as a failed one.
    node_timeout: Duration,
    /// The release script, hashed once (redis-rs sends EVALSHA and loads it when missing).
    release_script: redis::Script,
    /// The TTL-renewal script of the watchdog.
    extend_script: redis::Script,
}

impl Redlock {
    /// A manager over independent nodes (a whole cluster counts as one node).
    pub fn new(nodes: Vec<RedisHandle>, retry: RetryPolicy) -> Self {
        Self {
            nodes,
            retry,
            node_timeout: Duration::from_millis(50),
            release_script: redis::Script::new(RELEASE),
            extend_script: redis::Script::new(EXTEND),
        }
    }

    fn quorum(&self) -> usize {
        self.nodes.len() / 2 + 1
    }

    /// Acquires `resource` for `ttl`, retrying with jitter while it is busy.
    pub async fn acquire(&self, resource: &str, ttl: Duration) -> Result<Lease, LockError> {
        self.acquire_within(resource, ttl, self.retry.attempts)
            .await
    }

    /// [`Redlock::acquire`] with at most `attempts` rounds (1: answer `Busy` at once).
    async fn acquire_within(
        &self,
        resource: &str,
        ttl: Duration,
        attempts: u32,
    ) -> Result<Lease, LockError> {
        let mut last = LockError::Busy {
            retry_after: EXPECTED_WAIT,
        };
        for attempt in 0..attempts.max(1) {
            if attempt > 0 {
                let jitter = rand::rng().random_range(0..=self.retry.delay.as_millis());
                let jitter = Duration::from_millis(u64::try_from(jitter).unwrap_or(0));
                tokio::time::sleep(self.retry.delay + jitter).await;
            }
            match self.try_once(resource, ttl).await {
                Ok(lease) => return Ok(lease),
                Err(e @ LockError::Unavailable { .. }) => return Err(e),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// One round of the Redlock algorithm.
    async fn try_once(&self, resource: &str, ttl: Duration) -> Result<Lease, LockError> {
        let token = format!("{:032x}", rand::rng().random::<u128>());
        let started = Instant::now();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let attempts = self.nodes.iter().map(|node| async {
            let set = async {
                let mut conn = node.connection().await?;
                redis::cmd("SET")
                    .arg(resource)
                    .arg(&token)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async::<Option<String>>(&mut conn)
                    .await
            };
            tokio::time::timeout(self.node_timeout, set).await
        });
        let results = join_all(attempts).await;
        let answered = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
        let acquired = results
            .iter()
            .filter(|r| matches!(r, Ok(Ok(Some(_)))))
            .count();
        // Clock drift allowance: 1 % of the TTL plus 2 ms (the Redlock paper's suggestion).
        let drift = ttl / 100 + Duration::from_millis(2);
        let elapsed = started.elapsed();
        if acquired >= self.quorum() && elapsed + drift < ttl {
            return Ok(Lease {
                resource: resource.to_owned(),
                token,
                valid_until: (started + ttl).checked_sub(drift).unwrap_or(started),
            });
        }
        // Undo partial acquisitions so others need not wait for the TTL.
        self.release_token(resource, &token).await;
        if answered < self.quorum() {
            return Err(LockError::Unavailable {
                answered,
                nodes: self.nodes.len(),
            });
        }
        Err(LockError::Busy {
            retry_after: EXPECTED_WAIT,
        })
    }

    /// Acquires `resource` with a TTL of `slice`, renewed every third of it by a watchdog task
    /// while the returned guard lives, for at most `max_hold` in all.
    pub async fn acquire_guarded(
        self: &Arc<Self>,
        resource: &str,
        slice: Duration,
        max_hold: Duration,
        wait: LockWait,
    ) -> Result<LeaseGuard, LockError> {
        let slice = slice.min(max_hold);
        let attempts = match wait {
            LockWait::Retry => self.retry.attempts,
            LockWait::Once => 1,
        };
        let lease = self.acquire_within(resource, slice, attempts).await?;
        let watchdog = (max_hold > slice).then(|| {
            let (redlock, resource, token) =
                (self.clone(), lease.resource.clone(), lease.token.clone());
            let mut valid_until = lease.valid_until;
            tokio::spawn(async move {
                let started = Instant::now();
                let mut pause = slice / 3;
                loop {
                    tokio::time::sleep(pause).await;
                    let left = max_hold.saturating_sub(started.elapsed());
                    if left.is_zero() {
                        return;
                    }
                    let ttl = slice.min(left);
                    let asked = Instant::now();
                    if redlock.extend(&resource, &token, ttl).await {
                        valid_until = asked + ttl;
                        pause = slice / 3;
                    } else if Instant::now() >= valid_until {
                        // Lapsed: someone else may hold it now (Postgres still decides).
                        return;
                    } else {
                        // A slow or lost round: try again soon, while the lease is still ours.
                        pause = slice / 10;
                    }
                }
            })
        });
        Ok(LeaseGuard {
            redlock: self.clone(),
            lease: Some(lease),
            watchdog,
        })
    }

    /// Renews our token's TTL; true when a quorum of nodes did.
    async fn extend(&self, resource: &str, token: &str, ttl: Duration) -> bool {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let script = &self.extend_script;
        let extensions = self.nodes.iter().map(|node| async {
            let extend = async {
                let mut conn = node.connection().await?;
                script
                    .key(resource)
                    .arg(token)
                    .arg(ttl_ms)
                    .invoke_async::<i64>(&mut conn)
                    .await
            };
            matches!(
                tokio::time::timeout(self.node_timeout, extend).await,
                Ok(Ok(1))
            )
        });
        let extended = join_all(extensions)
            .await
            .into_iter()
            .filter(|ok| *ok)
            .count();
        extended >= self.quorum()
    }

    /// Releases a lease on every node (best effort: a lapsed lease is already free).
    pub async fn release(&self, lease: &Lease) {
        self.release_token(&lease.resource, &lease.token).await;
    }

    async fn release_token(&self, resource: &str, token: &str) {
        let script = &self.release_script;
        let releases = self.nodes.iter().map(|node| async {
            let release = async {
                let mut conn = node.connection().await?;
                script
                    .key(resource)
                    .arg(token)
                    .invoke_async::<i64>(&mut conn)
                    .await
            };
            let _ = tokio::time::timeout(self.node_timeout, release).await;
        });
        join_all(releases).await;
    }
}

/// A held lock that is released however its holder ends. Call [`LeaseGuard::release`] after
/// commit; dropping it unreleased (a cancelled future, a panic) spawns the release instead.
#[derive(Debug)]
pub struct LeaseGuard {
    redlock: Arc<Redlock>,
    lease: Option<Lease>,
    /// Renews the TTL while the guard lives; stopped on release and on drop.
    watchdog: Option<tokio::task::JoinHandle<()>>,
}

impl LeaseGuard {
    /// The lease (its key and token).
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// Releases the lock now and waits for the nodes to answer (bounded per node).
    pub async fn release(mut self) {
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.abort();
        }
        if let Some(lease) = self.lease.take() {
            self.redlock.release(&lease).await;
        }
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.abort();
        }
        let Some(lease) = self.lease.take() else {
            return;
        };
        // Dropped without release: the holder was cancelled or panicked. Release in the
        // background; without a runtime (process shutting down) the key lapses after its slice.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let redlock = self.redlock.clone();
            runtime.spawn(async move { redlock.release(&lease).await });
        }
    }
}
