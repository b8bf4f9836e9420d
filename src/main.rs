//! `cutover` binary: parse the command line, load config before binding any
//! port, then run.

use std::process::ExitCode;

use clap::Parser;
use cutover::cli::{self, Cli, Command, EX_USAGE};
use cutover::config::Config;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The proxy's lines go out through a writer thread (off the request
    // path); the other commands write theirs directly.
    init_logging(matches!(cli.command, Command::Serve { .. }));
    let code = match cli.command {
        Command::Check(args) => cli::check(&cli.config, &args),
        Command::Routes => cli::routes(&cli.config),
        Command::Flip(args) => cli::flip(&cli.config, &args),
        Command::Status(args) => cli::status::run(&cli.config, &args),
        Command::Override(args) => cli::r#override::command(&cli.config, &args),
        Command::Serve { upgrade } => serve(&cli.config, upgrade),
        Command::Handlers { listen } => handlers(&listen),
        Command::Migrate(args) => cli::migrate::run(&args),
    };
    // Every line written before the exit is out (the access lines of the
    // requests drained at shutdown included).
    cutover::logbuf::flush();
    code
}

fn serve(path: &std::path::Path, upgrade: bool) -> ExitCode {
    // A bad flag file does not stop the proxy: its route goes to next (it has
    // no last good flag yet), the reloader logs it, and /-/config shows it.
    // Every secret routes.toml names must be set: all unset ones are listed,
    // one `file:line` per line.
    let loaded = match cli::config_missing(path) {
        Some(msg) => Err(msg),
        None => Config::load_lenient(path).map_err(|e| e.to_string()),
    };
    let config = match loaded {
        Ok(c) => c,
        Err(e) => {
            for line in e.lines() {
                eprintln!("error: {line}");
            }
            return ExitCode::from(EX_USAGE);
        }
    };
    for weak in &config.weak_secrets {
        tracing::warn!("{weak}");
    }
    let threads = config.process.threads;
    let (runtime, rust) = match handlers_runtime(threads) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let built = match cutover::server::build(config, path, rust, upgrade) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot bind: {e}");
            return ExitCode::from(1);
        }
    };
    // Tests and scripts read this line to find the ports.
    println!(
        "cutover listening proxy={} admin={}",
        built.proxy_addr, built.admin_addr
    );
    built.server.run(pingora::server::RunArgs {
        shutdown_signal: Box::new(cutover::server::drain::Signals(built.drain)),
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    ExitCode::SUCCESS
}

fn handlers_runtime(
    threads: usize,
) -> Result<(tokio::runtime::Runtime, cutover::app::Embedded), String> {
    let env = cutover::app::HandlersEnv::from_env()?;
    let runtime = cutover::app::runtime(threads).map_err(|e| e.to_string())?;
    let rust = cutover::app::build(env, &runtime, true)?;
    Ok((runtime, rust))
}

/// `cutover handlers`: the rust handlers on their own, behind a remote
/// cutover. Only requests whose `x-cutover-identity-sig` verifies with
/// CUTOVER_IDENTITY_KEY carry an identity.
fn handlers(listen: &str) -> ExitCode {
    let key = match std::env::var("CUTOVER_IDENTITY_KEY")
        .map_err(|_| "CUTOVER_IDENTITY_KEY is not set".to_string())
        .and_then(|k| {
            cutover::identity::IdentityKey::new(k.into_bytes()).map_err(|e| e.to_string())
        }) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (rt, cutover::app::Embedded { router, .. }) = match handlers_runtime(threads) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let router = router.layer(axum::middleware::from_fn_with_state(
        key,
        cutover::identity::optional_identity,
    ));
    rt.block_on(async {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot bind {listen}: {e}");
                return ExitCode::from(1);
            }
        };
        println!(
            "cutover handlers listening={}",
            listener
                .local_addr()
                .map_or_else(|_| listen.to_string(), |a| a.to_string())
        );
        match axum::serve(listener, router).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        }
    })
}

fn init_logging(buffered: bool) {
    if buffered {
        cutover::logbuf::install();
    }
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("CUTOVER_LOG_FORMAT").is_ok_and(|v| v == "json");
    // Colour only for a person at a terminal, never in a log file.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(cutover::logbuf::Writer);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.compact().init();
    }
}
