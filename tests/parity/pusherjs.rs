//! A real pusher-js subscriber (tests/realtime/subscribe.cjs under node)
//! whose channel authorization goes through cutover with a session cookie,
//! like the frontend's. Events come back as JSON lines; killed on drop.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

pub struct PusherJs {
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

impl PusherJs {
    /// Subscribed (Soketi confirmed) to `channel`, listening for `event`.
    pub async fn subscribe(
        soketi_port: u16,
        key: &str,
        auth_url: &str,
        cookie: &str,
        channel: &str,
        event: &str,
    ) -> PusherJs {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/realtime");
        let mut child = Command::new("node")
            .arg("subscribe.cjs")
            .current_dir(dir)
            .env("SOKETI_PORT", soketi_port.to_string())
            .env("PUSHER_KEY", key)
            .env("AUTH_URL", auth_url)
            .env("COOKIE", cookie)
            .env("CHANNEL", channel)
            .env("EVENT", event)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs tests/realtime/subscribe.cjs (npm ci in tests/realtime)");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut sub = PusherJs {
            lines: BufReader::new(stdout).lines(),
            _child: child,
        };
        let first = sub
            .next()
            .await
            .expect("pusher-js said something within 20 s");
        assert_eq!(first["ready"], true, "pusher-js did not subscribe: {first}");
        sub
    }

    /// The next line from pusher-js, or None after 20 s of silence.
    pub async fn next(&mut self) -> Option<Value> {
        let line = tokio::time::timeout(Duration::from_secs(20), self.lines.next_line())
            .await
            .ok()?
            .ok()??;
        Some(serde_json::from_str(&line).expect("subscribe.cjs prints JSON lines"))
    }
}
