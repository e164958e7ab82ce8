//! Where callers are: positions brought in by AML (SMS and HTTPS), SIP Geolocation
//! (PIDF-LO) and the panic button, matched to calls and resolved to the city's kecamatan
//! and kelurahan.
pub mod aml;
pub mod fix;
pub mod geoloc;
pub mod intake;
pub mod matcher;
pub mod panic;
pub mod phone;
pub mod places;
pub mod resolved;

#[cfg(test)]
mod matcher_tests;

pub use fix::{Channel, Location, Method};
pub use matcher::{Attach, MatchWindow, Matcher, Outcome};
pub use phone::{normalize, PhoneError, E164};
pub use places::{Place, Places, PlacesError, OUTSIDE};
pub use resolved::{Resolved, X_SIAGA_LOCATION};
