//! The seven shadow route keys as `routes.toml` spans them, so a bad value is
//! reported at the line of the key that holds it. Used by `config::raw`.

use std::ops::Range;

use toml::Spanned;

use super::{
    RawCompare, RawFallbackBudget, RawFallbackTarget, RawGuard, RawRouteShadowKeys,
    RawShadowLimits, RawShadowWrites, RouteShadowConfig, ShadowConfigError,
};

/// A route's `shadow_writes`, `shadow_limits`, `compare`, `fallback`,
/// `fallback_budget`, `fallback_non_idempotent` and `guard`, with their positions.
pub struct SpannedShadowKeys {
    pub shadow_writes: Option<Spanned<RawShadowWrites>>,
    pub shadow_limits: Option<Spanned<RawShadowLimits>>,
    pub compare: Option<Spanned<RawCompare>>,
    pub fallback: Option<Spanned<RawFallbackTarget>>,
    pub fallback_budget: Option<Spanned<RawFallbackBudget>>,
    pub fallback_non_idempotent: Option<Spanned<bool>>,
    pub guard: Option<Spanned<RawGuard>>,
}

impl SpannedShadowKeys {
    /// Validate; on error, the span of the key at fault (if present) and the message.
    pub fn convert(self) -> Result<RouteShadowConfig, (Option<Range<usize>>, String)> {
        let SpannedShadowKeys {
            shadow_writes,
            shadow_limits,
            compare,
            fallback,
            fallback_budget,
            fallback_non_idempotent,
            guard,
        } = self;
        let spans = [
            ("shadow_writes", shadow_writes.as_ref().map(Spanned::span)),
            ("shadow_limits", shadow_limits.as_ref().map(Spanned::span)),
            ("compare", compare.as_ref().map(Spanned::span)),
            (
                "fallback_budget",
                fallback_budget.as_ref().map(Spanned::span),
            ),
            (
                "fallback_non_idempotent",
                fallback_non_idempotent.as_ref().map(Spanned::span),
            ),
            ("fallback", fallback.as_ref().map(Spanned::span)),
            ("guard", guard.as_ref().map(Spanned::span)),
        ];
        let raw = RawRouteShadowKeys {
            shadow_writes: shadow_writes.map(Spanned::into_inner),
            shadow_limits: shadow_limits.map(Spanned::into_inner),
            compare: compare.map(Spanned::into_inner),
            fallback: fallback.map(Spanned::into_inner),
            fallback_budget: fallback_budget.map(Spanned::into_inner),
            fallback_non_idempotent: fallback_non_idempotent.map(Spanned::into_inner),
            guard: guard.map(Spanned::into_inner),
        };
        RouteShadowConfig::try_from(raw).map_err(|e| {
            let key = key_of(&e);
            let span = spans
                .iter()
                .find(|(name, _)| key.starts_with(name))
                .and_then(|(_, s)| s.clone());
            (span, e.to_string())
        })
    }
}

/// The route key an error is about.
fn key_of(e: &ShadowConfigError) -> &'static str {
    match e {
        ShadowConfigError::OutOfRange { key, .. } | ShadowConfigError::BadDuration { key, .. } => {
            key
        }
        ShadowConfigError::BadIgnorePath { .. } | ShadowConfigError::BadHeaderName { .. } => {
            "compare"
        }
        ShadowConfigError::BudgetWithoutFallback => "fallback_budget",
        ShadowConfigError::NonIdempotentWithoutFallback => "fallback_non_idempotent",
    }
}
