//! Findings, bans and appeals (E1–E4), and the poison pill's equivocation proofs (X1.4, X3).

use crate::common::{log_signer, Party, LOG_ORIGIN};
use crate::Ctx;
use assay_engine::Command;
use assay_log::{leaf_hash, Checkpoint, Note, NoteSigner};

pub async fn rows(ctx: &mut Ctx) {
    let mut buyer = Party::new("enforcement-buyer", 0);
    let events = ctx.api.accept(&buyer.sign(Command::RegisterBuyer)).await;
    let buyer_id = events[0]["BuyerRegistered"]["buyer"].as_u64().unwrap();
    let mut member = Party::new("enforcement-member", 0);
    ctx.api.accept(&member.sign(member.register_member())).await;

    let (status, body) = answer(ctx.api.ban_request("buyer", buyer_id)).await;
    assert_eq!(status, 200, "{body}");
    ctx.refused(ctx.api.ban_request("buyer", buyer_id), 403, "banned")
        .await;
    let post = buyer.peek(Command::RegisterBuyer);
    ctx.refused_command(&post, 403, "banned").await;
    ctx.refused(ctx.api.deposit_request(buyer_id, 1_000_000), 403, "banned")
        .await;
    ctx.refused(
        ctx.api.ban_request("member", 999_999),
        404,
        "unknown_member",
    )
    .await;
    ctx.refused(ctx.api.ban_request("buyer", 999_999), 404, "unknown_buyer")
        .await;

    let appeal = Command::Appeal {
        statement_hash: [6; 32],
    };
    let unbanned = member.peek(appeal.clone());
    ctx.refused_command(&unbanned, 422, "not_banned").await;
    let stranger = Party::new("enforcement-stranger", 0).peek(appeal.clone());
    ctx.refused_command(&stranger, 403, "unknown_party").await;
    ctx.api.accept(&buyer.sign(appeal.clone())).await;
    // Rule E3: one appeal per person per lifetime.
    ctx.refused_command(&buyer.peek(appeal), 409, "appeal_repeated")
        .await;
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// A checkpoint of the test log's origin (or another) for `size`, signed by `signer`.
fn checkpoint(origin: &str, size: u64, root_seed: u8, signer: &NoteSigner) -> String {
    Checkpoint::new(origin, size, leaf_hash(&[root_seed]))
        .unwrap()
        .sign(signer)
        .unwrap()
        .to_text()
}

/// Any text, signed with the log's key.
fn signed(text: &str) -> String {
    let mut note = Note::new(text).unwrap();
    log_signer().sign(&mut note).unwrap();
    note.to_text().unwrap()
}

/// On a server of its own: proofs that are not equivocations are refused with the log crate's
/// codes; a real one terminates the exchange (X1.4), which then refuses everything (X3).
pub async fn pill(ctx: &mut Ctx) {
    let signer = log_signer();
    let valid = checkpoint(LOG_ORIGIN, 10, 1, &signer);
    let root = leaf_hash(&[1]).to_base64();
    let signature_line = valid.lines().last().unwrap().to_string();
    let many_signatures = format!(
        "{LOG_ORIGIN}\n10\n{root}\n\n{}",
        format!("{signature_line}\n").repeat(101)
    );
    let stranger = NoteSigner::new("other.test/log", &[8; 32]).unwrap();
    let cases: Vec<(String, String, &'static str)> = vec![
        (
            "a\tb\n\n— x AAAAAAAA\n".into(),
            valid.clone(),
            "note_control_character",
        ),
        (
            format!("{LOG_ORIGIN}\n10\n"),
            valid.clone(),
            "note_no_signatures",
        ),
        (
            valid.trim_end().to_string(),
            valid.clone(),
            "note_unterminated",
        ),
        (
            "text\n\nnot a signature\n".into(),
            valid.clone(),
            "note_signature_line",
        ),
        ("text\n\n— a+b AAAAAAAA\n".into(), valid.clone(), "key_name"),
        (many_signatures, valid.clone(), "note_too_many_signatures"),
        (
            checkpoint(LOG_ORIGIN, 10, 2, &stranger),
            valid.clone(),
            "note_unverified",
        ),
        (
            valid.replacen("\n10\n", "\n11\n", 1),
            valid.clone(),
            "signature_invalid",
        ),
        (signed("only an origin\n"), valid.clone(), "checkpoint_line"),
        (
            signed(&format!("{LOG_ORIGIN}\n010\n{root}\n")),
            valid.clone(),
            "checkpoint_size",
        ),
        (
            signed(&format!("{LOG_ORIGIN}\n10\nnot-base64\n")),
            valid.clone(),
            "checkpoint_root",
        ),
        (
            checkpoint("other.test/log", 10, 2, &signer),
            valid.clone(),
            "checkpoint_origin",
        ),
        (
            signed(&format!("{LOG_ORIGIN}\n{}\n{root}\n", (1u64 << 62) + 1)),
            valid.clone(),
            "tree_size_range",
        ),
        (
            checkpoint(LOG_ORIGIN, 11, 2, &signer),
            valid.clone(),
            "equivocation_sizes",
        ),
        (valid.clone(), valid.clone(), "equivocation_same_root"),
    ];
    let mut witness = Party::new("pill-witness", 0);
    for (first_note, second_note, code) in cases {
        let proof = witness.peek(Command::ProveEquivocation {
            first_note,
            second_note,
        });
        ctx.refused_command(&proof, 422, code).await;
    }
    let proof = witness.sign(Command::ProveEquivocation {
        first_note: checkpoint(LOG_ORIGIN, 10, 2, &signer),
        second_note: valid,
    });
    let events = ctx.api.accept(&proof).await;
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.get("Terminated").is_some()),
        "{events}"
    );
    let after = witness.peek(Command::RegisterBuyer);
    ctx.refused_command(&after, 422, "terminated").await;
}
