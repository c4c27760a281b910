//! Which unit of a model a customer gets when they book the SKU: the ranking, pure.
//!
//! Candidates are units free for the whole rental (turnaround buffer included). They are ranked:
//! 1. **Nearest branch** first, when the customer said where they are.
//! 2. **Best fit**: fewest days left unusable next to the rental (a gap shorter than the shortest
//!    rental plus the buffer can never be sold), then the smallest free block the rental is cut
//!    from, so long free stretches stay whole for long rentals.
//! 3. **Spread wear**: the unit booked for the fewest days recently.
//! 4. Exact ties in random order, so concurrent customers do not all queue for the same unit.
//!
//! The ranking only chooses the order in which units are tried; Postgres decides each attempt.

use rand::Rng;

/// How far before and after the rental the neighbours are looked for. A free stretch this long
/// is "open": the rental does not cut it into anything unusable. Longer than the shortest rental
/// can occupy (one night plus the longest buffer, 14 days), so an unsellable gap is never
/// mistaken for an open one.
pub const LOOK_DAYS: u32 = 16;

/// The free days right next to one candidate's rental.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Around {
    /// Free days just before the pickup day (days before today count as taken), at most
    /// [`LOOK_DAYS`].
    pub free_before: u32,
    /// Free days just after the occupied end (rental + buffer), at most [`LOOK_DAYS`].
    pub free_after: u32,
}

impl Around {
    /// Counts the free days next to the occupied days `[start, occupied_end)` of a day grid, where
    /// `taken(i)` says whether day `i` of the grid is taken and `first_usable` is today's index.
    pub fn in_grid(
        taken: impl Fn(usize) -> bool,
        start: usize,
        occupied_end: usize,
        grid_len: usize,
        first_usable: usize,
    ) -> Self {
        let look = LOOK_DAYS as usize;
        let before = (0..start)
            .rev()
            .take(look)
            .take_while(|&i| i >= first_usable && !taken(i))
            .count();
        let after = (occupied_end..grid_len)
            .take(look)
            .take_while(|&i| !taken(i))
            .count();
        Self {
            free_before: u32::try_from(before).unwrap_or(LOOK_DAYS),
            free_after: u32::try_from(after).unwrap_or(LOOK_DAYS),
        }
    }
}

/// How well a rental of `occupied_days` (nights + buffer) fits a unit, lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fit {
    /// Days next to the rental too short for any rental (`< 1 + buffer`).
    pub unusable_days: u32,
    /// The free block the rental is cut from (capped at [`LOOK_DAYS`] on each side).
    pub block_days: u32,
}

impl Fit {
    /// The fit of a rental occupying `occupied_days`, for a SKU whose shortest rental occupies
    /// `shortest_days` (one night plus the buffer).
    pub fn of(around: Around, occupied_days: u32, shortest_days: u32) -> Self {
        let unusable = |gap: u32| {
            if gap > 0 && gap < shortest_days && gap < LOOK_DAYS {
                gap
            } else {
                0
            }
        };
        Self {
            unusable_days: unusable(around.free_before) + unusable(around.free_after),
            block_days: around.free_before + occupied_days + around.free_after,
        }
    }
}

/// The ranking key of one candidate, lower first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    /// 0 for the nearest branch (or every branch when nobody said where they are).
    pub branch_order: u32,
    pub fit: Fit,
    /// Days the unit was booked in the recent past.
    pub recent_use_days: u32,
}

/// The best `limit` of `candidates` by rank, in order, exact ties in random order. Only those
/// are sorted: a booking tries a handful of units, not the whole fleet.
pub fn best<T>(candidates: Vec<(T, Rank)>, limit: usize, rng: &mut impl Rng) -> Vec<T> {
    let mut keyed: Vec<(Rank, u64, T)> = candidates
        .into_iter()
        .map(|(c, rank)| (rank, rng.random::<u64>(), c))
        .collect();
    if limit == 0 {
        return Vec::new();
    }
    if keyed.len() > limit {
        keyed.select_nth_unstable_by_key(limit - 1, |(rank, noise, _)| (*rank, *noise));
        keyed.truncate(limit);
    }
    keyed.sort_unstable_by_key(|(rank, noise, _)| (*rank, *noise));
    keyed.into_iter().map(|(_, _, c)| c).collect()
}

/// Great-circle distance in kilometres (haversine, mean Earth radius).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn around(grid: &str, start: usize, end: usize, first_usable: usize) -> Around {
        let taken: Vec<bool> = grid.chars().map(|c| c == '#').collect();
        Around::in_grid(|i| taken[i], start, end, taken.len(), first_usable)
    }

    #[test]
    fn free_days_stop_at_neighbours_today_and_the_look_limit() {
        //            0123456789
        let grid = "##..____.#";
        // Rental on days 4..8 (the '_'): two free days before (2, 3), one after (8).
        assert_eq!(
            around(grid, 4, 8, 0),
            Around {
                free_before: 2,
                free_after: 1
            }
        );
        // Today is day 3: day 2 is in the past.
        assert_eq!(around(grid, 4, 8, 3).free_before, 1);
        let open = format!("{}{}", ".".repeat(20), "____");
        assert_eq!(around(&open, 20, 24, 0).free_before, LOOK_DAYS);
    }

    #[test]
    fn a_gap_too_short_for_the_longest_buffer_is_not_taken_for_an_open_one() {
        // A 14-day buffer: the shortest rental occupies 15 days; a 15-day gap is sellable.
        let around = |gap| Around {
            free_before: gap,
            free_after: LOOK_DAYS,
        };
        assert_eq!(Fit::of(around(14), 16, 15).unusable_days, 14);
        assert_eq!(Fit::of(around(15), 16, 15).unusable_days, 0);
    }

    #[test]
    fn an_adjacent_unit_beats_one_that_leaves_an_unsellable_gap_and_an_empty_one() {
        // Buffer of 1 day: the shortest rental occupies 2 days.
        let adjacent = Fit::of(
            Around {
                free_before: 0,
                free_after: LOOK_DAYS,
            },
            4,
            2,
        );
        let one_day_gap = Fit::of(
            Around {
                free_before: 1,
                free_after: LOOK_DAYS,
            },
            4,
            2,
        );
        let empty = Fit::of(
            Around {
                free_before: LOOK_DAYS,
                free_after: LOOK_DAYS,
            },
            4,
            2,
        );
        assert_eq!(one_day_gap.unusable_days, 1);
        assert!(adjacent < empty && empty < one_day_gap);
        // Between two usable fits, the smaller block is cut.
        let tight = Fit::of(
            Around {
                free_before: 3,
                free_after: 2,
            },
            4,
            2,
        );
        assert!(tight < empty);
    }

    #[test]
    fn nearer_branches_then_fit_then_wear_then_chance() {
        let fit = |unusable, block| Fit {
            unusable_days: unusable,
            block_days: block,
        };
        let rank = |branch_order, fit, recent_use_days| Rank {
            branch_order,
            fit,
            recent_use_days,
        };
        let candidates = vec![
            ("far-perfect", rank(1, fit(0, 4), 0)),
            ("near-worn", rank(0, fit(0, 30), 9)),
            ("near-rested", rank(0, fit(0, 30), 1)),
            ("near-tight", rank(0, fit(0, 6), 50)),
            ("near-gap", rank(0, fit(1, 5), 0)),
        ];
        let mut rng = rand::rng();
        assert_eq!(
            best(candidates.clone(), 10, &mut rng),
            [
                "near-tight",
                "near-rested",
                "near-worn",
                "near-gap",
                "far-perfect"
            ]
        );
        assert_eq!(best(candidates, 2, &mut rng), ["near-tight", "near-rested"]);
        // Exact ties come out in varying order.
        let tied: Vec<(u32, Rank)> = (0..8).map(|i| (i, rank(0, fit(0, 28), 0))).collect();
        let firsts: std::collections::HashSet<u32> = (0..50)
            .map(|_| best(tied.clone(), 3, &mut rng)[0])
            .collect();
        assert!(firsts.len() > 1);
    }

    #[test]
    fn jakarta_to_denpasar_is_about_950_km() {
        let km = distance_km((-6.156, 106.847), (-8.689, 115.219));
        assert!((930.0..980.0).contains(&km), "{km}");
    }
}
