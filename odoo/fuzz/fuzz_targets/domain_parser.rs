//! Any filter text: parsing never panics, and a parsed domain prints and parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odoo_client::Domain;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(domain) = Domain::parse(text) {
        assert_eq!(Domain::parse(&domain.to_python()).as_ref(), Ok(&domain));
        assert_eq!(Domain::parse(&domain.to_json()).as_ref(), Ok(&domain));
    }
});
