//! cutover: a Pingora reverse proxy that moves a Next.js app's API to Rust
//! one route at a time.

pub mod config;
/// Budgeted fallback from rust to next.
pub mod fallback;
pub mod identity;
/// Sliding-window comparison of rust with next per route, and the guard.
pub mod judge;
/// Shadow calls: what to copy, how to compare, the diff log.
pub mod shadow;
