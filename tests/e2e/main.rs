//! End-to-end tests: the real cutover binary (and, for the embedded adapter,
//! the library in-process) on port 0, with real HTTP upstreams on port 0
//! standing in for next and rust.

mod auth;
mod bind;
mod caps;
mod check;
mod cli;
mod embedded;
mod failures;
mod fallback_non_idempotent;
mod flags;
mod health;
mod hostile;
mod jwks;
#[path = "../auth/mint.rs"]
#[allow(dead_code)]
mod mint;
mod override_browser;
mod overrides;
mod query_token;
mod replicas;
mod routing;
mod secrets;
mod shadow;
mod status_page;
mod stream_policy;
mod streams;
mod support;
mod upstream_pool;
