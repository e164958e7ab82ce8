//! AML SMS text: never panics; an accepted message has its length counted and any location
//! it yields is on the globe.
#![no_main]
use libfuzzer_sys::fuzz_target;
use siaga::location::aml::AmlSms;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(sms) = AmlSms::parse(&text) {
        assert!(sms.version == 1 || sms.version == 2);
        if let Some(loc) = sms.location(Some("081234567890")) {
            assert!(siaga::location::fix::valid_point(loc.lat, loc.lon));
            assert!(loc.accuracy_m.is_none_or(|r| r > 0.0 && r.is_finite()));
        }
    }
});
