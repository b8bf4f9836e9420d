//! cutover: a Pingora reverse proxy that moves a Next.js app's API to Rust
//! one route at a time.
//!
//! Request flow: route match → flag decision → backend (next upstream, the
//! embedded rust router, or a remote rust upstream) → metrics and log.

/// The allocator, with the `mimalloc` feature (on by default; built without
/// transparent huge pages, see `Cargo.toml`): cutover allocates and frees
/// small header maps, strings and boxes on every request (glibc malloc/free
/// was ~26k instructions of a pass-through request, `bench/callgrind.sh`).
/// In the library so every binary and example that links it (the Pingora
/// floor too) uses the same one.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Admin listener: metrics, health, readiness, effective config.
pub mod admin;
/// The rust handlers assembled from the environment, on their own runtime.
pub mod app;
/// Edge authentication: session cookies, bearer JWTs, service tokens.
pub mod auth;
/// The backends: upstream peers and the embedded rust adapter.
pub mod backend;
/// Retry-storm caps: per-client rates, collapsing, backend protection.
pub mod cap;
/// Command line.
pub mod cli;
/// Files → validated config types (the only serde/TOML module).
pub mod config;
/// Integers as decimal ASCII without a formatter (per-request paths).
mod decimal;
/// Budgeted fallback from rust to next.
pub mod fallback;
/// Flag types and the pure sticky decision.
pub mod flags;
/// The rust handlers: axum routers by domain (realtime, user threads, tenant chatbot).
pub mod handlers;
/// Backend health: passive evidence, background checks, `/-/backends`.
pub mod health;
/// The verified caller identity handed to both backends.
pub mod identity;
/// Sliding-window comparison of rust with next per route, and the guard.
pub mod judge;
/// The serving process's log lines, written by a thread of their own.
pub mod logbuf;
/// Every metric name and its labels.
pub mod metrics;
/// Signed tester overrides: one tester's requests on a chosen side.
pub mod r#override;
/// The Pingora `ProxyHttp` glue.
pub mod proxy;
/// Live snapshot and the config reloader.
pub mod reload;
/// Route table and pure matcher.
pub mod route;
/// Server assembly shared by main and tests.
pub mod server;
/// Shadow comparison: what to copy, how to compare, the diff log.
pub mod shadow;
/// Database access for the handlers (the legacy app's PostgreSQL schema).
pub mod store;
/// Open streams: the flip policy, the wave scheduler, frame/event boundaries.
pub mod streams;
