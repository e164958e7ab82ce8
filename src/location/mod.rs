//! Where callers are: resolution of positions to the city's kecamatan and kelurahan.
//! (AML, panic button and SIP Geolocation intake come later.)
pub mod places;

pub use places::{Place, Places, PlacesError, OUTSIDE};
