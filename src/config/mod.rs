//! Configuration: one strict serde tree loaded from TOML, with `SIAGA__SECTION__KEY`
//! environment overrides.
//!
//! ```text
//! Config::load("config/siaga.toml")
//!   = TOML file  ->  SIAGA__* env overrides  ->  serde (deny_unknown_fields)  ->  validate()
//! ```
//!
//! Every struct rejects unknown keys, every key has a default, and every error names the file
//! or env variable and the dotted key. Subsystems receive their own section (`config.sip`,
//! `config.registrar`, ...) and never read files or the environment themselves.
//!
//! Environment overrides: `SIAGA__SIP__LISTEN=127.0.0.1:15060`,
//! `SIAGA__REGISTRAR__LOCKOUT_FAILURES=3`; list keys (`sip.also_listen`, `trunk.allow`,
//! `registrar.algorithms`) take a comma-separated value. `[[seats]]` and `[[categories]]` can only be set in the file.
mod api;
mod calls;
mod env;
mod error;
mod location;
mod records;
mod registrar;
mod screening;
pub mod secrets;
mod sections;
mod sip;
mod types;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use api::{ApiConfig, ApiKey, DEFAULT_API_TOKEN, LEGACY_TOKEN_KEY};
pub use calls::{MediaConfig, RoutingConfig};
pub use error::{ConfigError, Origin, ValidationError};
pub use location::{AmlAuth, LocationConfig};
pub use records::{
    default_categories, AccountsConfig, AnalyticsConfig, Category, CategoryKind, CountsAs,
};
pub use registrar::{DigestAlgorithm, RegistrarConfig, Seat};
pub use screening::{GhostAction, ScreeningConfig};
pub use sections::{LogConfig, LogFormat, StoreBackend, StoreConfig};
pub use sip::{SipConfig, TrunkConfig};
pub use types::{Cidr, CidrError, Secret};

/// The whole configuration of siaga.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// SIP transport, timers and ingress limits.
    #[serde(default)]
    pub sip: SipConfig,
    /// Trusted trunk networks.
    #[serde(default)]
    pub trunk: TrunkConfig,
    /// Seat registration and digest authentication.
    #[serde(default)]
    pub registrar: RegistrarConfig,
    /// Call-taker seats allowed to register.
    #[serde(default = "registrar::default_seats")]
    pub seats: Vec<Seat>,
    /// Emergency numbers, queue and ring cycle.
    #[serde(default)]
    pub routing: RoutingConfig,
    /// RTP relay.
    #[serde(default)]
    pub media: MediaConfig,
    /// Caller audio screening (listen and press-5 windows, ghost action).
    #[serde(default)]
    pub screening: ScreeningConfig,
    /// HTTP API.
    #[serde(default)]
    pub api: ApiConfig,
    /// Call record storage.
    #[serde(default)]
    pub store: StoreConfig,
    /// Analytics buckets.
    #[serde(default)]
    pub analytics: AnalyticsConfig,
    /// API logins.
    #[serde(default)]
    pub accounts: AccountsConfig,
    /// Disposition taxonomy.
    #[serde(default = "records::default_categories")]
    pub categories: Vec<Category>,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Location intake (AML) and matching to calls.
    #[serde(default)]
    pub location: LocationConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sip: SipConfig::default(),
            trunk: TrunkConfig::default(),
            registrar: RegistrarConfig::default(),
            seats: registrar::default_seats(),
            routing: RoutingConfig::default(),
            media: MediaConfig::default(),
            screening: ScreeningConfig::default(),
            api: ApiConfig::default(),
            store: StoreConfig::default(),
            analytics: AnalyticsConfig::default(),
            accounts: AccountsConfig::default(),
            categories: records::default_categories(),
            log: LogConfig::default(),
            location: LocationConfig::default(),
        }
    }
}

impl Config {
    /// Loads `path`, applies `SIAGA__*` overrides from the process environment, validates.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let vars = env::collect_os(std::env::vars_os())?;
        Self::load_with_env(path, vars)
    }

    /// Like [`Config::load`] but with the environment given explicitly (for tests), as
    /// `(name, value)` pairs; names not starting with `SIAGA__` are ignored.
    pub fn load_with_env<I>(path: &Path, vars: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        // Read the file ourselves so errors carry the path exactly as the operator gave it.
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::build(&text, &Origin::File(path.to_owned()), vars)
    }

    /// Parses and validates a TOML string, without environment overrides.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        Self::build(text, &Origin::Inline, std::iter::empty())
    }

    fn build<I>(text: &str, file: &Origin, vars: I) -> Result<Config, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let builder = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml));
        let merged = env::apply(builder, vars)?
            .build()
            .map_err(|e| error::from_config_error(e, None, file))?;
        // `try_deserialize` consumes the builder output; keep a copy to look up origins.
        let config: Config = merged
            .clone()
            .try_deserialize()
            .map_err(|e| error::from_config_error(e, Some(&merged), file))?;
        config.validate().map_err(|source| ConfigError::Invalid {
            origin: source.origin(&merged, file),
            source,
        })?;
        Ok(config)
    }

    /// Checks the rules that span several keys (expires ordering, T1 < T2, unique seats...).
    /// [`Config::load`] and [`Config::from_toml`] already call this.
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.sip.validate()?;
        self.registrar.validate()?;
        registrar::validate_seats(&self.seats)?;
        self.routing.validate()?;
        self.media.validate()?;
        self.screening.validate()?;
        self.api.validate()?;
        self.store.validate()?;
        self.analytics.validate()?;
        self.accounts.validate()?;
        records::validate_categories(&self.categories)?;
        self.log.validate()?;
        secrets::validate(self)?;
        self.location.validate()?;
        Ok(())
    }

    /// The effective configuration as TOML, with every secret printed as `***`.
    pub fn masked_toml(&self) -> String {
        // Secrets serialize as `***` (see `Secret`), so plain serialization is already masked.
        toml::to_string_pretty(self)
            .unwrap_or_else(|e| format!("# the configuration could not be printed: {e}\n"))
    }
}

impl fmt::Display for Config {
    /// Same as [`Config::masked_toml`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked_toml())
    }
}
