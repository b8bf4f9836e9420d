//! End-to-end tests: the real cutover binary (and, for the embedded adapter,
//! the library in-process) on port 0, with real HTTP upstreams on port 0
//! standing in for next and rust.

mod auth;
mod bind;
mod caps;
mod check;
mod embedded;
mod failures;
mod fallback_non_idempotent;
mod flags;
mod jwks;
#[path = "../auth/mint.rs"]
#[allow(dead_code)]
mod mint;
mod routing;
mod secrets;
mod shadow;
mod streams;
mod support;
