//! The `siaga` command line: `run`, `check-config`, `report`, `calls`, `score`, `account add`.
mod cli_calls;
mod cli_report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use siaga::config::Config;

/// Exit code for a configuration that cannot be loaded or is invalid.
const EXIT_CONFIG: u8 = 2;
/// Exit code for a failure while running.
const EXIT_RUNTIME: u8 = 1;

/// siaga: SIP gateway for the emergency number 112.
#[derive(Debug, Parser)]
#[command(name = "siaga", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway until SIGINT or SIGTERM.
    Run {
        #[command(flatten)]
        config: ConfigArg,
        /// Log filter (EnvFilter syntax); overrides `log.level` and `RUST_LOG`.
        #[arg(long, value_name = "FILTER")]
        log_level: Option<String>,
    },
    /// The gateway on loopback with simulated 112 calls and seats: what happened and why.
    Demo,
    /// Load and validate the configuration, then print it with secrets masked.
    CheckConfig {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Calls per kecamatan, category, day... from the store file of the configuration.
    Report {
        #[command(flatten)]
        config: ConfigArg,
        /// First local date (YYYY-MM-DD), inclusive.
        #[arg(long)]
        since: String,
        /// Last local date (YYYY-MM-DD), exclusive.
        #[arg(long)]
        until: String,
        /// Grouping: any of day, week, month, hour, kecamatan, category, kind.
        #[arg(long, default_value = "kecamatan,category")]
        by: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: cli_report::Format,
    },
    /// Call records one per call, oldest first, from the store file of the configuration
    /// (no running gateway needed).
    Calls {
        #[command(flatten)]
        config: ConfigArg,
        /// Received at or after: a local date (YYYY-MM-DD) or an RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Received before: a local date (YYYY-MM-DD) or an RFC 3339 time.
        #[arg(long)]
        until: Option<String>,
        /// Output format (json: one object per line).
        #[arg(long, value_enum, default_value = "table")]
        format: cli_calls::CallsFormat,
    },
    /// API accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// A consistent copy of the live store (SQLite online backup) while calls go on;
    /// restore: stop the gateway, copy the file over `store.path`, start it.
    Backup {
        #[command(flatten)]
        config: ConfigArg,
        /// The copy to write (replaced when it exists; written under FILE.partial first).
        file: PathBuf,
    },
    /// Screen a recording (.ul, .wav, .pcap) offline: speech/DTMF timeline, class, risk,
    /// reasons. A directory with labels.tsv prints the accuracy table of that labelled set.
    Score {
        /// The recording, or a labelled-set directory (not with --export-labelled).
        #[arg(required_unless_present = "export_labelled")]
        file: Option<PathBuf>,
        /// Write every kept screening clip that a person disposed, with a labels.tsv, into
        /// DIR (needs --config for the store and the audio folder).
        #[arg(long, value_name = "DIR", requires = "config", conflicts_with = "file")]
        export_labelled: Option<PathBuf>,
        /// Configuration whose `[screening]` section to use (default: built-in defaults).
        #[arg(long, short, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: siaga::screening::offline::ScoreFormat,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create or replace an account; the password is read from SIAGA_PASSWORD or stdin.
    Add {
        #[command(flatten)]
        config: ConfigArg,
        /// Login name.
        name: String,
        /// seat, supervisor, analyst or admin.
        #[arg(long, value_parser = cli_report::parse_role)]
        role: siaga::store::Role,
        /// Seat name (seat accounts only).
        #[arg(long)]
        seat: Option<String>,
    },
}

#[derive(Debug, Args)]
struct ConfigArg {
    /// Configuration file (TOML). `SIAGA__SECTION__KEY` variables override its values.
    #[arg(long, short, value_name = "FILE", default_value = "config/siaga.toml")]
    config: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { config } => check_config(&config.config),
        Command::Demo => demo(),
        Command::Run { config, log_level } => run(&config.config, log_level),
        Command::Report {
            config,
            since,
            until,
            by,
            format,
        } => with_config(&config.config, |c| {
            print!("{}", cli_report::report(c, &since, &until, &by, format)?);
            Ok(())
        }),
        Command::Calls {
            config,
            since,
            until,
            format,
        } => with_config(&config.config, |c| {
            let out = cli_calls::calls(c, since.as_deref(), until.as_deref(), format)?;
            print!("{out}");
            Ok(())
        }),
        Command::Score {
            export_labelled: Some(out),
            config: Some(config),
            ..
        } => with_config(&config, |c| {
            let store = siaga::store::open_existing(&c.store)?;
            let n = siaga::screening::export::export_labelled(
                store.as_ref(),
                &c.screening.audio_store(),
                &out,
            )?;
            println!("{n} labelled clips written to {}", out.display());
            Ok(())
        }),
        Command::Score {
            file: Some(file),
            config,
            format,
            ..
        } => score(&file, config.as_deref(), format),
        Command::Score { .. } => {
            eprintln!("error: score needs FILE, or --export-labelled DIR with --config");
            ExitCode::from(2)
        }
        Command::Backup { config, file } => with_config(&config.config, |c| {
            let report = siaga::store::backup::backup(
                &c.store.path,
                &file,
                std::time::Duration::from_millis(c.store.busy_timeout_ms),
            )?;
            println!(
                "backup: {} calls, {} bytes in {} ms -> {}",
                report.calls,
                report.bytes,
                report.elapsed.as_millis(),
                report.dest.display()
            );
            Ok(())
        }),
        Command::Account(AccountCommand::Add {
            config,
            name,
            role,
            seat,
        }) => with_config(&config.config, |c| {
            cli_report::account_add(c, &name, role, seat.as_deref())
        }),
    }
}

/// `siaga demo`: warnings only on the console, the table on stdout.
fn demo() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    match runtime.block_on(siaga::demo::run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// `siaga score`: defaults unless a configuration is given (exit 2 if it does not load).
fn score(
    file: &std::path::Path,
    config: Option<&std::path::Path>,
    format: siaga::screening::offline::ScoreFormat,
) -> ExitCode {
    let settings = match config.map(load).transpose() {
        Ok(c) => c.map(|c| c.screening).unwrap_or_default(),
        Err(code) => return code,
    };
    match siaga::screening::offline::score_path(file, &settings, format) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// Loads the configuration (exit 2 on failure) and runs `f` (exit 1 on failure).
fn with_config(path: &std::path::Path, f: impl FnOnce(&Config) -> anyhow::Result<()>) -> ExitCode {
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match f(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

fn load(path: &std::path::Path) -> Result<Config, ExitCode> {
    Config::load(path).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(EXIT_CONFIG)
    })
}

fn check_config(path: &std::path::Path) -> ExitCode {
    match load(path) {
        Ok(config) => {
            // The HTTPS files are read here too, so a bad one is found before a restart.
            if let Some(files) = siaga::api::tls::TlsFiles::from_config(&config.api) {
                if let Err(e) = files.load() {
                    eprintln!("error: {}: {e}", path.display());
                    return ExitCode::from(EXIT_CONFIG);
                }
            }
            print!("{}", config.masked_toml());
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn run(path: &std::path::Path, log_level: Option<String>) -> ExitCode {
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let filter = match log_filter(&config, log_level.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    // Colour only on a terminal: log files and test captures stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log.format {
        siaga::config::LogFormat::Text => logs.with_ansi(ansi).init(),
        // Flattened: the message and fields sit at the top of each object with the
        // timestamp, level and target, as collectors index them.
        siaga::config::LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    if config.api.token.is_some() {
        tracing::warn!("api.token is deprecated: it is loaded as the API key \"token\" (role supervisor); use [[api.keys]]");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the tokio runtime: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    match runtime.block_on(siaga::app::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "siaga stopped with an error");
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// `--log-level` first (the operator typed it just now), then `RUST_LOG`, then `log.level`.
fn log_filter(config: &Config, cli: Option<&str>) -> anyhow::Result<EnvFilter> {
    use anyhow::Context;
    if let Some(directive) = cli {
        return EnvFilter::try_new(directive).with_context(|| format!("--log-level {directive:?}"));
    }
    match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => {
            EnvFilter::try_new(&v).with_context(|| format!("RUST_LOG {v:?}"))
        }
        _ => EnvFilter::try_new(&config.log.level).context("log.level"),
    }
}
