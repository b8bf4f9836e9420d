//! The soak's private processes, each on a fixed free port so it can be
//! killed and started again at the same address: a PostgreSQL cluster
//! (`initdb` + `pg_ctl` from /usr/lib/postgresql/*/bin, run as the `postgres`
//! user when the test runs as root), a `redis-server`, a Soketi and the legacy
//! Next app (as a custom server with a Socket.IO gateway). Nothing here
//! touches the machine's own services.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind port 0")
        .local_addr()
        .expect("local addr")
        .port()
}

/// Wait until something accepts on `port` (or panic with `what`).
pub fn wait_port(port: u16, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn pg_bin(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("/usr/lib/postgresql (apt-get install postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|d| d.join(name).exists())
        .collect();
    dirs.sort();
    dirs.pop()
        .unwrap_or_else(|| panic!("no {name} under /usr/lib/postgresql/*/bin"))
        .join(name)
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A private PostgreSQL cluster in a temp dir (trust auth, user postgres).
pub struct PrivatePg {
    pub port: u16,
    dir: tempfile::TempDir,
    root: bool,
}

impl PrivatePg {
    pub fn start() -> PrivatePg {
        let dir = tempfile::Builder::new()
            .prefix("cutover-soak-pg")
            .tempdir()
            .expect("temp dir");
        let root = is_root();
        if root {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(ok.success(), "chown the cluster dir to postgres");
        }
        let pg = PrivatePg {
            port: free_port(),
            dir,
            root,
        };
        let data = pg.data();
        pg.run(
            pg_bin("initdb"),
            &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        );
        pg.ctl("start");
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, bin: PathBuf, args: &[&str]) {
        let mut cmd = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin);
            c
        } else {
            Command::new(bin)
        };
        let out = cmd
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run a postgres tool");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl start|stop|restart` (fast shutdown, waits).
    pub fn ctl(&self, action: &str) {
        let data = self.data();
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("pg.log").display().to_string();
        let mut args = vec![action, "-D", &data, "-w", "-m", "fast", "-l", &log];
        if action != "stop" {
            args.extend(["-o", &opts]);
        }
        self.run(pg_bin("pg_ctl"), &args);
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.data();
        let mut cmd = if self.root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_bin("pg_ctl"));
            c
        } else {
            Command::new(pg_bin("pg_ctl"))
        };
        let _ = cmd
            .args(["stop", "-D", &data, "-m", "immediate"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A child process restarted at the same port by its `spawn` function.
pub struct Restartable {
    pub name: &'static str,
    pub port: u16,
    spawn: Box<dyn Fn(u16) -> Child + Send + Sync>,
    child: Option<Child>,
}

impl Restartable {
    pub fn new(
        name: &'static str,
        spawn: impl Fn(u16) -> Child + Send + Sync + 'static,
    ) -> Restartable {
        let mut r = Restartable {
            name,
            port: free_port(),
            spawn: Box::new(spawn),
            child: None,
        };
        r.start();
        r
    }

    pub fn start(&mut self) {
        self.child = Some((self.spawn)(self.port));
        wait_port(self.port, Duration::from_secs(60), self.name);
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Restartable {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn redis(dir: &Path) -> impl Fn(u16) -> Child + Send + Sync + 'static {
    let dir = dir.to_path_buf();
    move |port| {
        Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)")
    }
}

pub fn soketi() -> impl Fn(u16) -> Child + Send + Sync + 'static {
    use crate::harness::{APP_ID, APP_KEY, APP_SECRET};
    |port| {
        Command::new("node")
            .args(["node_modules/@soketi/soketi/bin/server.js", "start"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/realtime"))
            .env("SOKETI_DEFAULT_APP_ID", APP_ID)
            .env("SOKETI_DEFAULT_APP_KEY", APP_KEY)
            .env("SOKETI_DEFAULT_APP_SECRET", APP_SECRET)
            .env("SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES", "false")
            .env("SOKETI_HOST", "127.0.0.1")
            .env("SOKETI_PORT", port.to_string())
            .env("SOKETI_METRICS_SERVER_PORT", free_port().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs Soketi (npm ci in tests/realtime)")
    }
}

/// The Socket.IO handshake token of the custom server's `/chat` namespace.
pub const SIO_TOKEN: &str = "soak-sio-handshake-token";

/// The legacy Next app as a custom server on a fixed port
/// (tests/socketio/next-server.cjs: Next's request handler, the Socket.IO
/// gateway at /socket.io/ and an upload endpoint on one http server; it
/// listens only once Next is ready). tests/support/legacy_next.rs runs
/// `next start` on port 0, which a restart could not keep.
pub fn next(
    database_url: String,
    soketi_port: u16,
    media_root: PathBuf,
) -> impl Fn(u16) -> Child + Send + Sync {
    use crate::harness::{APP_ID, APP_KEY, APP_SECRET};
    use crate::legacy_next::{IDENTITY_KEY, NEXTAUTH_SECRET};
    let root = env!("CARGO_MANIFEST_DIR");
    move |port| {
        Command::new("node")
            .arg(format!("{root}/tests/socketio/next-server.cjs"))
            .arg(port.to_string())
            .current_dir(format!("{root}/tests/legacy-next"))
            .env("NODE_ENV", "production")
            .env("NEXT_TELEMETRY_DISABLED", "1")
            .env("SIO_TOKEN", SIO_TOKEN)
            .env("DATABASE_URL", &database_url)
            .env("PUSHER_APP_ID", APP_ID)
            .env("PUSHER_KEY", APP_KEY)
            .env("PUSHER_SECRET", APP_SECRET)
            .env("PUSHER_HOST", "127.0.0.1")
            .env("PUSHER_PORT", soketi_port.to_string())
            .env("NEXTAUTH_SECRET", NEXTAUTH_SECRET)
            .env("CUTOVER_IDENTITY_KEY", IDENTITY_KEY)
            .env("NEXTAUTH_URL", "http://127.0.0.1")
            .env("WHATSAPP_MEDIA_ROOT", &media_root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs tests/socketio/next-server.cjs (npm ci in tests/socketio)")
    }
}
