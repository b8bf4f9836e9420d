//! Auth against test vectors minted at test time by the real libraries
//! (next-auth 4.24.15, @auth/core 0.41.3, jsonwebtoken) via tests/tokens/mint.mjs.
//! Run: `cargo test --test auth_vectors` (needs node + npm; runs `npm ci` once).

#[path = "auth/bearer.rs"]
mod bearer;
#[path = "auth/common.rs"]
mod common;
#[path = "auth/fuzz.rs"]
mod fuzz;
#[path = "auth/issuers.rs"]
mod issuers;
#[path = "auth/mint.rs"]
mod mint;
#[path = "auth/routes.rs"]
mod routes;
#[path = "auth/session_v4.rs"]
mod session_v4;
#[path = "auth/session_v5.rs"]
mod session_v5;
