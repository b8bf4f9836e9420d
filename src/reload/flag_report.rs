//! The flag files not applied right now, and since when: kept beside the
//! snapshot (a rejected flag edit is not a new generation) and read by the
//! admin port and the `cutover_flag_file_valid` gauge.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::FlagProblem;

/// A flag file that is not applied, since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadFlagFile {
    pub problem: FlagProblem,
    /// Unix seconds when the file became bad (with this error).
    pub since: u64,
}

/// The flag files not applied right now (empty: every file is in force).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagReport {
    pub bad: Vec<BadFlagFile>,
}

impl FlagReport {
    /// The report for `problems`, keeping `since` of those already known.
    pub(super) fn next(&self, problems: &[FlagProblem], now: u64) -> FlagReport {
        let bad = problems
            .iter()
            .map(|p| BadFlagFile {
                problem: p.clone(),
                since: self
                    .bad
                    .iter()
                    .find(|b| b.problem == *p)
                    .map_or(now, |b| b.since),
            })
            .collect();
        FlagReport { bad }
    }

    /// The problem of `route`'s flag file, if it has one.
    pub fn for_route(&self, route: &str) -> Option<&BadFlagFile> {
        self.bad
            .iter()
            .find(|b| b.problem.route == route && !b.problem.orphan)
    }
}

pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
