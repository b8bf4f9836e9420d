//! Files → validated types. The only module that knows serde and TOML.
//! (Caps branch: only the `cap` part; the lead merges the rest.)

pub mod cap;
