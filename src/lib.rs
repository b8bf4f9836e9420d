//! cutover: a Pingora reverse proxy that moves a Next.js app's API to Rust
//! one route at a time.

pub mod handlers;
pub mod identity;
pub mod store;
