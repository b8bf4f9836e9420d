//! `/-/backends` and the backend-health parts of `/-/ready` and `/-/config`.
//!
//! Readiness does not follow backend health: every replica sees the same
//! Next and the same database, so failing readiness when one is down would
//! pull every replica out of the load balancer at once and turn a partial
//! outage (some routes failing) into a total one. `/-/ready` stays 200 and
//! lists the unhealthy backends instead; alert on `cutover_backend_up`.

use serde_json::{Value, json};

use crate::health::Health;

/// `/-/backends`: every configured backend's state, reason, since, last
/// error and last check.
pub fn backends_json(health: &Health) -> Value {
    json!({
        "backends": health.to_json(),
        "note": "up: answered (a request or its health check); down: cannot be reached, with the reason; unknown: nothing seen yet",
    })
}

/// Add `backends_unhealthy` (and a note when there are any) to `/-/ready`.
pub fn add_to_ready(body: &mut Value, health: &Health) {
    let unhealthy: Vec<Value> = health
        .unhealthy()
        .into_iter()
        .map(|(backend, reason)| json!({ "backend": backend, "reason": reason }))
        .collect();
    if !unhealthy.is_empty() {
        body["backends_note"] = json!(
            "still ready: a backend being down is not this replica's fault, and every replica shares it; see /-/backends"
        );
    }
    body["backends_unhealthy"] = Value::Array(unhealthy);
}
