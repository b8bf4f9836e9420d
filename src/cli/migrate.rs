//! `cutover migrate [--create] [--demo]`: apply `migrations/` to
//! `DATABASE_URL`; `--create` makes the database first when it is missing
//! (through the server's `postgres` maintenance database), `--demo` seeds the
//! demo users, tenant and thread ([`crate::store::demo`]) and prints the
//! credentials.

use std::process::ExitCode;
use std::str::FromStr;

use clap::Args;
use sqlx::postgres::{PgConnectOptions, PgPool};

use super::EX_USAGE;

#[derive(Args, Debug, Default)]
pub struct MigrateArgs {
    /// Create the database named in DATABASE_URL when it does not exist.
    #[arg(long)]
    pub create: bool,
    /// Then add the demo users (known passwords, printed), tenant and thread.
    /// Idempotent.
    #[arg(long)]
    pub demo: bool,
}

/// PostgreSQL's `invalid_catalog_name`: the database does not exist.
const NO_SUCH_DATABASE: &str = "3D000";

pub fn run(args: &MigrateArgs) -> ExitCode {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!(
            "error: DATABASE_URL is not set (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/app)"
        );
        return ExitCode::from(EX_USAGE);
    };
    let options = match PgConnectOptions::from_str(&url) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: DATABASE_URL is not a postgres:// URL: {e}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    super::report(rt.block_on(migrate(options, args)), 1)
}

async fn migrate(options: PgConnectOptions, args: &MigrateArgs) -> Result<Vec<String>, String> {
    let name = options.get_database().unwrap_or("postgres").to_string();
    let mut out = Vec::new();
    let pool = match PgPool::connect_with(options.clone()).await {
        Ok(p) => p,
        Err(e) if is_missing_database(&e) && args.create => {
            create(&options, &name).await?;
            out.push(format!("created database {name}"));
            PgPool::connect_with(options)
                .await
                .map_err(|e| format!("cannot connect to DATABASE_URL: {e}"))?
        }
        Err(e) if is_missing_database(&e) => {
            return Err(format!(
                "database {name:?} does not exist. Create it (`createdb {name}`, or \
                 `psql -c 'CREATE DATABASE \"{name}\"'` against the same server), \
                 or run `cutover migrate --create`"
            ));
        }
        Err(e) => return Err(format!("cannot connect to DATABASE_URL: {e}")),
    };
    crate::store::migrate(&pool)
        .await
        .map_err(|e| e.to_string())?;
    out.push(format!("migrations applied to {name}"));
    if args.demo {
        crate::store::demo::seed(&pool)
            .await
            .map_err(|e| format!("demo seed: {e}"))?;
        out.push(crate::store::demo::credentials());
    }
    Ok(out)
}

fn is_missing_database(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == NO_SUCH_DATABASE)
}

/// `CREATE DATABASE` through the `postgres` maintenance database of the same
/// server (same host, port, user, password, TLS settings).
async fn create(options: &PgConnectOptions, name: &str) -> Result<(), String> {
    let admin = PgPool::connect_with(options.clone().database("postgres"))
        .await
        .map_err(|e| {
            format!("--create: cannot connect to the server's `postgres` database: {e}")
        })?;
    let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
    match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&admin)
        .await
    {
        Ok(_) => Ok(()),
        // Created meanwhile by someone else: fine.
        Err(e)
            if e.as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "42P04") =>
        {
            Ok(())
        }
        Err(e) => Err(format!(
            "--create: CREATE DATABASE {name:?} failed: {e} (does the user have CREATEDB?)"
        )),
    }
}
