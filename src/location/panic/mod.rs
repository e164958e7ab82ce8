//! The panic button: device registration ([`registry`]), the alert a device sends
//! ([`alert`]), and the `/darurat` web app ([`assets`]).
pub mod alert;
pub mod assets;
pub mod registry;

pub use alert::{AlertError, Category, PanicAlert};
pub use registry::{begin, Device, DeviceKey, EnrolError, Enrolment, OneTimeCode, VerifyError};
