//! A route's migration stage, the `stage` label of `cutover_stage{route,stage}`:
//! next → shadow → canary → rust, or tripped when the guard rolled it back.

/// Where a route is in its migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Next,
    Shadow,
    Canary,
    Rust,
    Tripped,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::Next,
        Stage::Shadow,
        Stage::Canary,
        Stage::Rust,
        Stage::Tripped,
    ];

    /// `rust_percent`: effective share of requests served by rust (0..=100:
    /// 0 for `backend = "next"` without canary, 100 for `backend = "rust"`);
    /// `shadow_percent`: the flag's shadow percent; `tripped`: the trip latch.
    pub fn of(rust_percent: u8, shadow_percent: u8, tripped: bool) -> Stage {
        match (tripped, rust_percent, shadow_percent) {
            (true, _, _) => Stage::Tripped,
            (false, 0, 0) => Stage::Next,
            (false, 0, _) => Stage::Shadow,
            (false, p, _) if p >= 100 => Stage::Rust,
            _ => Stage::Canary,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Next => "next",
            Stage::Shadow => "shadow",
            Stage::Canary => "canary",
            Stage::Rust => "rust",
            Stage::Tripped => "tripped",
        }
    }
}
