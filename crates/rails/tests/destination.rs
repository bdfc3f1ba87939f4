//! Payout destinations at the crate boundary: validation when parsed (rule D4), redaction,
//! and the commitment the public log holds instead of the details.

use assay_rails::{Destination, RoutingNumber, Salt};

fn routing() -> RoutingNumber {
    RoutingNumber::parse("021000021").unwrap()
}

fn check_refused(text: &str, code: &str) {
    let error = Destination::parse(text).unwrap_err();
    assert_eq!(error.code(), code, "{text}: {error}");
}

#[test]
fn routing_numbers_need_a_valid_aba_check_digit() {
    // rule D4: ACH destinations are validated before a run can use them.
    for good in [
        "021000021",
        "011000015",
        "122105278",
        "321171184",
        "800000006",
    ] {
        assert!(RoutingNumber::parse(good).is_ok(), "{good}");
    }
    assert_eq!(routing().dfi_identification(), 2_100_002);
    assert_eq!(routing().check_digit(), 1);
    for bad in [
        "021000022",
        "000000000",
        "02100002",
        "0210000210",
        "02100002a",
        "131000025",
    ] {
        let error = RoutingNumber::parse(bad).unwrap_err();
        assert_eq!(error.code(), "routing_number_invalid", "{bad}");
    }
}

#[test]
fn destinations_parse_from_text_and_back() {
    for text in [
        "ach:021000021:000123456789-X:checking:JANE Q. MEMBER",
        "ach:011000015:1:savings:A:B",
        "usdc:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "prepaid:tok_4f9a-Z",
    ] {
        let destination = Destination::parse(text).unwrap();
        assert_eq!(destination.to_text(), text);
    }
    assert_eq!(
        Destination::parse("usdc:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
            .unwrap()
            .to_text(),
        "usdc:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "EIP-55 test vector"
    );
}

#[test]
fn bad_destinations_are_refused_with_codes() {
    check_refused("ach:021000021:123:checking:", "account_name_invalid");
    check_refused("ach:021000021:123:checking: JANE", "account_name_invalid");
    check_refused(
        "ach:021000021:123:checking:ABCDEFGHIJKLMNOPQRSTUVW",
        "account_name_invalid",
    );
    check_refused(
        "ach:021000021:123456789012345678:checking:JANE",
        "account_number_invalid",
    );
    check_refused("ach:021000021:12 3:checking:JANE", "account_number_invalid");
    check_refused("ach:021000021:123:loan:JANE", "destination_text_invalid");
    check_refused("ach:021000021:123", "destination_text_invalid");
    check_refused("wire:123", "destination_text_invalid");
    check_refused(
        "usdc:0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
        "usdc_address_invalid",
    );
    check_refused(
        "usdc:0x0000000000000000000000000000000000000000",
        "usdc_address_invalid",
    );
    check_refused(
        "usdc:5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        "usdc_address_invalid",
    );
    check_refused("prepaid:", "card_reference_invalid");
    check_refused("prepaid:tok 1", "card_reference_invalid");
    // A Visa test number: the exchange never stores card numbers.
    check_refused("prepaid:4111111111111111", "card_reference_invalid");
    assert!(Destination::parse("prepaid:4111111111111112").is_ok());
}

#[test]
fn debug_output_redacts_private_details() {
    let destination =
        Destination::parse("ach:021000021:000123456789:checking:JANE MEMBER").unwrap();
    let text = format!("{destination:?}");
    assert!(
        !text.contains("000123456789") && !text.contains("JANE"),
        "{text}"
    );
    assert!(text.contains("6789"), "{text}");
    let card = format!(
        "{:?}",
        Destination::parse("prepaid:tok_secret_1234").unwrap()
    );
    assert!(!card.contains("secret"), "{card}");
}

#[test]
fn commitments_are_pinned_salted_and_bind_every_field() {
    // Golden values, recomputed independently with Python's hashlib from the byte layout in
    // the module documentation: the log stores these, so a change of encoding must not slip
    // in unnoticed (it would need a new COMMITMENT_DOMAIN).
    let salt = Salt([7; 32]);
    let ach = Destination::parse("ach:021000021:000123456789:checking:JANE MEMBER").unwrap();
    assert_eq!(
        hex::encode(ach.canonical_bytes()),
        "01303231303030303231010c3030303132333435363738390b4a414e45204d454d424552"
    );
    let usdc = Destination::parse("usdc:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").unwrap();
    let prepaid = Destination::parse("prepaid:tok_1").unwrap();
    assert_eq!(hex::encode(prepaid.canonical_bytes()), "0305746f6b5f31");
    let golden = [
        (
            ach,
            "ffd01f6165e7ac80135009363ec3854040e8eabf88e201fb44763f67ec279ed3",
        ),
        (
            usdc,
            "2fb7f3234dfa92a627d7444da85cb65f222ebf2319dd53f6ee72cc0ab335fca6",
        ),
        (
            prepaid,
            "f154716a304d972eda31decd47c68dc550fe349b6c7e449b80a48127a3b834c9",
        ),
    ];
    for (destination, expected) in golden {
        assert_eq!(destination.commitment(&salt).to_string(), expected);
    }
    assert_ne!(ach.commitment(&salt), ach.commitment(&Salt([8; 32])));
    let savings = Destination::parse("ach:021000021:000123456789:savings:JANE MEMBER").unwrap();
    assert_ne!(ach.commitment(&salt), savings.commitment(&salt));
    // Length prefixes keep account and name apart: "1"+"2X" differs from "12"+"X".
    let a = Destination::parse("ach:021000021:1:checking:2X").unwrap();
    let b = Destination::parse("ach:021000021:12:checking:X").unwrap();
    assert_ne!(a.commitment(&salt), b.commitment(&salt));
}
