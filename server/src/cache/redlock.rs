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
//! **What the lock is not.** It is an efficiency lock. A holder paused past the TTL loses mutual
//! exclusion; correctness never depends on it: the Postgres exclusion constraint and the
//! compare-and-set on `hold_token` are the fences.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use rand::Rng;

use super::RedisHandle;

/// Deletes the key only if it still holds our token.
const RELEASE: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

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
    /// Someone else holds it; the caller may retry after this long.
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
}

impl Redlock {
    /// A manager over independent nodes (a whole cluster counts as one node).
    pub fn new(nodes: Vec<RedisHandle>, retry: RetryPolicy) -> Self {
        Self {
            nodes,
            retry,
            node_timeout: Duration::from_millis(50),
            release_script: redis::Script::new(RELEASE),
        }
    }

    fn quorum(&self) -> usize {
        self.nodes.len() / 2 + 1
    }

    /// Acquires `resource` for `ttl`, retrying with jitter while it is busy.
    pub async fn acquire(&self, resource: &str, ttl: Duration) -> Result<Lease, LockError> {
        let mut last = LockError::Busy {
            retry_after: Duration::from_secs(1),
        };
        for attempt in 0..self.retry.attempts.max(1) {
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
        let remaining = self.remaining_ttl(resource).await;
        Err(LockError::Busy {
            retry_after: remaining.unwrap_or(Duration::from_secs(1)),
        })
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

    /// The longest remaining TTL of the lock among the nodes that answer.
    async fn remaining_ttl(&self, resource: &str) -> Option<Duration> {
        let mut longest = None;
        for node in &self.nodes {
            let pttl = async {
                let mut conn = node.connection().await?;
                redis::cmd("PTTL")
                    .arg(resource)
                    .query_async::<i64>(&mut conn)
                    .await
            };
            if let Ok(Ok(ms)) = tokio::time::timeout(self.node_timeout, pttl).await
                && let Ok(ms) = u64::try_from(ms)
            {
                longest = longest.max(Some(Duration::from_millis(ms)));
            }
        }
        longest
    }
}
