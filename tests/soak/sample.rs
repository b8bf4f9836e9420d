//! cutover's resources and config generation, sampled: RSS, open fds
//! (/proc/PID/fd), threads, and `cutover_config_generation` (which must never
//! go down).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::stack::SoakStack;

#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    pub at: Duration,
    pub rss_kib: u64,
    pub fds: u64,
    pub threads: u64,
    pub generation: f64,
}

pub fn resources(pid: u32) -> (u64, u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64);
    (field("VmRSS:"), fds, field("Threads:"))
}

pub async fn take(stack: &SoakStack, at: Duration) -> Sample {
    let (rss_kib, fds, threads) = resources(stack.cutover.child.id());
    let generation = stack.cutover.metric("cutover_config_generation").await;
    Sample {
        at,
        rss_kib,
        fds,
        threads,
        generation,
    }
}

/// Every `every` until `stop`.
pub async fn sampler(
    stack: Arc<SoakStack>,
    rec: Arc<crate::record::Record>,
    stop: Arc<AtomicBool>,
    every: Duration,
) -> Vec<Sample> {
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        out.push(take(&stack, rec.now()).await);
        tokio::time::sleep(every).await;
    }
    out
}
