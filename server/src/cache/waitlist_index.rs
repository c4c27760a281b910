//! The waitlist's Redis index: `waitlist:{<SKU>}:<YYYY-MM-DD>` sorted sets (one per SKU and
//! pickup day) of entry ids, scored so that the lowest score is served first. Postgres holds the
//! entries; this index answers "what is my position" without touching Postgres and is rebuilt
//! from it whenever it is missing.

use chrono::NaiveDate;
use redis::aio::ConnectionLike;
use uuid::Uuid;

/// The index key of a SKU's waitlist for one pickup day.
pub fn key(prefix: &str, sku_code: &str, start: NaiveDate) -> String {
    format!("{prefix}waitlist:{{{sku_code}}}:{start}")
}

/// Adds (or re-scores) an entry.
pub async fn add<C: ConnectionLike>(
    conn: &mut C,
    key: &str,
    entry: Uuid,
    score: f64,
) -> redis::RedisResult<()> {
    redis::cmd("ZADD")
        .arg(key)
        .arg(score)
        .arg(entry.to_string())
        .query_async(conn)
        .await
}

/// Removes an entry (left, offered, fulfilled).
pub async fn remove<C: ConnectionLike>(
    conn: &mut C,
    key: &str,
    entry: Uuid,
) -> redis::RedisResult<()> {
    redis::cmd("ZREM")
        .arg(key)
        .arg(entry.to_string())
        .query_async(conn)
        .await
}

/// 1-based position of an entry, if the index has it.
pub async fn position<C: ConnectionLike>(
    conn: &mut C,
    key: &str,
    entry: Uuid,
) -> redis::RedisResult<Option<u64>> {
    let rank: Option<u64> = redis::cmd("ZRANK")
        .arg(key)
        .arg(entry.to_string())
        .query_async(conn)
        .await?;
    Ok(rank.map(|r| r + 1))
}

/// Replaces a day's index with `entries` (id, score) in one transaction.
pub async fn replace<C: ConnectionLike>(
    conn: &mut C,
    key: &str,
    entries: &[(Uuid, f64)],
) -> redis::RedisResult<()> {
    let mut pipe = redis::pipe();
    pipe.atomic().cmd("DEL").arg(key).ignore();
    for (id, score) in entries {
        pipe.cmd("ZADD")
            .arg(key)
            .arg(*score)
            .arg(id.to_string())
            .ignore();
    }
    pipe.query_async(conn).await
}
