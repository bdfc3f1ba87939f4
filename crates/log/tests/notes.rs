//! Signed notes, checkpoints, cosignatures and equivocation proofs at the crate boundary.

use assay_log::{
    cosigned_message, leaf_hash, Checkpoint, Cosigner, EquivocationProof, Error, Hash, Note,
    NoteSignature, NoteSigner, SignatureType, SignedCheckpoint, VerifierKey, NOTE_SIGNATURES_MAX,
};
use base64::Engine as _;

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY_MATERIAL: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                          then you don't know what your problem is.\n";
const PETER_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
     then you don't know what your problem is.\n\
     \n\
     \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

const ARCHE_ORIGIN: &str = "arche2025h1.staging.ct.transparency.dev";
const ARCHE_VKEY: &str =
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f";
const REMORA_VKEY: &str = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
const ARCHE_NOTE: &str = include_str!("../test_data/arche2025h1_cosigned.checkpoint");

fn peter_signer() -> NoteSigner {
    let material = base64::engine::general_purpose::STANDARD
        .decode(PETER_SKEY_MATERIAL)
        .unwrap();
    assert_eq!(material[0], 0x01);
    NoteSigner::new("PeterNeumann", material[1..].try_into().unwrap()).unwrap()
}

fn log_signer(seed: u8) -> NoteSigner {
    NoteSigner::new("assay.example/log", &[seed; 32]).unwrap()
}

/// Asserts that parsing `input` as a note fails with `code`.
fn check_note_refused(input: &str, code: &str) {
    let error = Note::parse(input.as_bytes()).unwrap_err();
    assert_eq!(error.code(), code, "input {input:?}: {error}");
}

#[test]
fn go_reference_note_is_reproduced_byte_for_byte() {
    let signer = peter_signer();
    assert_eq!(signer.verifier_key().to_vkey(), PETER_VKEY);
    let mut note = Note::new(PETER_TEXT).unwrap();
    signer.sign(&mut note).unwrap();
    assert_eq!(note.to_text().unwrap(), PETER_NOTE);

    let parsed = Note::parse(PETER_NOTE.as_bytes()).unwrap();
    assert_eq!(parsed, note);
    let key = VerifierKey::parse(PETER_VKEY).unwrap();
    let verified = parsed.verify(std::slice::from_ref(&key)).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].name, "PeterNeumann");
    assert_eq!(verified[0].key_id, 0xc74f20a3);

    let tampered = PETER_NOTE.replace("cryptography", "cryptographY");
    let error = Note::parse(tampered.as_bytes())
        .unwrap()
        .verify(&[key])
        .unwrap_err();
    assert_eq!(error.code(), "signature_invalid");
}

#[test]
fn note_parser_refuses_malformed_notes() {
    let sig = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";
    check_note_refused("", "note_no_signatures");
    check_note_refused("text\n", "note_no_signatures");
    check_note_refused("text\n\n", "note_no_signatures");
    check_note_refused(&format!("text\n\n{sig}"), "note_unterminated");
    check_note_refused(&format!("text\n{sig}\n"), "note_no_signatures");
    check_note_refused(&format!("text\r\n\n{sig}\n"), "note_control_character");
    check_note_refused(&format!("te\tx\n\n{sig}\n"), "note_control_character");
    check_note_refused(&format!("text\n\n{sig}\n\n"), "note_no_signatures");
    check_note_refused("text\n\n- PeterNeumann AAAAAAA=\n", "note_signature_line");
    check_note_refused("text\n\n\u{2014} PeterNeumann\n", "note_signature_line");
    check_note_refused("text\n\n\u{2014}  AAAAAAA=\n", "key_name");
    check_note_refused("text\n\n\u{2014} a+b AAAAAAA=\n", "key_name");
    check_note_refused("text\n\n\u{2014} a\u{a0}b AAAAAAA=\n", "key_name");
    // Four bytes is a key ID with no signature.
    check_note_refused("text\n\n\u{2014} name AAAAAA==\n", "note_signature_line");
    check_note_refused("text\n\n\u{2014} name AAAAAAA\n", "note_signature_line");
    check_note_refused("text\n\n\u{2014} name AAAAAAA= \n", "note_signature_line");
    let error = Note::parse(b"text\n\n\xff\n").unwrap_err();
    assert_eq!(error.code(), "note_not_utf8");
    let huge = vec![b'a'; assay_log::NOTE_BYTES_MAX + 1];
    assert_eq!(Note::parse(&huge).unwrap_err().code(), "note_too_large");

    let mut many = String::from("text\n\n");
    for _ in 0..=NOTE_SIGNATURES_MAX {
        many.push_str("\u{2014} name AAAAAAA=\n");
    }
    check_note_refused(&many, "note_too_many_signatures");

    assert_eq!(Note::new("no newline").unwrap_err().code(), "note_text_end");
    assert_eq!(
        Note::new("a\u{7}\n").unwrap_err().code(),
        "note_control_character"
    );
    assert_eq!(
        Note::new("text\n").unwrap().to_text().unwrap_err().code(),
        "note_no_signatures"
    );
}

#[test]
fn text_may_hold_blank_lines_and_the_last_one_splits() {
    let signer = log_signer(1);
    let mut note = Note::new("a\n\nb\n").unwrap();
    signer.sign(&mut note).unwrap();
    let text = note.to_text().unwrap();
    let parsed = Note::parse(text.as_bytes()).unwrap();
    assert_eq!(parsed.text(), "a\n\nb\n");
    parsed.verify(&[signer.verifier_key().clone()]).unwrap();
}

#[test]
fn verification_follows_the_known_key_rules() {
    let log = log_signer(1);
    let other = log_signer(2); // Same name, different key, so a different key ID.
    let mut note = Note::new("body\n").unwrap();
    other.sign(&mut note).unwrap();
    // A signature whose name matches but whose key ID does not is unknown: ignored.
    let error = note.verify(&[log.verifier_key().clone()]).unwrap_err();
    assert_eq!(error.code(), "note_unverified");
    log.sign(&mut note).unwrap();
    assert_eq!(note.verify(&[log.verifier_key().clone()]).unwrap().len(), 1);
    // Signing again with the same key replaces, not duplicates.
    log.sign(&mut note).unwrap();
    assert_eq!(note.signatures().len(), 2);

    // A known key's bad signature rejects the whole note.
    let forged = NoteSignature::new(
        log.verifier_key().name(),
        log.verifier_key().key_id(),
        vec![0; 64],
    )
    .unwrap();
    let mut bad = Note::new("body\n").unwrap();
    other.sign(&mut bad).unwrap();
    bad.add_signature(forged).unwrap();
    let error = bad
        .verify(&[log.verifier_key().clone(), other.verifier_key().clone()])
        .unwrap_err();
    assert_eq!(
        error,
        Error::SignatureInvalid {
            name: "assay.example/log".into()
        }
    );
}

#[test]
fn verifier_keys_round_trip_and_refuse_manglings() {
    let key = VerifierKey::parse(PETER_VKEY).unwrap();
    assert_eq!(key.to_vkey(), PETER_VKEY);
    assert_eq!(key.signature_type(), SignatureType::Ed25519);
    let cosigner = VerifierKey::parse(REMORA_VKEY).unwrap();
    assert_eq!(cosigner.signature_type(), SignatureType::CosignatureV1);
    assert_eq!(cosigner.to_vkey(), REMORA_VKEY);
    for bad in [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+-74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ] {
        assert!(VerifierKey::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_real_cosigned_checkpoint_verifies() {
    let log_key = VerifierKey::parse(ARCHE_VKEY).unwrap();
    let signed = SignedCheckpoint::open(ARCHE_NOTE.as_bytes(), ARCHE_ORIGIN, &log_key).unwrap();
    let checkpoint = signed.checkpoint();
    assert_eq!(checkpoint.size(), 1_432_088_532);
    assert_eq!(
        checkpoint.root().to_base64(),
        "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro="
    );
    assert_eq!(signed.to_text(), ARCHE_NOTE);

    let witness = VerifierKey::parse(REMORA_VKEY).unwrap();
    let verified = signed
        .verify_cosignatures(std::slice::from_ref(&witness))
        .unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].name, "remora.n621.de");
    assert_eq!(verified[0].timestamp, Some(0x6a12_2120));

    let origin_error =
        SignedCheckpoint::open(ARCHE_NOTE.as_bytes(), "other", &log_key).unwrap_err();
    assert_eq!(origin_error.code(), "checkpoint_origin");
    let tampered = ARCHE_NOTE.replace("1432088532", "1432088533");
    let error = SignedCheckpoint::open(tampered.as_bytes(), ARCHE_ORIGIN, &log_key).unwrap_err();
    assert_eq!(error.code(), "signature_invalid");
    // A witness key cannot stand in for the log key.
    let error = SignedCheckpoint::open(ARCHE_NOTE.as_bytes(), ARCHE_ORIGIN, &witness).unwrap_err();
    assert_eq!(error.code(), "key_type");
}

#[test]
fn checkpoints_round_trip_with_extensions() {
    let root = leaf_hash(b"root");
    let checkpoint = Checkpoint::new("assay.example/log", 42, root)
        .unwrap()
        .with_extensions(&["ext one", "ext two"])
        .unwrap();
    let body = checkpoint.body();
    assert_eq!(
        body,
        format!(
            "assay.example/log\n42\n{}\next one\next two\n",
            root.to_base64()
        )
    );
    assert_eq!(Checkpoint::parse_body(&body).unwrap(), checkpoint);
    let signer = log_signer(3);
    let signed = checkpoint.sign(&signer).unwrap();
    let opened = SignedCheckpoint::open(
        signed.to_text().as_bytes(),
        "assay.example/log",
        signer.verifier_key(),
    )
    .unwrap();
    assert_eq!(opened.checkpoint(), &checkpoint);
}

#[test]
fn checkpoint_bodies_are_parsed_strictly() {
    let root = Hash([7; 32]).to_base64();
    let check = |body: String, code: &str| {
        let error = Checkpoint::parse_body(&body).unwrap_err();
        assert_eq!(error.code(), code, "{body:?}");
    };
    assert!(Checkpoint::parse_body(&format!("o\n0\n{root}\n")).is_ok());
    check(format!("o\n1\n{root}"), "checkpoint_line");
    check(format!("o\n1\n{root}\n\n"), "checkpoint_line");
    check(format!("o\n1\n{root}\next\n\n"), "checkpoint_line");
    check(format!("\n1\n{root}\n"), "checkpoint_line");
    check("o\n1\n".to_owned(), "checkpoint_line");
    check(format!("o\n01\n{root}\n"), "checkpoint_size");
    check(format!("o\n+1\n{root}\n"), "checkpoint_size");
    check(format!("o\n-1\n{root}\n"), "checkpoint_size");
    check(format!("o\n1 \n{root}\n"), "checkpoint_size");
    check(
        format!("o\n18446744073709551616\n{root}\n"),
        "checkpoint_size",
    );
    check("o\n1\nAAAA\n".to_owned(), "checkpoint_root");
    check(format!("o\n1\n{}\n", &root[..43]), "checkpoint_root");
    assert!(Checkpoint::new("a\nb", 1, Hash::default()).is_err());
    assert!(Checkpoint::new("", 1, Hash::default()).is_err());
}

#[test]
fn cosignatures_are_made_and_verified() {
    let checkpoint = Checkpoint::new("assay.example/log", 9, leaf_hash(b"x")).unwrap();
    let log = log_signer(4);
    let mut signed = checkpoint.sign(&log).unwrap();
    let witness = Cosigner::new("witness.example/w1", &[5; 32]).unwrap();
    let cosignature = witness.cosign(&checkpoint, 1_700_000_000).unwrap();
    assert_eq!(cosignature.signature().len(), 72);
    assert_eq!(
        &cosignature.signature()[..8],
        &1_700_000_000u64.to_be_bytes()
    );
    signed.add_cosignature(cosignature).unwrap();

    // Round trip through text: the log key and the witness key both verify.
    let text = signed.to_text();
    let opened =
        SignedCheckpoint::open(text.as_bytes(), "assay.example/log", log.verifier_key()).unwrap();
    let verified = opened
        .verify_cosignatures(&[witness.verifier_key().clone()])
        .unwrap();
    assert_eq!(verified[0].timestamp, Some(1_700_000_000));
    assert!(opened
        .verify_cosignatures(&[log.verifier_key().clone()])
        .is_err());

    assert_eq!(
        cosigned_message(1_700_000_000, checkpoint.body().as_bytes()),
        format!("cosignature/v1\ntime 1700000000\n{}", checkpoint.body()).into_bytes()
    );
    assert_eq!(
        witness.cosign(&checkpoint, 1 << 63).unwrap_err().code(),
        "cosignature_timestamp"
    );
    // A vkey of type 0x04 round-trips.
    let vkey = witness.verifier_key().to_vkey();
    assert_eq!(&VerifierKey::parse(&vkey).unwrap(), witness.verifier_key());
}

#[test]
fn equivocation_needs_two_valid_signatures_same_size_different_roots() {
    let log = log_signer(6);
    let origin = "assay.example/log";
    let note = |size: u64, root: &[u8], signer: &NoteSigner| {
        let checkpoint = Checkpoint::new(origin, size, leaf_hash(root)).unwrap();
        checkpoint.sign(signer).unwrap().to_text()
    };
    let check = |first: String, second: String| {
        EquivocationProof::parse(first.as_bytes(), second.as_bytes())
            .unwrap()
            .verify(origin, log.verifier_key())
    };
    let proof = check(note(10, b"a", &log), note(10, b"b", &log)).unwrap();
    assert_eq!(proof.size, 10);
    assert_ne!(proof.first_root, proof.second_root);

    assert_eq!(
        check(note(10, b"a", &log), note(10, b"a", &log))
            .unwrap_err()
            .code(),
        "equivocation_same_root"
    );
    assert_eq!(
        check(note(10, b"a", &log), note(11, b"b", &log))
            .unwrap_err()
            .code(),
        "equivocation_sizes"
    );
    let impostor = log_signer(7);
    assert_eq!(
        check(note(10, b"a", &log), note(10, b"b", &impostor))
            .unwrap_err()
            .code(),
        "note_unverified"
    );
    let other_origin = Checkpoint::new("elsewhere", 10, leaf_hash(b"b"))
        .unwrap()
        .sign(&log)
        .unwrap()
        .to_text();
    assert_eq!(
        check(note(10, b"a", &log), other_origin)
            .unwrap_err()
            .code(),
        "checkpoint_origin"
    );
}
