//! The end of a soak: wait for the resources to settle, check the flags in
//! force, judge everything (report.rs, sockets.rs), print and write the figures
//! (SOAK_SUMMARY), then assert.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::record::Record;
use crate::report::{self, FD_MARGIN, RSS_MARGIN_KIB, THREAD_MARGIN};
use crate::sample::{self, Sample};
use crate::stack::{FLIPPED, SoakStack};

/// Each flipped route's flag in force equals its file's last content.
async fn flags_in_force(stack: &SoakStack) -> Vec<String> {
    let mut bad = Vec::new();
    let Some(cfg) = stack.admin_json("/-/config").await else {
        return vec!["/-/config did not answer".into()];
    };
    for id in FLIPPED {
        let file = std::fs::read_to_string(stack.cfg.flags().join(format!("{id}.toml")))
            .unwrap_or_default();
        let want = if file.contains("rust") { 100 } else { 0 };
        let route = cfg["routes"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["id"] == *id));
        let got = route.and_then(|r| r["rust_percent"].as_u64());
        if got != Some(want) {
            bad.push(format!(
                "{id}: file says {file:?}, in force rust_percent {got:?}"
            ));
        }
    }
    bad
}

/// (count, id) per client id stored.
async fn stored(stack: &SoakStack) -> HashMap<String, (i64, String)> {
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        r#"SELECT "clientMessageId", count(*), min("id"::text) FROM "Message"
           WHERE "clientMessageId" LIKE 'soak-%' GROUP BY 1"#,
    )
    .fetch_all(&stack.pool)
    .await
    .expect("query the sends");
    rows.into_iter().map(|(k, n, id)| (k, (n, id))).collect()
}

/// Settled: within the margins of `base`, or the last look after 20 s.
async fn settled(stack: &SoakStack, rec: &Record, base: &Sample) -> Sample {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let s = sample::take(stack, rec.now()).await;
        let ok = s.rss_kib <= base.rss_kib + RSS_MARGIN_KIB
            && s.fds <= base.fds + FD_MARGIN
            && s.threads <= base.threads + THREAD_MARGIN;
        if ok || tokio::time::Instant::now() > deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Ten points of the RSS curve (MiB) over the run.
fn rss_curve(samples: &[Sample]) -> Vec<(f64, f64)> {
    let step = (samples.len() / 10).max(1);
    samples
        .iter()
        .step_by(step)
        .chain(samples.last())
        .map(|s| {
            (
                s.at.as_secs_f64().round(),
                (s.rss_kib as f64 / 1024.0 * 10.0).round() / 10.0,
            )
        })
        .collect()
}

pub async fn finish(
    stack: &SoakStack,
    rec: &Record,
    base: Sample,
    sampler: tokio::task::JoinHandle<Vec<Sample>>,
    sample_stop: Arc<AtomicBool>,
    load_secs: Duration,
    sio_clients: usize,
) {
    let flags = flags_in_force(stack).await;
    let after = settled(stack, rec, &base).await;
    sample_stop.store(true, Ordering::Relaxed);
    let samples = sampler.await.expect("sampler task");
    let cutover_log = stack.cutover.log();
    let (tally, by_backend) = report::judge_requests(rec);
    let sends = report::judge_sends(rec, &stored(stack).await);
    let ws_epochs = rec.epochs.lock().expect("lock").clone();
    let sse_epochs = rec.sse.lock().expect("lock").clone();
    let (events_checked, mut events) = report::judge_events(rec, &ws_epochs, "Soketi subscription");
    let (sse_checked, sse_bad) = report::judge_events(rec, &sse_epochs, "SSE subscription");
    events.extend(sse_bad);
    let peak_hwm = stack.cutover.peak_rss_kib();
    let resources = report::judge_resources(&base, &after, peak_hwm, &samples);
    let (socketio, sockets) = crate::sockets::judge(rec, sio_clients);
    let corrupt = rec.corrupt.lock().expect("lock").clone();
    let (errors, log) = report::judge_log(rec, &cutover_log);
    let problems = rec.problems.lock().expect("lock").clone();
    let counts = rec.counts.lock().expect("lock").clone();
    let requests = rec.outcomes.lock().expect("lock").len();
    let slowest = rec
        .outcomes
        .lock()
        .expect("lock")
        .iter()
        .map(|o| o.took)
        .max()
        .unwrap_or_default();
    let peak = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let figures = json!({
        "duration_s": load_secs.as_secs(),
        "requests": requests,
        "by_kind_and_backend": by_backend,
        "ok": tally.ok,
        "capped_429": tally.capped,
        "excused_in_fault_windows": tally.excused,
        "backend_5xx_passed_through_in_windows": tally.passed_through,
        "bodies_cut_by_dying_backend": tally.cut_mid_body,
        "breaker_503_after_windows": tally.breaker,
        "failed": tally.failed.len(),
        "slowest_request_s": (slowest.as_secs_f64() * 100.0).round() / 100.0,
        "sends_acknowledged": rec.acks.lock().expect("lock").len(),
        "subscriptions": rec.epochs.lock().expect("lock").len(),
        "events_checked": events_checked,
        "sse_subscriptions": sse_epochs.len(),
        "sse_connections": counts.sse_connections,
        "sse_events_checked": sse_checked,
        "socketio": socketio,
        "transfers": {
            "uploads": by_backend.iter().filter(|(k, _)| k.starts_with("Upload/")).map(|(_, n)| n).sum::<u64>(),
            "downloads": by_backend.iter().filter(|(k, _)| k.starts_with("Download/")).map(|(_, n)| n).sum::<u64>(),
            "checked_mib": counts.transfer_bytes / (1024 * 1024),
            "corrupt": corrupt.len(),
        },
        "flips": counts.flips,
        "broken_edits": counts.broken_edits,
        "sighups": counts.sighups,
        "faults": counts.faults,
        "windows": rec.windows.lock().expect("lock").iter()
            .map(|w| format!("{} {:.1}s..{:.1}s", w.what, w.start.as_secs_f64(), w.end.as_secs_f64()))
            .collect::<Vec<_>>(),
        "log_error_lines": errors.values().sum::<u64>(),
        "log_errors_by_message": errors,
        "generation": [samples.first().map(|s| s.generation), samples.last().map(|s| s.generation)],
        "rss_mib": {"baseline": base.rss_kib / 1024, "peak_sampled": peak / 1024, "peak_vmhwm": peak_hwm / 1024, "after": after.rss_kib / 1024,
                    "curve_s_mib": rss_curve(&samples)},
        "fds": {"baseline": base.fds, "after": after.fds},
        "threads": {"baseline": base.threads, "after": after.threads},
    });
    let text = serde_json::to_string_pretty(&figures).expect("figures JSON");
    eprintln!("soak figures:\n{text}");
    if let Ok(path) = std::env::var("SOAK_SUMMARY") {
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("write {path}: {e}"));
    }
    let mut violations: Vec<String> = Vec::new();
    for (what, list) in [
        ("failed requests", &tally.failed),
        ("sends", &sends),
        ("transfers", &corrupt),
        ("socket.io", &sockets),
        ("events", &events),
        ("resources", &resources),
        ("log", &log),
        ("config", &problems),
        ("flags in force", &flags),
    ] {
        for v in list.iter().take(20) {
            violations.push(format!("{what}: {v}"));
        }
        if list.len() > 20 {
            violations.push(format!("{what}: … {} more", list.len() - 20));
        }
    }
    assert!(
        violations.is_empty(),
        "{} violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
    assert!(
        counts.faults.len() >= 5
            && counts.flips > 0
            && counts.broken_edits > 0
            && sse_checked > 0
            && counts.transfer_bytes > 0,
        "{counts:?}, {sse_checked} SSE events checked"
    );
}
