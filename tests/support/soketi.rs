//! A real Soketi 1.6.1 (Pusher protocol server) from `tests/realtime`
//! (`npm ci` there when missing; the same node_modules hold pusher-js for
//! subscribers), on free ports, killed on drop; and a minimal
//! Pusher-protocol WebSocket subscriber.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message as Ws;

pub struct Soketi {
    pub port: u16,
    child: Child,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/realtime")
}

/// A port that was free a moment ago (Soketi cannot listen on port 0 and
/// report it, so the test picks one).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    l.local_addr().expect("local addr").port()
}

impl Soketi {
    pub async fn start(app_id: &str, key: &str, secret: &str) -> Soketi {
        // Tests start Soketis in parallel: one install at a time.
        static INSTALL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let installing = INSTALL.lock().await;
        if !dir().join("node_modules/pusher-js").exists() {
            // `npm install`, not `ci`: the lock lacks optional darwin/win32
            // builds this registry does not serve (the lock is not changed).
            let ok = Command::new("npm")
                .args(["install", "--no-audit", "--no-fund"])
                .current_dir(dir())
                .status()
                .await
                .expect("npm install in tests/realtime");
            assert!(ok.success(), "npm install failed in tests/realtime");
        }
        drop(installing);
        let port = free_port();
        let mut child = Command::new("node")
            .args(["node_modules/@soketi/soketi/bin/server.js", "start"])
            .current_dir(dir())
            .env("SOKETI_DEFAULT_APP_ID", app_id)
            .env("SOKETI_DEFAULT_APP_KEY", key)
            .env("SOKETI_DEFAULT_APP_SECRET", secret)
            .env("SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES", "false")
            .env("SOKETI_HOST", "127.0.0.1")
            .env("SOKETI_PORT", port.to_string())
            .env("SOKETI_METRICS_SERVER_PORT", free_port().to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn soketi");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let up = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("Server is up and running") {
                    return;
                }
            }
            panic!("soketi exited before it was up");
        };
        tokio::time::timeout(Duration::from_secs(30), up)
            .await
            .expect("soketi up within 30 s");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Soketi { port, child }
    }

    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Soketi {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One pusher-js-like connection.
pub struct Subscriber {
    ws: Stream,
    pub socket_id: String,
}

impl Subscriber {
    pub async fn connect(port: u16, key: &str) -> Subscriber {
        let url =
            format!("ws://127.0.0.1:{port}/app/{key}?protocol=7&client=cutover-test&version=1.0");
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("websocket connects");
        let mut sub = Subscriber {
            ws,
            socket_id: String::new(),
        };
        let hello = sub.next_event().await;
        assert_eq!(hello["event"], "pusher:connection_established", "{hello}");
        let data: Value =
            serde_json::from_str(hello["data"].as_str().expect("data")).expect("data JSON");
        sub.socket_id = data["socket_id"].as_str().expect("socket_id").to_owned();
        sub
    }

    /// The next Pusher event (frame parsed as JSON), within 10 s.
    pub async fn next_event(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("an event within 10 s")
                .expect("socket open")
                .expect("frame");
            if let Ws::Text(t) = frame {
                return serde_json::from_str(t.as_str()).expect("event JSON");
            }
        }
    }

    /// Subscribe with an auth payload from the auth endpoint; returns Soketi's answer event.
    pub async fn subscribe(&mut self, channel: &str, auth: &Value) -> Value {
        let mut data = json!({"channel": channel, "auth": auth["auth"]});
        if let Some(cd) = auth.get("channel_data") {
            data["channel_data"] = cd.clone();
        }
        let frame = json!({"event": "pusher:subscribe", "data": data}).to_string();
        self.ws.send(Ws::text(frame)).await.expect("send subscribe");
        self.next_event().await
    }
}
