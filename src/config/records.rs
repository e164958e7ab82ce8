//! `[[categories]]` (the disposition taxonomy), `[analytics]` and `[accounts]`.
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::ValidationError;

/// What kind of report a category is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryKind {
    /// An emergency (fire, accident, ...).
    Emergency,
    /// A service report (PLN, PDAM, ...): served and classified, not an emergency.
    Service,
    /// Not a report (prank, ghost, test, wrong number).
    NotAReport,
}

/// What a category adds to the caller's history, besides "genuine" for emergency and service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountsAs {
    /// A prank call.
    Prank,
    /// A ghost (silent) call; also the category given to calls screening ended as ghost.
    Ghost,
}

/// One disposition category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable id stored on calls (a-z 0-9 _).
    pub id: String,
    /// Name shown to call takers.
    pub label: String,
    /// Emergency, service or not a report.
    pub kind: CategoryKind,
    /// For `not_a_report` categories: counted as prank or ghost in the caller's history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts_as: Option<CountsAs>,
}

fn cat(id: &str, label: &str, kind: CategoryKind, counts_as: Option<CountsAs>) -> Category {
    Category {
        id: id.to_owned(),
        label: label.to_owned(),
        kind,
        counts_as,
    }
}

/// The Cirebon default (DESIGN.md, "Categories").
pub fn default_categories() -> Vec<Category> {
    use CategoryKind::{Emergency as E, NotAReport as N, Service as S};
    vec![
        cat("kebakaran", "Kebakaran (fire)", E, None),
        cat("kerusuhan", "Kerusuhan (riot)", E, None),
        cat("kecelakaan", "Kecelakaan (accident)", E, None),
        cat("bencana_alam", "Bencana alam (natural disaster)", E, None),
        cat("kesehatan", "Kesehatan (medical)", E, None),
        cat(
            "keamanan_ketertiban",
            "Keamanan dan ketertiban (security, public order)",
            E,
            None,
        ),
        cat("pohon_tumbang", "Pohon tumbang (fallen tree)", E, None),
        cat(
            "darurat_lainnya",
            "Darurat lainnya (other emergency)",
            E,
            None,
        ),
        cat("pln", "PLN (electricity)", S, None),
        cat("pdam", "PDAM (water)", S, None),
        cat("pju", "PJU (street lights)", S, None),
        cat("jasa_marga", "Jasa Marga (toll roads)", S, None),
        cat(
            "pengaduan_pelayanan",
            "Pengaduan pelayanan (service complaint)",
            S,
            None,
        ),
        cat("informasi", "Informasi (information)", S, None),
        cat("prank", "Prank", N, Some(CountsAs::Prank)),
        cat("ghost", "Ghost / silent", N, Some(CountsAs::Ghost)),
        cat("test", "Test call", N, None),
        cat("wrong_number", "Wrong number (salah sambung)", N, None),
    ]
}

pub(super) fn validate_categories(cats: &[Category]) -> Result<(), ValidationError> {
    if cats.is_empty() {
        return Err(ValidationError::new(
            "categories",
            "at least one [[categories]] entry is required",
        ));
    }
    let mut ids = HashSet::new();
    let mut counted = HashSet::new();
    for (i, c) in cats.iter().enumerate() {
        let ok = !c.id.is_empty()
            && c.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            let why = format!("{:?} must be non-empty and use only a-z 0-9 _", c.id);
            return Err(ValidationError::new(format!("categories[{i}].id"), why));
        }
        if !ids.insert(c.id.as_str()) {
            let why = format!("category {:?} is defined twice", c.id);
            return Err(ValidationError::new(format!("categories[{i}].id"), why));
        }
        if let Some(counts) = c.counts_as {
            let key = format!("categories[{i}].counts_as");
            if c.kind != CategoryKind::NotAReport {
                return Err(ValidationError::new(key, "only a not_a_report category"));
            }
            if !counted.insert(counts) {
                return Err(ValidationError::new(key, "at most one category each"));
            }
        }
    }
    Ok(())
}

/// `[analytics]`: how calls are bucketed for reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsConfig {
    /// Local time offset from UTC in whole hours for days, weeks, months and hours of the
    /// day (Kota Cirebon: WIB, UTC+7, no daylight saving).
    #[serde(default = "default_utc_offset_hours")]
    pub utc_offset_hours: i8,
    /// How many repeat callers the summary lists.
    #[serde(default = "default_top_callers")]
    pub top_callers: usize,
}

fn default_utc_offset_hours() -> i8 {
    7
}

fn default_top_callers() -> usize {
    10
}

impl Default for AnalyticsConfig {
    fn default() -> Self {
        AnalyticsConfig {
            utc_offset_hours: default_utc_offset_hours(),
            top_callers: default_top_callers(),
        }
    }
}

impl AnalyticsConfig {
    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        if !(-12..=14).contains(&self.utc_offset_hours) {
            return Err(ValidationError::new(
                "analytics.utc_offset_hours",
                "must be between -12 and 14",
            ));
        }
        if self.top_callers == 0 || self.top_callers > 1000 {
            let why = "must be between 1 and 1000";
            return Err(ValidationError::new("analytics.top_callers", why));
        }
        Ok(())
    }
}

/// `[accounts]`: API logins (accounts themselves live in the store).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountsConfig {
    /// Seconds a login token stays valid (a shift is 12 hours).
    #[serde(default = "default_token_ttl_s")]
    pub token_ttl_s: u64,
    /// Argon2 checks run at once (each holds about 19 MiB while it runs); further logins
    /// wait in a queue, so memory stays bounded however many arrive (1 to 16).
    #[serde(default = "default_login_workers")]
    pub login_workers: usize,
    /// Logins that may wait for a worker; beyond that a login gets 503 (1 to 65536).
    #[serde(default = "default_login_queue")]
    pub login_queue: usize,
    /// Failed logins from one address, or for one account name, that are free; each
    /// further failure doubles the wait before the next attempt is checked (1 to 100).
    #[serde(default = "default_backoff_after")]
    pub backoff_after: u32,
    /// The longest back-off wait, seconds (1 to 3600). Failures are forgotten after
    /// twice this long without one.
    #[serde(default = "default_backoff_max_s")]
    pub backoff_max_s: u64,
}

fn default_token_ttl_s() -> u64 {
    12 * 3600
}
fn default_login_workers() -> usize {
    2
}
fn default_login_queue() -> usize {
    1024
}
fn default_backoff_after() -> u32 {
    3
}
fn default_backoff_max_s() -> u64 {
    60
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            token_ttl_s: default_token_ttl_s(),
            login_workers: default_login_workers(),
            login_queue: default_login_queue(),
            backoff_after: default_backoff_after(),
            backoff_max_s: default_backoff_max_s(),
        }
    }
}

impl AccountsConfig {
    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        if !(60..=7 * 86_400).contains(&self.token_ttl_s) {
            let why = "must be between 60 and 604800 seconds";
            return Err(ValidationError::new("accounts.token_ttl_s", why));
        }
        if !(1..=16).contains(&self.login_workers) {
            return Err(ValidationError::new(
                "accounts.login_workers",
                "must be 1 to 16",
            ));
        }
        if !(1..=65_536).contains(&self.login_queue) {
            return Err(ValidationError::new(
                "accounts.login_queue",
                "must be 1 to 65536",
            ));
        }
        if !(1..=100).contains(&self.backoff_after) {
            return Err(ValidationError::new(
                "accounts.backoff_after",
                "must be 1 to 100",
            ));
        }
        if !(1..=3600).contains(&self.backoff_max_s) {
            let why = "must be between 1 and 3600 seconds";
            return Err(ValidationError::new("accounts.backoff_max_s", why));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_taxonomy_is_valid_and_complete() {
        let cats = default_categories();
        validate_categories(&cats).unwrap();
        let kinds = |k| cats.iter().filter(|c| c.kind == k).count();
        assert_eq!(kinds(CategoryKind::Emergency), 8);
        assert_eq!(kinds(CategoryKind::Service), 6);
        assert_eq!(kinds(CategoryKind::NotAReport), 4);
    }

    #[test]
    fn bad_taxonomies_name_the_key() {
        let mut cats = default_categories();
        cats[3].id = "Bencana Alam".into();
        assert_eq!(
            validate_categories(&cats).unwrap_err().key,
            "categories[3].id"
        );
        let mut cats = default_categories();
        cats[1].id = "kebakaran".into();
        assert_eq!(
            validate_categories(&cats).unwrap_err().key,
            "categories[1].id"
        );
        let mut cats = default_categories();
        cats[0].counts_as = Some(CountsAs::Prank);
        assert_eq!(
            validate_categories(&cats).unwrap_err().key,
            "categories[0].counts_as"
        );
        assert_eq!(validate_categories(&[]).unwrap_err().key, "categories");
    }
}
