//! Config files → validated types (in this branch: only the `[auth]` table).

pub mod auth;
