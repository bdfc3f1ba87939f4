//! Signed-note parser: never panics; whatever it accepts re-encodes to the same bytes.
#![no_main]

use assay_log::{Note, VerifierKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        let text = note.to_text().expect("a parsed note has signatures");
        assert_eq!(
            text.as_bytes(),
            data,
            "parse then encode must be the identity"
        );
        // Verification against a key must not panic either.
        let key = VerifierKey::parse(
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        )
        .expect("reference key parses");
        let _ = note.verify(&[key]);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = VerifierKey::parse(text) {
            assert_eq!(key.to_vkey(), text, "vkeys have one spelling");
        }
    }
});
