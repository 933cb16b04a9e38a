//! Fuzzes the value parsers shared by the formats: `xsd:duration` and `xsd:dateTime`.
//!
//! Whatever either parser accepts must be written back by its formatter in a
//! form it accepts again with the same value.
#![no_main]

use ceremony_formats::{format_datetime, parse_datetime, Duration};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Duration::parse_xsd(text) {
        Ok(duration) => {
            let written = duration.to_xsd();
            let reparsed = Duration::parse_xsd(&written)
                .unwrap_or_else(|why| panic!("{text:?} -> {written:?} is refused: {why}"));
            assert_eq!(duration, reparsed, "{text:?} -> {written:?}");
            assert_eq!(written, reparsed.to_xsd());
            let _ = duration.to_string();
        }
        Err(why) => assert!(!why.is_empty()),
    }
    match parse_datetime(text) {
        Ok(instant) => {
            let written = format_datetime(instant);
            let reparsed = parse_datetime(&written)
                .unwrap_or_else(|why| panic!("{text:?} -> {written:?} is refused: {why}"));
            assert_eq!(instant, reparsed, "{text:?} -> {written:?}");
            assert_eq!(written, format_datetime(reparsed));
        }
        Err(why) => assert!(!why.is_empty()),
    }
});
