//! HTTP API. This file only declares the call-records part (records, dispositions,
//! analytics, logins); the seats/queue part and `router()` join it with
//! `Router::merge(records::routes(state))`.
pub mod analytics;
pub mod auth;
mod http_error;
pub mod records;

pub use http_error::RecordsError;
pub use records::{routes, RecordsApiState};

#[cfg(test)]
mod tests;
