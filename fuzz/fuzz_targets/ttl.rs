//! `--ttl` parsing never panics, and every accepted value reads back from
//! the way kubefetch prints it.

#![no_main]

use kubefetch::settings::{format_minutes, parse_ttl_minutes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(minutes) = parse_ttl_minutes(text) else {
        return;
    };
    assert!(minutes > 0, "{text:?} parsed to zero minutes");
    let shown = format_minutes(minutes);
    assert_eq!(
        parse_ttl_minutes(&shown).ok(),
        Some(minutes),
        "{text:?} -> {minutes} -> {shown:?} does not read back"
    );
});
