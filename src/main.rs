//! `cutover` binary: parse the command line, load config before binding any
//! port, then run.

use std::process::ExitCode;

use clap::Parser;
use cutover::cli::{self, Cli, Command, EX_USAGE};
use cutover::config::Config;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match cli.command {
        Command::Check => cli::check(&cli.config),
        Command::Routes => cli::routes(&cli.config),
        Command::Flip {
            route,
            backend,
            percent,
            sticky_by,
        } => cli::flip(&cli.config, &route, &backend, percent, &sticky_by),
        Command::Serve { upgrade } => serve(&cli.config, upgrade),
        Command::Handlers { listen } => handlers(&listen),
    }
}

fn serve(path: &std::path::Path, upgrade: bool) -> ExitCode {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let built =
        match cutover::server::build(config, path, cutover::server::embedded_router(), upgrade) {
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
    built.server.run(pingora::server::RunArgs::default());
    ExitCode::SUCCESS
}

fn handlers(listen: &str) -> ExitCode {
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
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
        match axum::serve(listener, cutover::server::embedded_router()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        }
    })
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("CUTOVER_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.compact().init();
    }
}
