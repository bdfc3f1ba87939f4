//! Checkpoint body parser: never panics; whatever it accepts re-encodes to the same text.
#![no_main]

use assay_log::{Checkpoint, SignedCheckpoint, VerifierKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(checkpoint) = Checkpoint::parse_body(text) {
            assert_eq!(
                checkpoint.body(),
                text,
                "parse then encode must be the identity"
            );
        }
    }
    let key =
        VerifierKey::parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .expect("reference key parses");
    let _ = SignedCheckpoint::open(data, "PeterNeumann", &key);
});
