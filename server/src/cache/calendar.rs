//! The Redis bitmap calendar: one key per asset and month, `avail:{<SKU>:<AssetID>}:<YYYYMM>`,
//! one bit per day in the branch's time zone (bit 0 = the 1st). The `{…}` hash tag keeps all
//! months of an asset in one cluster slot, so a range across months is one atomic call. The
//! per-SKU day bitmaps `skuday:{<SKU>}:<YYYYMMDD>` are the same facts transposed for search.
//!
//! **A projection that never goes backwards.** Bits mirror Postgres and are written after a
//! commit. Every transaction that changes an asset's occupancy bumps the asset's calendar version
//! in Postgres while holding the asset's row lock, so one asset's versions follow commit order.
//! Next to the bits Redis keeps the version they reflect (`calver:{<SKU>:<AssetID>}` for the
//! month keys, field `<ordinal>` of `skuver:{<SKU>}` for the day bitmaps), and the Functions below
//! check it in the same atomic call that writes the bits:
//! - a **change** (the ranges one transaction freed and took, at version v) lands only on top of
//!   version v − 1; on v or newer it is already reflected and is dropped; on anything older a
//!   change in between is missing, so the caller rebuilds the asset from Postgres;
//! - a **state** (a rebuild from a Postgres snapshot at version v) lands on top of anything not
//!   newer than v, never over a newer change.
//!
//! The logic runs inside Redis as a Function library (`calendar.lua`, `FUNCTION LOAD`), which Redis persists and
//! replicates with the data set, unlike the EVAL script cache.

use chrono::{Datelike, NaiveDate};
use redis::aio::ConnectionLike;

/// One library name for good: `FUNCTION LOAD REPLACE` swaps the whole library (a Redis that has
/// an older version of it gets this one the first time a function is missing), whereas a new
/// library name could not load next to the old one (function names are global in Redis).
const LIBRARY: &str = include_str!("calendar.lua");

/// What a versioned change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The change landed on the version just before it.
    Applied,
    /// The stored bits already reflect this version or a newer one.
    AlreadyReflected,
    /// A change between the stored version and this one is missing: rebuild the asset.
    Gap,
}

impl Applied {
    fn from_reply(reply: i64) -> Self {
        match reply {
            1 => Applied::Applied,
            0 => Applied::AlreadyReflected,
            _ => Applied::Gap,
        }
    }
}

/// A rebuild's write: the state of Postgres at `version`. It lands over older versions only,
/// unless `force`d (Postgres is behind what Redis has seen: it lost changes, e.g. after a
/// failover to a replica that had not received them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateWrite {
    pub version: i64,
    pub force: bool,
}

impl StateWrite {
    fn mode(&self) -> &'static str {
        if self.force { "force" } else { "state" }
    }
}

/// One committed change of an asset's occupancy: the day ranges `[start, end)` it freed and the
/// one it took, at the asset's calendar version after the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccupancyChange {
    /// The asset's calendar version the change produced.
    pub version: i64,
    /// Ranges no longer occupied (cancelled or lapsed bookings, buffer included).
    pub freed: Vec<(NaiveDate, NaiveDate)>,
    /// The range now occupied (a new booking, buffer included).
    pub taken: Option<(NaiveDate, NaiveDate)>,
}

impl OccupancyChange {
    /// Each touched day with whether it is occupied after the change. Bookings of one asset
    /// never overlap, so a freed day is free unless the new booking takes it.
    pub fn days(&self) -> Vec<(NaiveDate, bool)> {
        let mut days: Vec<(NaiveDate, bool)> = Vec::new();
        for &(start, end) in &self.freed {
            days.extend(
                start
                    .iter_days()
                    .take_while(|d| *d < end)
                    .map(|d| (d, false)),
            );
        }
        if let Some((start, end)) = self.taken {
            days.retain(|(d, _)| *d < start || *d >= end);
            days.extend(
                start
                    .iter_days()
                    .take_while(|d| *d < end)
                    .map(|d| (d, true)),
            );
        }
        days.sort_unstable();
        days.dedup();
        days
    }
}

/// One month's part of a date range: the key's month and the inclusive bit range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthSpan {
    /// `YYYYMM` as a number, e.g. 202612.
    pub yyyymm: u32,
    /// Bit of the first day (0 = the 1st of the month).
    pub first_bit: u32,
    /// Bit of the last day, inclusive.
    pub last_bit: u32,
}

/// Splits the half-open day range `[start, end)` into per-month bit spans.
pub fn month_spans(start: NaiveDate, end: NaiveDate) -> Vec<MonthSpan> {
    let mut spans = Vec::new();
    let mut day = start;
    while day < end {
        let next_month = first_of_next_month(day);
        let last = end.min(next_month).pred_opt().unwrap_or(day);
        spans.push(MonthSpan {
            yyyymm: yyyymm(day),
            first_bit: day.day0(),
            last_bit: last.day0(),
        });
        day = next_month;
    }
    spans
}

/// `YYYYMM` of a date.
pub fn yyyymm(day: NaiveDate) -> u32 {
    u32::try_from(day.year()).unwrap_or(0) * 100 + day.month()
}

fn first_of_next_month(day: NaiveDate) -> NaiveDate {
    let (year, month) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MAX)
}

/// Names the calendar keys of one asset.
#[derive(Debug, Clone)]
pub struct AssetCalendar {
    /// `{prefix}avail:{<SKU>:<asset>}:` — everything but the month.
    key_stem: String,
    /// `{prefix}calver:{<SKU>:<asset>}`: the asset's version the bits reflect (same hash tag).
    version_key: String,
}

impl AssetCalendar {
    /// The calendar of `asset` (of SKU `sku_code`) under `prefix`.
    pub fn new(prefix: &str, sku_code: &str, asset: uuid::Uuid) -> Self {
        Self {
            key_stem: format!("{prefix}avail:{{{sku_code}:{asset}}}:"),
            version_key: format!("{prefix}calver:{{{sku_code}:{asset}}}"),
        }
    }

    /// The key of one month.
    pub fn month_key(&self, yyyymm: u32) -> String {
        format!("{}{yyyymm}", self.key_stem)
    }

    /// The key holding the version the bits reflect.
    pub fn version_key(&self) -> &str {
        &self.version_key
    }

    fn call(&self, function: &str, start: NaiveDate, end: NaiveDate) -> redis::Cmd {
        let spans = month_spans(start, end);
        let mut cmd = redis::cmd("FCALL");
        cmd.arg(function).arg(spans.len());
        for span in &spans {
            cmd.arg(self.month_key(span.yyyymm));
        }
        for span in &spans {
            cmd.arg(span.first_bit).arg(span.last_bit);
        }
        cmd
    }

    /// True when every day of `[start, end)` is free.
    pub async fn is_free<C: ConnectionLike>(
        &self,
        conn: &mut C,
        start: NaiveDate,
        end: NaiveDate,
    ) -> redis::RedisResult<bool> {
        let free: i64 = call_loading(conn, &self.call("sentra_is_free", start, end)).await?;
        Ok(free == 1)
    }

    /// Applies a committed change (freed ranges cleared, then the taken range set) if the
    /// stored bits are at the version just before it.
    pub async fn apply<C: ConnectionLike>(
        &self,
        conn: &mut C,
        change: &OccupancyChange,
    ) -> redis::RedisResult<Applied> {
        let mut months: Vec<u32> = Vec::new();
        let mut spans: Vec<(MonthSpan, bool)> = Vec::new();
        let ranges = change.freed.iter().map(|&r| (r, false));
        for ((start, end), on) in ranges.chain(change.taken.map(|r| (r, true))) {
            for span in month_spans(start, end) {
                if !months.contains(&span.yyyymm) {
                    months.push(span.yyyymm);
                }
                spans.push((span, on));
            }
        }
        let mut cmd = redis::cmd("FCALL");
        cmd.arg("sentra_change").arg(months.len() + 1);
        for &month in &months {
            cmd.arg(self.month_key(month));
        }
        cmd.arg(&self.version_key).arg(change.version);
        for (span, on) in &spans {
            let index = months.iter().position(|m| *m == span.yyyymm).unwrap_or(0) + 1;
            cmd.arg(index)
                .arg(span.first_bit)
                .arg(span.last_bit)
                .arg(u8::from(*on));
        }
        let reply: i64 = call_loading(conn, &cmd).await?;
        Ok(Applied::from_reply(reply))
    }

    /// Replaces the bits of `months` (`YYYYMM` and the bitmap Postgres says it should hold) with
    /// the state at `version`, unless a newer version is stored. Returns how many month keys
    /// were rewritten, or `None` when a newer change was already there.
    pub async fn replace<C: ConnectionLike>(
        &self,
        conn: &mut C,
        state: &StateWrite,
        months: &[(u32, Vec<u8>)],
    ) -> redis::RedisResult<Option<usize>> {
        let mut cmd = redis::cmd("FCALL");
        cmd.arg("sentra_replace").arg(months.len() + 1);
        for (month, _) in months {
            cmd.arg(self.month_key(*month));
        }
        cmd.arg(&self.version_key)
            .arg(state.version)
            .arg(state.mode());
        for (_, bitmap) in months {
            cmd.arg(bitmap.as_slice());
        }
        let reply: i64 = call_loading(conn, &cmd).await?;
        Ok(usize::try_from(reply).ok())
    }
}

/// The per-SKU day bitmaps: `skuday:{<SKU>}:<YYYYMMDD>`, bit n = the asset with ordinal n is
/// occupied that day. The transposed view of the asset calendars, for fleet-wide search.
#[derive(Debug, Clone)]
pub struct SkuDays {
    key_stem: String,
}

impl SkuDays {
    /// The day bitmaps of `sku_code` under `prefix`.
    pub fn new(prefix: &str, sku_code: &str) -> Self {
        Self {
            key_stem: format!("{prefix}skuday:{{{sku_code}}}:"),
        }
    }

    /// The key of one day.
    pub fn day_key(&self, day: NaiveDate) -> String {
        format!("{}{}", self.key_stem, day.format("%Y%m%d"))
    }

    /// The keys of `[start, end)`.
    pub fn day_keys(&self, start: NaiveDate, end: NaiveDate) -> Vec<String> {
        start
            .iter_days()
            .take_while(|d| *d < end)
            .map(|d| self.day_key(d))
            .collect()
    }

    /// The hash of each asset's version (field: its ordinal) the bits reflect. Same hash tag.
    pub fn version_key(&self) -> String {
        format!("{}versions", self.key_stem)
    }

    async fn write_days<C: ConnectionLike>(
        &self,
        conn: &mut C,
        ordinal: u32,
        version: i64,
        mode: &str,
        days: &[(NaiveDate, bool)],
    ) -> redis::RedisResult<i64> {
        let mut cmd = redis::cmd("FCALL");
        cmd.arg("sentra_days").arg(days.len() + 1);
        for (day, _) in days {
            cmd.arg(self.day_key(*day));
        }
        cmd.arg(self.version_key())
            .arg(ordinal)
            .arg(version)
            .arg(mode);
        for (_, occupied) in days {
            cmd.arg(u8::from(*occupied));
        }
        call_loading(conn, &cmd).await
    }

    /// Applies a committed change of the asset with `ordinal` if the stored bits are at the
    /// version just before it.
    pub async fn apply<C: ConnectionLike>(
        &self,
        conn: &mut C,
        ordinal: u32,
        change: &OccupancyChange,
    ) -> redis::RedisResult<Applied> {
        // A change that freed nothing (a version bump alone) still moves the version on.
        let days = change.days();
        let reply = self
            .write_days(conn, ordinal, change.version, "change", &days)
            .await?;
        Ok(Applied::from_reply(reply))
    }

    /// Sets the asset's bit on `days` to what Postgres says at `version`, unless a newer version
    /// is stored. Returns how many bits were rewritten, or `None` when a newer change was there.
    pub async fn replace<C: ConnectionLike>(
        &self,
        conn: &mut C,
        ordinal: u32,
        state: &StateWrite,
        days: &[(NaiveDate, bool)],
    ) -> redis::RedisResult<Option<usize>> {
        let reply = self
            .write_days(conn, ordinal, state.version, state.mode(), days)
            .await?;
        Ok(usize::try_from(reply).ok())
    }

    /// The key that says this SKU's day bitmaps are complete: set by the reconciler after a
    /// full rebuild, gone after Redis lost its data. Same hash tag as the days.
    pub fn built_key(&self) -> String {
        format!("{}built", self.key_stem)
    }

    /// The day bitmaps of `[start, end)` (missing days are empty), or `None` when the index is
    /// not built (Redis restarted or was flushed and the reconciler has not run yet).
    pub async fn read<C: ConnectionLike>(
        &self,
        conn: &mut C,
        start: NaiveDate,
        end: NaiveDate,
    ) -> redis::RedisResult<Option<Vec<Vec<u8>>>> {
        let mut keys = self.day_keys(start, end);
        keys.push(self.built_key());
        let mut values: Vec<Option<Vec<u8>>> =
            redis::cmd("MGET").arg(&keys).query_async(conn).await?;
        let built = values.pop().flatten().is_some();
        Ok(built.then(|| values.into_iter().map(Option::unwrap_or_default).collect()))
    }
}

/// Whether bit `n` (MSB-first, as SETBIT numbers them) is set in `bitmap`.
pub fn bit_is_set(bitmap: &[u8], n: u32) -> bool {
    bitmap
        .get(usize::try_from(n / 8).unwrap_or(usize::MAX))
        .is_some_and(|byte| byte & (0x80 >> (n % 8)) != 0)
}

/// Loads (or replaces) the Function library on every primary.
pub async fn load_library<C: ConnectionLike>(conn: &mut C) -> redis::RedisResult<()> {
    redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("REPLACE")
        .arg(LIBRARY)
        .query_async::<String>(conn)
        .await?;
    Ok(())
}

/// Runs an FCALL, loading the library first if this Redis does not have it (a new node, or
/// one whose functions were flushed).
async fn call_loading<C: ConnectionLike, T: redis::FromRedisValue>(
    conn: &mut C,
    cmd: &redis::Cmd,
) -> redis::RedisResult<T> {
    match cmd.query_async(conn).await {
        Err(e) if e.to_string().contains("Function not found") => {
            load_library(conn).await?;
            cmd.query_async(conn).await
        }
        other => other,
    }
}

/// A bitmap as Redis stores it (bit 0 = MSB of byte 0) with `bits` set, as short as possible.
pub fn bitmap_of(bits: impl IntoIterator<Item = u32>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for bit in bits {
        let byte = usize::try_from(bit / 8).unwrap_or(0);
        if bytes.len() <= byte {
            bytes.resize(byte + 1, 0);
        }
        bytes[byte] |= 0x80 >> (bit % 8);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn a_range_inside_one_month_is_one_span() {
        assert_eq!(
            month_spans(d("2026-12-03"), d("2026-12-10")),
            [MonthSpan {
                yyyymm: 202_612,
                first_bit: 2,
                last_bit: 8
            }]
        );
    }

    #[test]
    fn ranges_across_months_and_years_split_at_the_first() {
        assert_eq!(
            month_spans(d("2026-12-29"), d("2027-02-02")),
            [
                MonthSpan {
                    yyyymm: 202_612,
                    first_bit: 28,
                    last_bit: 30
                },
                MonthSpan {
                    yyyymm: 202_701,
                    first_bit: 0,
                    last_bit: 30
                },
                MonthSpan {
                    yyyymm: 202_702,
                    first_bit: 0,
                    last_bit: 0
                },
            ]
        );
        // February in a leap year has 29 bits.
        assert_eq!(
            month_spans(d("2028-02-01"), d("2028-03-01")),
            [MonthSpan {
                yyyymm: 202_802,
                first_bit: 0,
                last_bit: 28
            }]
        );
    }

    #[test]
    fn keys_share_one_hash_tag_per_asset() {
        let asset = uuid::Uuid::nil();
        let cal = AssetCalendar::new("t1:", "AVANZA", asset);
        let key = cal.month_key(202_612);
        assert_eq!(key, format!("t1:avail:{{AVANZA:{asset}}}:202612"));
        // Redis Cluster hashes only the first {...}: every month of the asset shares it.
        let tag = |k: &str| k[k.find('{').expect("{")..=k.find('}').expect("}")].to_owned();
        assert_eq!(tag(&key), tag(&cal.month_key(202_701)));
    }

    #[test]
    fn a_change_frees_its_days_unless_the_new_booking_takes_them() {
        let change = OccupancyChange {
            version: 2,
            freed: vec![(d("2026-12-03"), d("2026-12-06"))],
            taken: Some((d("2026-12-05"), d("2026-12-07"))),
        };
        assert_eq!(
            change.days(),
            [
                (d("2026-12-03"), false),
                (d("2026-12-04"), false),
                (d("2026-12-05"), true),
                (d("2026-12-06"), true),
            ]
        );
    }

    #[test]
    fn version_keys_share_the_hash_tag_of_their_bits() {
        let asset = uuid::Uuid::nil();
        let tag = |k: &str| k[k.find('{').expect("{")..=k.find('}').expect("}")].to_owned();
        let cal = AssetCalendar::new("t1:", "AVANZA", asset);
        assert_eq!(tag(cal.version_key()), tag(&cal.month_key(202_612)));
        let days = SkuDays::new("t1:", "AVANZA");
        assert_eq!(
            tag(&days.version_key()),
            tag(&days.day_key(d("2026-12-03")))
        );
    }

    #[test]
    fn bitmap_bytes_put_day_one_in_the_most_significant_bit() {
        assert_eq!(bitmap_of([0]), [0x80]);
        assert!(bit_is_set(&bitmap_of([13]), 13) && !bit_is_set(&bitmap_of([13]), 12));
        assert_eq!(bitmap_of([7, 8, 30]), [0x01, 0x80, 0, 0x02]);
    }
}
