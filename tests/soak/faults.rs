//! The faults, on a schedule: flag flips every `flip_ms` across routes, a
//! broken edit every few seconds (a flag file or routes.toml, then fixed,
//! each checked rejected with the last good config in force), SIGHUP, and a
//! repeating cycle that kills and restarts Next, restarts the private
//! PostgreSQL, kills and restarts the private Redis and Soketi, and makes the
//! handlers slow by holding `LOCK TABLE "Message"` for 2 s.

use std::sync::Arc;
use std::time::Duration;

use crate::record::{Dep, Record};
use crate::stack::{BROKEN, FLIPPED, SoakStack};
use crate::traffic::Ctx;

/// A component counts as down from the fault until this long after it is
/// back (pools reconnect, health checks run every 5 s).
pub const GRACE: Duration = Duration::from_secs(8);
/// One fault cycle's length (the short profile runs one).
pub const CYCLE: Duration = Duration::from_secs(62);

pub async fn flipper(ctx: Arc<Ctx>, every: Duration, per_tick: usize) {
    let mut i = 0usize;
    while !ctx.stopped() {
        for _ in 0..per_tick {
            let route = FLIPPED[i % FLIPPED.len()];
            let side = if (i / FLIPPED.len()).is_multiple_of(2) {
                "rust"
            } else {
                "next"
            };
            ctx.stack
                .cfg
                .write_flag(route, &format!("backend = \"{side}\"\n"));
            i += 1;
        }
        ctx.rec.counts.lock().expect("lock").flips += per_tick as u64;
        tokio::time::sleep(every).await;
    }
}

async fn metric(stack: &SoakStack, series: &str) -> Option<f64> {
    let url = format!("http://{}/metrics", stack.cutover.admin);
    let text = reqwest::get(url).await.ok()?.text().await.ok()?;
    Some(crate::e2e::metric_value(&text, series))
}

const FAILURES: &str = "cutover_config_reloads_total{result=\"failure\"}";

/// The BROKEN route's effective flag and the route count, from `/-/config`.
async fn in_force(stack: &SoakStack) -> Option<(String, usize)> {
    let cfg = stack.admin_json("/-/config").await?;
    let routes = cfg["routes"].as_array()?;
    let flag = routes.iter().find(|r| r["id"] == BROKEN)?["flag"]
        .as_str()?
        .to_owned();
    Some((flag, routes.len()))
}

/// Every `every`, a broken edit (alternately the BROKEN route's flag file
/// and routes.toml), checked rejected within 3 s, then fixed.
pub async fn broken_edits(ctx: Arc<Ctx>, every: Duration) {
    let stack = &ctx.stack;
    let routes_path = stack.cfg.routes_path();
    let good_routes = std::fs::read_to_string(&routes_path).expect("routes.toml");
    let good = in_force(stack).await.expect("/-/config answers");
    let mut n = 0u64;
    while !ctx.stopped() {
        tokio::time::sleep(every).await;
        let Some(before) = metric(stack, FAILURES).await else {
            continue;
        };
        let written = ctx.rec.now();
        if n.is_multiple_of(2) {
            stack
                .cfg
                .write_flag(BROKEN, &format!("backend = \"sideways-{n}\"\n"));
        } else {
            let broken = format!("{good_routes}\n# broken edit {n}\n[[route]\nid = \"half\n");
            std::fs::write(&routes_path, broken).expect("write routes.toml");
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        let mut rejected = false;
        while tokio::time::Instant::now() < deadline {
            if metric(stack, FAILURES).await.is_some_and(|f| f > before) {
                rejected = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let now = in_force(stack).await;
        if !rejected {
            ctx.rec.problem(format!(
                "broken edit {n} not counted as a failed reload within 3 s"
            ));
        }
        if now.as_ref() != Some(&good) {
            ctx.rec.problem(format!(
                "broken edit {n}: config in force {now:?}, last good was {good:?}"
            ));
        }
        if n.is_multiple_of(2) {
            stack.cfg.write_flag(BROKEN, "backend = \"next\"\n");
        } else {
            std::fs::write(&routes_path, &good_routes).expect("restore routes.toml");
        }
        let fixed = ctx.rec.now();
        ctx.rec.edits.lock().expect("lock").push((written, fixed));
        ctx.rec.counts.lock().expect("lock").broken_edits += 1;
        n += 1;
    }
}

pub async fn sighups(ctx: Arc<Ctx>, every: Duration) {
    while !ctx.stopped() {
        tokio::time::sleep(every).await;
        ctx.stack.cutover.signal("HUP");
        ctx.rec.counts.lock().expect("lock").sighups += 1;
    }
}

/// Kill the component behind `lock`, keep it down `down`, start it again;
/// the window runs from the kill until GRACE after it listens again.
async fn kill_restart(
    rec: &Record,
    lock: &std::sync::Mutex<crate::procs::Restartable>,
    dep: Dep,
    down: Duration,
) {
    let start = rec.now();
    let name = tokio::task::block_in_place(|| {
        let mut p = lock.lock().expect("lock");
        p.kill();
        p.name
    });
    tokio::time::sleep(down).await;
    tokio::task::block_in_place(|| lock.lock().expect("lock").start());
    let end = rec.now() + GRACE;
    rec.window(dep, &format!("{name} killed {down:?}"), start, end);
}

async fn restart_postgres(rec: &Record, stack: &SoakStack) {
    let start = rec.now();
    tokio::task::block_in_place(|| stack.pg.ctl("restart"));
    rec.window(
        Dep::Postgres,
        "postgres restarted",
        start,
        rec.now() + GRACE,
    );
}

/// Hold an exclusive lock on "Message" for 2 s: every read and send on
/// either side waits (slow, never failed).
async fn slow_handlers(rec: &Record, stack: &SoakStack) {
    let Ok(mut tx) = stack.pool.begin().await else {
        return rec.problem("slow handler: no connection to lock with".into());
    };
    let locked = sqlx::raw_sql(r#"LOCK TABLE "Message" IN ACCESS EXCLUSIVE MODE"#)
        .execute(&mut *tx)
        .await;
    if let Err(e) = locked {
        return rec.problem(format!("slow handler: lock failed: {e}"));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = tx.rollback().await;
    rec.counts
        .lock()
        .expect("lock")
        .faults
        .push("Message locked 2 s".into());
}

/// The fault cycle, repeated while `until` is ahead.
pub async fn cycle(ctx: Arc<Ctx>, until: Duration) {
    let (rec, stack) = (&ctx.rec, &ctx.stack);
    loop {
        let c0 = rec.now();
        if c0 + CYCLE > until + Duration::from_secs(1) {
            return;
        }
        let at = |s: u64| async move {
            let t = c0 + Duration::from_secs(s);
            tokio::time::sleep(t.saturating_sub(rec.now())).await;
        };
        at(6).await;
        kill_restart(rec, &stack.next, Dep::Next, Duration::from_secs(3)).await;
        at(20).await;
        restart_postgres(rec, stack).await;
        at(32).await;
        kill_restart(rec, &stack.redis, Dep::Redis, Duration::from_secs(3)).await;
        at(42).await;
        kill_restart(rec, &stack.soketi, Dep::Soketi, Duration::from_secs(2)).await;
        at(54).await;
        slow_handlers(rec, stack).await;
        at(CYCLE.as_secs()).await;
    }
}
