//! Command line: `serve`, `check`, `routes`, `flip`, `handlers`.

mod check;
pub mod flip;
pub mod migrate;
pub mod r#override;
mod routes;
pub mod status;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use check::{CheckArgs, check, config_missing};
pub use routes::routes;

/// Exit code for bad config or usage (sysexits EX_USAGE).
pub const EX_USAGE: u8 = 64;

#[derive(Parser, Debug)]
#[command(
    name = "cutover",
    version,
    about = "Move a Next.js app's API to Rust one route at a time"
)]
pub struct Cli {
    /// Path to routes.toml (flags are read from its `flags_dir`).
    #[arg(
        long,
        global = true,
        env = "CUTOVER_CONFIG",
        default_value = "routes.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the proxy.
    #[command(after_help = SERVE_ENV)]
    Serve {
        /// Take over the listening sockets of a running cutover (graceful upgrade).
        #[arg(long)]
        upgrade: bool,
    },
    /// Validate routes.toml, every flag file and every secret reference
    /// without binding a port or needing a secret's value.
    Check(CheckArgs),
    /// Print the effective route table.
    Routes,
    /// Point a route at a backend: edit its flag file in place (atomically),
    /// then wait until the running proxy applies it.
    Flip(flip::FlipArgs),
    /// Sign a tester override: print the cookie and the /-/override link that sets it.
    Override(r#override::OverrideArgs),
    /// Print every route's live state from the running proxy's admin port
    /// (the status page's table): stage, flag file, guard, rps/errors/p99, shadow.
    Status(status::StatusArgs),
    /// Apply the database migrations (DATABASE_URL) the handlers and the Next app share.
    Migrate(migrate::MigrateArgs),
    /// Serve only the rust handlers (for a separate deployment).
    Handlers {
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: String,
    },
}

/// What `cutover serve --help` lists after the options.
const SERVE_ENV: &str = "\
Environment (the secrets are the ones the shipped routes.toml names by *_env; yours may name others):
  CUTOVER_CONFIG          path to routes.toml, like --config
  CUTOVER_IDENTITY_KEY    [auth] identity_key_env: signs the x-cutover-* identity headers (32+ bytes)
  NEXTAUTH_SECRET         [auth.session] secret_envs: the Next app's NEXTAUTH_SECRET
  CHATBOT_JWT_SECRET      [[auth.chatbot]] hs256_secret_env: the chatbot widget's HS256 secret
  DATABASE_URL            PostgreSQL of the rust handlers; unset: they answer 503 (routes on next unaffected)
  PUSHER_APP_ID, PUSHER_KEY, PUSHER_SECRET, PUSHER_HOST, PUSHER_PORT
                          Soketi's HTTP API for the rust handlers' events (needed with DATABASE_URL)
  PUSHER_USE_TLS          \"true\": https to Soketi (default http)
  WHATSAPP_MEDIA_ROOT     directory of WhatsApp media files; unset: the media route answers 503
  CUTOVER_LOG_FORMAT      \"json\": one JSON object per log line (default: text)
  RUST_LOG                log filter, e.g. info,cutover=debug (default info)

serve refuses to start while a secret routes.toml names is unset, listing every one at its line;
`cutover check` reports them as warnings (errors with --strict) and warns about secrets under 32 bytes.";

/// `cutover flip`: see [`flip`]; errors exit 64.
pub fn flip(path: &Path, args: &flip::FlipArgs) -> ExitCode {
    if let Some(msg) = config_missing(path) {
        eprintln!("error: {msg}");
        return ExitCode::from(EX_USAGE);
    }
    report(flip::run(path, args), EX_USAGE)
}

/// A command's result: its lines on stdout, or `error: …` and `code`.
pub(crate) fn report<E: std::fmt::Display>(result: Result<Vec<String>, E>, code: u8) -> ExitCode {
    match result {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(code)
        }
    }
}
