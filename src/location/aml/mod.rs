//! Advanced Mobile Location (ETSI TS 103 625): the position a handset sends on its own
//! during an emergency call, over SMS ([`sms`]) or HTTPS ([`els`], Android ELS).
pub mod els;
pub mod sms;

#[cfg(test)]
mod els_tests;
#[cfg(test)]
mod sms_tests;

pub use els::ElsReport;
pub use sms::{AmlSms, AmlSmsError};
