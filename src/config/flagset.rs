//! Flag files applied one by one: a bad file never blocks another route.
//!
//! Each `flags/*.toml` is validated on its own. A bad file keeps its route's
//! last good flag (or none, i.e. next, when the route never had one); a file
//! naming no route of `routes.toml` (a leftover of a removed route) is
//! reported and ignored. Every other file applies.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{ConfigError, flagfile};
use crate::flags::Flag;
use crate::route::{RouteId, RouteTable};

/// A flag file that was not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagProblem {
    /// The route the file is for (its `route` key, else its file name), as written.
    pub route: String,
    pub error: ConfigError,
    /// The file names no route of `routes.toml` (e.g. a removed route's leftover).
    pub orphan: bool,
}

/// Parse every flag file; bad ones keep `previous`'s flag for their route.
pub fn apply(
    files: &[(PathBuf, String)],
    routes: &RouteTable,
    previous: Option<&BTreeMap<RouteId, Flag>>,
) -> (BTreeMap<RouteId, Flag>, Vec<FlagProblem>) {
    let mut flags = BTreeMap::new();
    let mut bad = Vec::new();
    for (path, text) in files {
        match flagfile::parse(path, text, routes) {
            Ok((id, flag)) => match flags.entry(id) {
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(flag);
                }
                std::collections::btree_map::Entry::Occupied(slot) => {
                    let id = slot.key();
                    let error = ConfigError::at(
                        path,
                        1,
                        format!(
                            "a second flag file for route `{id}`: keep one file per route (this one is ignored)"
                        ),
                    );
                    let route = id.to_string();
                    bad.push((
                        Some(id.clone()),
                        FlagProblem {
                            route,
                            error,
                            orphan: false,
                        },
                    ));
                }
            },
            Err(error) => {
                let name = flagfile::route_name(path, text);
                let id = RouteId::parse(&name)
                    .ok()
                    .filter(|id| routes.get(id).is_some());
                let orphan = id.is_none();
                bad.push((
                    id,
                    FlagProblem {
                        route: name,
                        error,
                        orphan,
                    },
                ));
            }
        }
    }
    let mut problems = Vec::with_capacity(bad.len());
    for (id, problem) in bad {
        if let (Some(id), Some(prev)) = (id, previous)
            && let Some(flag) = prev.get(&id)
        {
            flags.entry(id).or_insert_with(|| flag.clone());
        }
        problems.push(problem);
    }
    (flags, problems)
}

/// One hash over what a config applies: `routes.toml`, the secret files and
/// the flag text in force per route (so a rejected edit changes nothing).
/// What every replica with the same flags in force computes, whatever its
/// paths: each route id with its flag file's content fingerprint.
pub fn flags_fingerprint(flags: &BTreeMap<RouteId, Flag>) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (id, flag) in flags {
        h.update(id.as_str().as_bytes());
        h.update([0u8]);
        h.update(flag.fingerprint);
    }
    h.finalize().into()
}

pub fn applied_hash(
    routes_text: &str,
    secret_files: &[(PathBuf, Option<[u8; 32]>)],
    flags: &BTreeMap<RouteId, Flag>,
) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(routes_text.as_bytes());
    for (path, digest) in secret_files {
        h.update([1u8]);
        h.update(path.to_string_lossy().as_bytes());
        h.update([0u8]);
        h.update(digest.unwrap_or_default());
        h.update([u8::from(digest.is_some())]);
    }
    for (id, flag) in flags {
        h.update([2u8]);
        h.update(id.as_str().as_bytes());
        h.update([0u8]);
        h.update(flag.source.to_string_lossy().as_bytes());
        h.update([0u8]);
        h.update(flag.fingerprint);
    }
    h.finalize().into()
}
