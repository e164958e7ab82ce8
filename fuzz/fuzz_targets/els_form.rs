//! ELS HTTPS form body: never panics (the parser has no error path by design); a location
//! is on the globe and resolves to a place without panicking.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use siaga::location::aml::ElsReport;
use siaga::location::Places;

static PLACES: OnceLock<Places> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let report = ElsReport::parse(data);
    if let Some(loc) = report.location() {
        assert!(siaga::location::fix::valid_point(loc.lat, loc.lon));
        let places = PLACES.get_or_init(|| Places::cirebon().expect("built-in boundaries"));
        let _ = places.resolve(loc.lat, loc.lon);
    }
});
