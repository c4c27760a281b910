//! The Redis bitmap calendar: one key per asset and month, `avail:{<SKU>:<AssetID>}:<YYYYMM>`,
//! one bit per day in the branch's time zone (bit 0 = the 1st). The `{…}` hash tag keeps all
//! months of an asset in one cluster slot, so a range across months is one atomic call.
//!
//! The check-and-set logic runs inside Redis as a Function library (`FUNCTION LOAD`), which
//! Redis persists and replicates with the data set, unlike the EVAL script cache. Bits mirror
//! Postgres: they are written after a commit and rebuilt by the reconciler.

use chrono::{Datelike, NaiveDate};
use redis::aio::ConnectionLike;

/// Version tag of the library; bump when the Lua changes so `FUNCTION LOAD REPLACE` updates it.
const LIBRARY: &str = r"#!lua name=sentra_calendar

-- KEYS: the month bitmaps of one asset (one hash tag). ARGV: first,last bit pairs, inclusive.
local function all_free(keys, args)
  for i = 1, #keys do
    if redis.call('BITCOUNT', keys[i], args[2 * i - 1], args[2 * i], 'BIT') ~= 0 then
      return false
    end
  end
  return true
end

local function write(keys, args, on)
  for i = 1, #keys do
    local first = tonumber(args[2 * i - 1])
    local len = tonumber(args[2 * i]) - first + 1
    local value = 0
    if on then value = 2 ^ len - 1 end
    redis.call('BITFIELD', keys[i], 'SET', 'u' .. len, first, string.format('%d', value))
  end
end

redis.register_function{function_name = 'sentra_is_free', flags = {'no-writes'},
  callback = function(keys, args) if all_free(keys, args) then return 1 end return 0 end}

redis.register_function('sentra_reserve', function(keys, args)
  if not all_free(keys, args) then return 0 end
  write(keys, args, true)
  return 1
end)

-- KEYS: per-SKU day bitmaps (one hash tag per SKU). ARGV: the asset's ordinal, 1 or 0.
redis.register_function('sentra_mark_days', function(keys, args)
  for i = 1, #keys do redis.call('SETBIT', keys[i], args[1], args[2]) end
  return 1
end)

redis.register_function('sentra_occupy', function(keys, args) write(keys, args, true) return 1 end)
redis.register_function('sentra_release', function(keys, args) write(keys, args, false) return 1 end)
";

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
}

impl AssetCalendar {
    /// The calendar of `asset` (of SKU `sku_code`) under `prefix`.
    pub fn new(prefix: &str, sku_code: &str, asset: uuid::Uuid) -> Self {
        Self {
            key_stem: format!("{prefix}avail:{{{sku_code}:{asset}}}:"),
        }
    }

    /// The key of one month.
    pub fn month_key(&self, yyyymm: u32) -> String {
        format!("{}{yyyymm}", self.key_stem)
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

    /// Atomically: if every day is free, marks them taken and returns true; else changes nothing.
    pub async fn reserve<C: ConnectionLike>(
        &self,
        conn: &mut C,
        start: NaiveDate,
        end: NaiveDate,
    ) -> redis::RedisResult<bool> {
        let set: i64 = call_loading(conn, &self.call("sentra_reserve", start, end)).await?;
        Ok(set == 1)
    }

    /// Marks the days taken whatever they were (Postgres said so).
    pub async fn occupy<C: ConnectionLike>(
        &self,
        conn: &mut C,
        start: NaiveDate,
        end: NaiveDate,
    ) -> redis::RedisResult<()> {
        call_loading::<C, i64>(conn, &self.call("sentra_occupy", start, end)).await?;
        Ok(())
    }

    /// Marks the days free.
    pub async fn release<C: ConnectionLike>(
        &self,
        conn: &mut C,
        start: NaiveDate,
        end: NaiveDate,
    ) -> redis::RedisResult<()> {
        call_loading::<C, i64>(conn, &self.call("sentra_release", start, end)).await?;
        Ok(())
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

    /// Sets (`occupied`) or clears the asset's bit on every day of `[start, end)`.
    pub async fn mark<C: ConnectionLike>(
        &self,
        conn: &mut C,
        ordinal: u32,
        start: NaiveDate,
        end: NaiveDate,
        occupied: bool,
    ) -> redis::RedisResult<()> {
        let keys = self.day_keys(start, end);
        if keys.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("FCALL");
        cmd.arg("sentra_mark_days")
            .arg(keys.len())
            .arg(&keys)
            .arg(ordinal)
            .arg(u8::from(occupied));
        call_loading::<C, i64>(conn, &cmd).await?;
        Ok(())
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
    fn bitmap_bytes_put_day_one_in_the_most_significant_bit() {
        assert_eq!(bitmap_of([0]), [0x80]);
        assert!(bit_is_set(&bitmap_of([13]), 13) && !bit_is_set(&bitmap_of([13]), 12));
        assert_eq!(bitmap_of([7, 8, 30]), [0x01, 0x80, 0, 0x02]);
    }
}
