//! `siaga report` and `siaga account add`: blocking commands over the configured store.

use anyhow::{bail, Context};
use chrono::NaiveDate;

use siaga::analytics::{parse_dims, to_csv, to_text, Analytics};
use siaga::api::accounts::new_account;
use siaga::config::Config;
use siaga::store::{CallStore, Role};

/// Output of `siaga report`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Format {
    Table,
    Csv,
    Json,
}

pub(crate) fn open_existing(config: &Config) -> anyhow::Result<std::sync::Arc<dyn CallStore>> {
    Ok(siaga::store::open_existing(&config.store)?)
}

fn open(config: &Config) -> anyhow::Result<std::sync::Arc<dyn CallStore>> {
    Ok(siaga::store::open(&config.store)?)
}

fn date(flag: &str, s: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("{flag} {s:?}: expected YYYY-MM-DD"))
}

/// Prints the report of `[since, until)` (local dates) grouped by `by`.
pub(crate) fn report(
    config: &Config,
    since: &str,
    until: &str,
    by: &str,
    format: Format,
) -> anyhow::Result<String> {
    let a = Analytics::new(
        config.analytics.utc_offset_hours,
        config.categories.clone(),
        config.analytics.top_callers,
    );
    let (since, until) = (date("--since", since)?, date("--until", until)?);
    if since >= until {
        bail!("--since {since} must be before --until {until}");
    }
    let dims = parse_dims(by).context("--by")?;
    let store = open_existing(config)?;
    let s = a.summary(
        &*store,
        a.local_midnight(since),
        a.local_midnight(until),
        &dims,
    )?;
    Ok(match format {
        Format::Table => to_text(&s.by, &s.table),
        Format::Csv => to_csv(&s.by, &s.table),
        Format::Json => serde_json::to_string_pretty(&s)? + "\n",
    })
}

/// Creates or replaces an API account; the password comes from `SIAGA_PASSWORD` or stdin.
pub(crate) fn account_add(
    config: &Config,
    name: &str,
    role: Role,
    seat: Option<&str>,
) -> anyhow::Result<()> {
    match (role, seat) {
        (Role::Seat, None) => bail!("--seat is required for a seat account"),
        (Role::Supervisor | Role::Analyst | Role::Admin, Some(_)) => {
            bail!("--seat is only for seat accounts")
        }
        _ => {}
    }
    let password = match std::env::var("SIAGA_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if password.chars().count() < 8 {
        bail!("the password must have at least 8 characters");
    }
    let store = open(config)?;
    store.put_account(&new_account(name, role, seat, &password)?)?;
    Ok(())
}

/// `--role` values.
pub(crate) fn parse_role(s: &str) -> Result<Role, String> {
    match s {
        "seat" => Ok(Role::Seat),
        "supervisor" => Ok(Role::Supervisor),
        "analyst" => Ok(Role::Analyst),
        "admin" => Ok(Role::Admin),
        _ => Err(format!(
            "{s:?}: expected seat, supervisor, analyst or admin"
        )),
    }
}
