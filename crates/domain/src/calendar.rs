//! Branch-local calendars: Indonesian time zones and rental date ranges.
//!
//! Rentals are booked in whole local days at a branch. This module owns the three Indonesian
//! zones (WIB, WITA, WIT), the half-open [`DateRange`] of local dates, and the conversion
//! between local dates and UTC instants, which is what the database stores.

use std::fmt;
use std::iter::FusedIterator;
use std::str::FromStr;

use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// The time zone a branch runs on.
///
/// Indonesia has observed no daylight saving time since 1988, so each zone is a fixed offset
/// from UTC. Dates before 1988 are outside what rentals need and are treated with today's
/// offsets. Serializes as its canonical IANA name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum BranchTimeZone {
    /// Waktu Indonesia Barat, UTC+07:00 (Sumatra, Java, West and Central Kalimantan).
    Wib,
    /// Waktu Indonesia Tengah, UTC+08:00 (Bali, Nusa Tenggara, South/East/North Kalimantan,
    /// Sulawesi).
    Wita,
    /// Waktu Indonesia Timur, UTC+09:00 (Maluku, Papua).
    Wit,
}

/// The IANA zone name is not one of the Indonesian zones this system supports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported time zone {0:?}: expected Asia/Jakarta, Asia/Pontianak, Asia/Makassar, \
     Asia/Ujung_Pandang or Asia/Jayapura"
)]
pub struct TimeZoneError(pub String);

impl BranchTimeZone {
    /// Every supported zone, west to east.
    pub const ALL: [BranchTimeZone; 3] = [Self::Wib, Self::Wita, Self::Wit];

    /// Reads an IANA zone name (case-sensitive, as IANA names are).
    ///
    /// `Asia/Pontianak` is accepted as WIB and `Asia/Ujung_Pandang` (the old name of Makassar)
    /// as WITA; both are written back as the canonical name returned by [`Self::iana`].
    pub fn from_iana(name: &str) -> Result<Self, TimeZoneError> {
        match name {
            "Asia/Jakarta" | "Asia/Pontianak" => Ok(Self::Wib),
            "Asia/Makassar" | "Asia/Ujung_Pandang" => Ok(Self::Wita),
            "Asia/Jayapura" => Ok(Self::Wit),
            other => Err(TimeZoneError(other.to_owned())),
        }
    }

    /// The canonical IANA name: `Asia/Jakarta`, `Asia/Makassar` or `Asia/Jayapura`.
    pub const fn iana(self) -> &'static str {
        match self {
            Self::Wib => "Asia/Jakarta",
            Self::Wita => "Asia/Makassar",
            Self::Wit => "Asia/Jayapura",
        }
    }

    /// The abbreviation shown to Indonesian users: `WIB`, `WITA` or `WIT`.
    pub const fn abbreviation(self) -> &'static str {
        match self {
            Self::Wib => "WIB",
            Self::Wita => "WITA",
            Self::Wit => "WIT",
        }
    }

    /// The zone's name written out, as Indonesian documents print it:
    /// `Waktu Indonesia Barat (WIB)`.
    pub const fn indonesian_name(self) -> &'static str {
        match self {
            Self::Wib => "Waktu Indonesia Barat (WIB)",
            Self::Wita => "Waktu Indonesia Tengah (WITA)",
            Self::Wit => "Waktu Indonesia Timur (WIT)",
        }
    }

    /// Hours ahead of UTC.
    const fn offset_hours(self) -> i32 {
        match self {
            Self::Wib => 7,
            Self::Wita => 8,
            Self::Wit => 9,
        }
    }

    /// The zone's fixed offset from UTC.
    pub fn utc_offset(self) -> FixedOffset {
        FixedOffset::east_opt(self.offset_hours() * 3600).expect("offsets of +7..+9 h are valid")
    }

    /// The local calendar date at the branch at the given instant.
    pub fn local_date_of(self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.utc_offset()).date_naive()
    }

    /// The instant local midnight begins on `date` at the branch.
    ///
    /// # Panics
    ///
    /// Only for dates within a day of chrono's smallest representable date (year −262143),
    /// whose local midnight has no UTC representation.
    pub fn start_of_day(self, date: NaiveDate) -> DateTime<Utc> {
        date.and_time(NaiveTime::MIN)
            .and_local_timezone(self.utc_offset())
            .single()
            .expect("local midnight is representable in UTC")
            .to_utc()
    }
}

impl fmt::Display for BranchTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.iana())
    }
}

impl FromStr for BranchTimeZone {
    type Err = TimeZoneError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_iana(name)
    }
}

impl From<BranchTimeZone> for &'static str {
    fn from(zone: BranchTimeZone) -> Self {
        zone.iana()
    }
}

impl TryFrom<String> for BranchTimeZone {
    type Error = TimeZoneError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        Self::from_iana(&name)
    }
}

/// A half-open range `[start, end)` of branch-local dates: a rental picked up on `start` and
/// returned by the start of `end`. It is never empty.
///
/// Both dates lie between [`DateRange::EARLIEST`] and [`DateRange::LATEST`]. Serializes as
/// `{"start":"YYYY-MM-DD","end":"YYYY-MM-DD"}`, and deserializing checks the same rules as
/// [`DateRange::new`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(try_from = "UncheckedDateRange")]
pub struct DateRange {
    start: NaiveDate,
    end: NaiveDate,
}

/// Why a date range could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateRangeError {
    #[error("date range end {end} must be after its start {start}")]
    EndNotAfterStart { start: NaiveDate, end: NaiveDate },
    #[error("date {0} is outside the supported range 1900-01-01 to 9999-12-31")]
    DateOutOfRange(NaiveDate),
    #[error("end instant {end} must be after start instant {start}")]
    InstantsNotOrdered {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    #[error("instant {0} is outside the supported range")]
    InstantOutOfRange(DateTime<Utc>),
}

/// The wire shape of a [`DateRange`] before its rules are checked.
#[derive(Deserialize)]
struct UncheckedDateRange {
    start: NaiveDate,
    end: NaiveDate,
}

impl TryFrom<UncheckedDateRange> for DateRange {
    type Error = DateRangeError;

    fn try_from(raw: UncheckedDateRange) -> Result<Self, Self::Error> {
        Self::new(raw.start, raw.end)
    }
}

/// The first day a rental ending (exclusively) on `end` no longer occupies its asset: the
/// SKU's `buffer_days` after it stay blocked for cleaning and inspection. Negative buffers count
/// as none. The one place the turnaround sum is written (Postgres has its own, in the generated
/// `occupied` column).
pub fn occupied_until(end: NaiveDate, buffer_days: i32) -> NaiveDate {
    end + chrono::Days::new(u64::try_from(buffer_days).unwrap_or(0))
}

impl DateRange {
    /// The earliest date a range may contain. Bounding the dates keeps every conversion to
    /// and from UTC instants total and `nights` within `u32`.
    pub const EARLIEST: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date");

    /// The latest date a range may end on.
    pub const LATEST: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("valid date");

    /// The range `[start, end)`. Fails when `end` is not after `start` or either date is outside
    /// [`Self::EARLIEST`]..=[`Self::LATEST`].
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, DateRangeError> {
        for date in [start, end] {
            if !(Self::EARLIEST..=Self::LATEST).contains(&date) {
                return Err(DateRangeError::DateOutOfRange(date));
            }
        }
        if end <= start {
            return Err(DateRangeError::EndNotAfterStart { start, end });
        }
        Ok(Self { start, end })
    }

    /// The first date in the range.
    pub const fn start(&self) -> NaiveDate {
        self.start
    }

    /// The first date after the range (exclusive end).
    pub const fn end(&self) -> NaiveDate {
        self.end
    }

    /// The number of days (rental nights) in the range; always at least 1.
    pub fn nights(&self) -> u32 {
        let days = (self.end - self.start).num_days();
        u32::try_from(days).expect("bounded by EARLIEST..=LATEST")
    }

    /// Whether `date` is one of the range's days.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }

    /// Whether the two ranges share at least one day. Back-to-back ranges (one ends the day
    /// the other starts) do not overlap, so an asset returned in the morning can be rented
    /// out again the same day.
    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Each date in the range, in order.
    pub fn days(&self) -> RangeDays {
        RangeDays {
            next: self.start,
            end: self.end,
        }
    }

    /// The UTC instants at which the range starts and ends at a branch in `zone`: local
    /// midnight at the start of `start` and local midnight at the start of `end`.
    pub fn to_instants(&self, zone: BranchTimeZone) -> (DateTime<Utc>, DateTime<Utc>) {
        (zone.start_of_day(self.start), zone.start_of_day(self.end))
    }

    /// The smallest range of branch-local dates covering the instants `[start, end)`.
    ///
    /// The start date is the local date `start` falls on. The end date is the local date `end`
    /// falls on if `end` is exactly local midnight, and the day after otherwise, so a rental
    /// returned at 10:00 occupies the whole return day. This is the inverse of
    /// [`Self::to_instants`]. Fails when `end` is not after `start` or the dates fall outside
    /// the supported range.
    pub fn from_instants(
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        zone: BranchTimeZone,
    ) -> Result<Self, DateRangeError> {
        if end <= start {
            return Err(DateRangeError::InstantsNotOrdered { start, end });
        }
        for instant in [start, end] {
            let utc_date = instant.date_naive();
            let padded_earliest = Self::EARLIEST.pred_opt().expect("1899-12-31 exists");
            if !(padded_earliest..=Self::LATEST).contains(&utc_date) {
                return Err(DateRangeError::InstantOutOfRange(instant));
            }
        }
        let start_date = zone.local_date_of(start);
        let end_day = zone.local_date_of(end);
        let end_date = if zone.start_of_day(end_day) == end {
            end_day
        } else {
            end_day
                .checked_add_days(Days::new(1))
                .ok_or(DateRangeError::InstantOutOfRange(end))?
        };
        Self::new(start_date, end_date)
    }
}

impl fmt::Display for DateRange {
    /// Writes `[2026-01-30, 2026-02-02)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", self.start, self.end)
    }
}

/// Iterator over the dates of a [`DateRange`], from [`DateRange::days`].
#[derive(Clone, Debug)]
pub struct RangeDays {
    next: NaiveDate,
    end: NaiveDate,
}

impl Iterator for RangeDays {
    type Item = NaiveDate;

    fn next(&mut self) -> Option<NaiveDate> {
        if self.next >= self.end {
            return None;
        }
        let day = self.next;
        // `end` is at most DateRange::LATEST, so the successor of a day before it exists.
        self.next = day
            .succ_opt()
            .expect("dates before LATEST have a successor");
        Some(day)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = usize::try_from((self.end - self.next).num_days()).unwrap_or(0);
        (remaining, Some(remaining))
    }
}

impl ExactSizeIterator for RangeDays {}

impl FusedIterator for RangeDays {}

#[cfg(test)]
mod tests;
