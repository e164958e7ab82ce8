//! Panic alert bodies and phone numbers (both outside input): never panic; a position is on
//! the globe; a normalised number is `+` and 8 to 15 digits and normalises to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siaga::location::panic::PanicAlert;
use siaga::location::phone::normalize;

fuzz_target!(|data: &[u8]| {
    if let Ok(alert) = PanicAlert::parse(data, "+6281234567890") {
        if let Some(loc) = alert.location {
            assert!(siaga::location::fix::valid_point(loc.lat, loc.lon));
        }
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(e164) = normalize(&text) {
        let digits = e164.digits();
        assert!((8..=15).contains(&digits.len()), "{e164}");
        assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{e164}");
        assert_eq!(normalize(e164.as_str()).as_ref(), Ok(&e164), "idempotent");
    }
});
