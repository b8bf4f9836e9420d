//! cutover: a Pingora reverse proxy that moves a Next.js app's API to Rust
//! one route at a time.

pub mod identity;
pub mod handlers;
pub mod store;
