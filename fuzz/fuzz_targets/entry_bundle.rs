//! Entry bundle parser: never panics; accepted bundles re-encode to the same bytes.
#![no_main]

use assay_log::{encode_entry_bundle, parse_entry_bundle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = parse_entry_bundle(data) {
        assert!(!entries.is_empty() && entries.len() <= 256);
        let encoded =
            encode_entry_bundle(entries.iter().copied()).expect("parsed entries re-encode");
        assert_eq!(encoded, data, "parse then encode must be the identity");
    }
});
