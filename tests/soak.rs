//! Soak with faults (issue 17), run by `bench/soak.sh [--short|--long]`:
//! mixed traffic through the real cutover binary against the real stack
//! (legacy Next as a custom server with a Socket.IO gateway, embedded rust
//! handlers, a private PostgreSQL cluster, a private Redis for the caps,
//! Soketi) — pages, reads, sends, auth storms, a Soketi subscriber, an SSE
//! reader, long-lived Socket.IO clients and multi-MiB uploads and
//! downloads — while flags flip, broken edits land,
//! SIGHUPs arrive and every component is killed and restarted in turn (see
//! soak/faults.rs). Asserts: no failed request outside the windows where a
//! component it needed was down (inside them only cutover's JSON 502/503/504),
//! no hang, no reset; every acknowledged send stored once; every event
//! received once by a subscriber that stayed connected; every transfer's
//! bytes intact; Socket.IO clients dropped and lost acks only while Next was
//! down; peak RSS bounded; RSS, fds, threads back near baseline; no panic, no unexplained ERROR; every broken edit
//! rejected with the last good config in force; the generation monotonic.
//!
//! Parameters (environment, set by bench/soak.sh): SOAK_SECS (unset: the
//! test returns at once, so `--include-ignored` does not run it twice),
//! SOAK_RATE requests/s per client kind (8), SOAK_STORM auths per storm (20),
//! SOAK_FLIP_MS (100), SOAK_FLIPS_PER_TICK (1), SOAK_BROKEN_MS (4000),
//! SOAK_SIGHUP_MS (7000), SOAK_SIO_CLIENTS websocket Socket.IO clients (20),
//! SOAK_SIO_POLLING polling-only ones (3), SOAK_TRANSFER_MS between large
//! transfers (3000), SOAK_SUMMARY (path for the JSON figures).

#[path = "parity/creds.rs"]
#[allow(dead_code)]
mod creds;
#[path = "e2e/support.rs"]
#[allow(dead_code)]
mod e2e;
#[path = "soak/faults.rs"]
mod faults;
#[path = "support/harness.rs"]
mod harness;
#[path = "support/legacy_next.rs"]
mod legacy_next;
#[path = "auth/mint.rs"]
#[allow(dead_code)]
mod mint;
#[path = "soak/procs.rs"]
mod procs;
#[path = "soak/record.rs"]
mod record;
#[path = "soak/report.rs"]
mod report;
#[path = "soak/sample.rs"]
mod sample;
#[path = "soak/sockets.rs"]
mod sockets;
#[path = "soak/sse.rs"]
mod sse;
#[path = "soak/stack.rs"]
mod stack;
#[path = "soak/summary.rs"]
mod summary;
#[path = "soak/traffic.rs"]
mod traffic;
#[path = "soak/transfers.rs"]
mod transfers;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use harness::user;
use record::Record;
use stack::SoakStack;
use traffic::Ctx;

fn env_f(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(name: &str, default: f64) -> Duration {
    Duration::from_millis(env_f(name, default) as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: run by bench/soak.sh"]
async fn mixed_traffic_survives_flips_broken_edits_and_every_component_restarting() {
    // `cargo test -- --include-ignored` (the README's test command) skips it:
    // .ci/run runs bench/soak.sh --short right after, with its parameters.
    if std::env::var_os("SOAK_SECS").is_none() {
        eprintln!("skipped: the soak runs from bench/soak.sh (SOAK_SECS unset)");
        return;
    }
    let secs = Duration::from_secs_f64(env_f("SOAK_SECS", 70.0));
    let rate = env_f("SOAK_RATE", 8.0);
    let stack = Arc::new(SoakStack::start().await);
    let creds = Arc::new(tokio::task::block_in_place(|| {
        creds::Creds::mint(&[user("u1"), user("u2")])
    }));
    let rec = Arc::new(Record::new());
    let ctx = |stop: &Arc<AtomicBool>| {
        Arc::new(Ctx {
            stack: stack.clone(),
            creds: creds.clone(),
            rec: rec.clone(),
            stop: stop.clone(),
            client: traffic::client(),
        })
    };
    // Warm up both sides, then the baseline.
    let warm = ctx(&Arc::new(AtomicBool::new(false)));
    for side in ["rust", "next"] {
        for id in stack::FLIPPED {
            stack.cfg.write_flag(id, &format!("backend = \"{side}\"\n"));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        for i in 0..10 {
            traffic::send_one(&warm, &format!("warm-{side}-{i}")).await;
            let req = warm.client.get(stack.url("/"));
            warm.call(record::Kind::Page, req).await;
        }
    }
    drop(warm);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let base = sample::take(&stack, rec.now()).await;
    let warm_outcomes = std::mem::take(&mut *rec.outcomes.lock().expect("lock"));
    rec.acks.lock().expect("lock").clear();
    let warm_failed: Vec<_> = warm_outcomes
        .iter()
        .filter(|o| o.status >= 500 || o.status == 0)
        .collect();
    assert!(warm_failed.is_empty(), "warm-up failed: {warm_failed:#?}");

    let stop = Arc::new(AtomicBool::new(false));
    let sub_stop = Arc::new(AtomicBool::new(false));
    let sample_stop = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample::sampler(
        stack.clone(),
        rec.clone(),
        sample_stop.clone(),
        Duration::from_millis(500),
    ));
    let subscriber = tokio::spawn(traffic::subscriber(ctx(&sub_stop)));
    let (sio_ws, sio_polling) = (
        env_f("SOAK_SIO_CLIENTS", 20.0) as usize,
        env_f("SOAK_SIO_POLLING", 3.0) as usize,
    );
    let sio = sockets::start(&stack, rec.clone(), sio_ws, sio_polling);
    let sse_reader = tokio::spawn(sse::reader(Arc::new(Ctx {
        client: traffic::stream_client(),
        ..Arc::unwrap_or_clone(ctx(&sub_stop))
    })));
    let load = vec![
        tokio::spawn(traffic::pages(ctx(&stop), rate)),
        tokio::spawn(traffic::reads(ctx(&stop), rate)),
        tokio::spawn(traffic::reads(ctx(&stop), rate)),
        tokio::spawn(traffic::sends(ctx(&stop), rate)),
        tokio::spawn(transfers::transfers(
            ctx(&stop),
            ms("SOAK_TRANSFER_MS", 3000.0),
        )),
        tokio::spawn(traffic::auth_storms(
            ctx(&stop),
            env_f("SOAK_STORM", 20.0) as usize,
            Duration::from_secs(2),
        )),
        tokio::spawn(faults::flipper(
            ctx(&stop),
            ms("SOAK_FLIP_MS", 100.0),
            env_f("SOAK_FLIPS_PER_TICK", 1.0) as usize,
        )),
        tokio::spawn(faults::broken_edits(
            ctx(&stop),
            ms("SOAK_BROKEN_MS", 4000.0),
        )),
        tokio::spawn(faults::sighups(ctx(&stop), ms("SOAK_SIGHUP_MS", 7000.0))),
        tokio::spawn(faults::cycle(ctx(&stop), secs)),
    ];
    tokio::time::sleep(secs.saturating_sub(rec.now())).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.expect("a soak task panicked");
    }
    sio.stop().await;
    let load_secs = rec.now();

    // A last send: once its event is in, the subscriber has drained.
    let drain = ctx(&Arc::new(AtomicBool::new(false)));
    let last = traffic::send_one(&drain, "soak-last").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while let Some(id) = &last {
        let has = |e: &record::Epoch| e.events.contains(id);
        let seen = rec.epochs.lock().expect("lock").iter().any(has)
            && rec.sse.lock().expect("lock").iter().any(has);
        if seen || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sub_stop.store(true, Ordering::Relaxed);
    subscriber.await.expect("subscriber task");
    sse_reader.await.expect("SSE reader task");
    drop(drain);

    summary::finish(
        &stack,
        &rec,
        base,
        sampler,
        sample_stop,
        load_secs,
        sio_ws + sio_polling,
    )
    .await;
}
