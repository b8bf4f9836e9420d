//! Open streams (SSE responses, upgraded WebSockets) and what a flip does to
//! them: the per-route policy (`streams = "keep" | "drain" | "migrate"`), the
//! pure wave scheduler that paces migrations, and the byte-level trackers
//! that find where a stream may be ended (an SSE event boundary, a
//! WebSocket message boundary). No Pingora; time is passed in (only the
//! registry's wake-up sleeps until a deadline). The proxy glue lives in
//! `proxy::streams`.

pub mod policy;
pub mod registry;
pub mod sse;
pub mod waves;
pub mod ws;

pub use policy::{Pace, StreamPolicy};
