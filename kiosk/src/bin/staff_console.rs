//! `staff-console`: the customs officers' console (docs/staff-console.md).
//!
//!   staff-console user add NAME --role supervisor|officer   (password on stdin)
//!   staff-console serve [--listen 127.0.0.1:8480] [--db data/console.sqlite] --lane-secret-file F
//!   staff-console audit verify [--db data/console.sqlite]

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use kiosk::console::auth::Role;
use kiosk::console::db::ConsoleDb;
use kiosk::console::web::{ConsoleState, now_ms, serve};

#[derive(Parser)]
#[command(name = "staff-console", about = "e-Gate staff console: live lanes, alarms, referrals, audit")]
struct Cli {
    /// The console's SQLite file.
    #[arg(long, global = true, default_value = "data/console.sqlite")]
    db: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the console page and the lanes' sync endpoint.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8480")]
        listen: String,
        /// File holding the secret lanes authenticate with (one line).
        #[arg(long)]
        lane_secret_file: PathBuf,
        /// Session lifetime in seconds.
        #[arg(long, default_value_t = 8 * 3600)]
        session_ttl_secs: i64,
    },
    /// Staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input (one line).
    /// The first account must be a supervisor.
    Add {
        name: String,
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; prints the number of entries, exits 1 when broken.
    Verify,
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("staff-console: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::User { command: UserCommand::Add { name, role } } => {
            let role = Role::parse(&role)
                .with_context(|| format!("unknown role {role:?}: supervisor or officer"))?;
            let db = ConsoleDb::open(&cli.db)?;
            if db.user_count()? == 0 && role != Role::Supervisor {
                bail!("the first account must be a supervisor (--role supervisor)");
            }
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password).context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\r', '\n']);
            db.add_user(&name, password, role, now_ms(), "cli")?;
            println!("user {name} ({}) created", role.as_str());
            Ok(())
        }
        Command::Audit { command: AuditCommand::Verify } => {
            let db = ConsoleDb::open(&cli.db)?;
            let n = kiosk::console::audit::verify(db.conn_for_verify())?;
            println!("audit chain verified: {n} entries");
            Ok(())
        }
        Command::Serve { listen, lane_secret_file, session_ttl_secs } => {
            let secret = std::fs::read_to_string(&lane_secret_file)
                .with_context(|| format!("cannot read the lane secret {}", lane_secret_file.display()))?
                .trim()
                .to_string();
            if secret.len() < 16 {
                bail!("the lane secret in {} is shorter than 16 characters", lane_secret_file.display());
            }
            let db = ConsoleDb::open(&cli.db)?;
            if db.user_count()? == 0 {
                tracing::warn!(
                    "no staff account yet: create one with `staff-console user add NAME --role supervisor`"
                );
            }
            let state = ConsoleState::new(db, secret, session_ttl_secs.max(60) * 1000);
            let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                let addr = listener.local_addr()?;
                // The address line is what scripts and tests wait for.
                println!("staff console listening on http://{addr}");
                tracing::info!(%addr, "staff console listening");
                let shutdown = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                serve(state, listener, shutdown).await.context("serving")?;
                Ok::<_, anyhow::Error>(())
            })
        }
    }
}
