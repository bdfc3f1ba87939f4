//! `apply(&mut State, &Input) -> Outcome`: the engine's one entry point.
//!
//! Every handler checks everything that can refuse the input before it changes anything, so a
//! refusal leaves the state exactly as it was (tested: state hash before = after). The
//! arithmetic after the checks cannot overflow: all money in the system comes from recorded
//! deposits, whose running total is checked to fit in u64 (`FundBuyer`), and every later sum is
//! a sum of parts of it. Multiplications by unit counts are checked before acceptance.

mod baskets;
mod days;
mod enforcement;
mod governance;
mod money;
mod payout_files;
mod pill;
mod registry;
mod tally;

pub use money::payout_leaf;
pub use payout_files::{run_rail_totals, simulated_payout_files};

use crate::command::{signed_message, Command, Input};
use crate::{Event, Refusal, State};
use assay_core::{BuyerId, MemberId, PublicKey, Timestamp};
use ed25519_dalek::{Signature, Verifier};

/// Events of an accepted input, or why it was refused.
pub type Outcome = Result<Vec<Event>, Refusal>;

/// Applies one input, checking its signature.
pub fn apply(state: &mut State, input: &Input) -> Outcome {
    verify_signature(input)?;
    apply_verified(state, input)
}

/// Applies one input whose signature the caller already checked (see [`verify_signatures`]).
pub fn apply_verified(state: &mut State, input: &Input) -> Outcome {
    let envelope = &input.envelope;
    if envelope.signature.is_none() {
        return Err(Refusal::Unsigned);
    }
    let expected = state.sequences.get(&envelope.signer).copied().unwrap_or(0);
    if envelope.sequence < expected {
        return Err(Refusal::SequenceReplayed {
            expected,
            got: envelope.sequence,
        });
    }
    if envelope.sequence > expected {
        return Err(Refusal::SequenceGap {
            expected,
            got: envelope.sequence,
        });
    }
    if state.now.is_some_and(|now| input.timestamp < now) {
        return Err(Refusal::ClockBackwards);
    }
    let context = Context {
        signer: envelope.signer,
        now: input.timestamp,
    };
    let events = if state.terminated.is_some() {
        // Rule X3: after termination only the final payout's files and settlement are accepted.
        pill::after_termination(state, &context, &envelope.command)?
    } else if let Some(trigger) = pill::time_trigger(state, input.timestamp) {
        // Rules X1.2, X1.3: this input's stamp proves a deadline passed. It is logged as the
        // witness of the trigger; its own command is not carried out.
        pill::terminate(state, &context, trigger)?
    } else {
        check_phase(state, &envelope.command, input.timestamp)?;
        let events = dispatch(state, &context, &envelope.command)?;
        mark_active(state, &context);
        events
    };

    state.sequences.insert(envelope.signer, expected + 1);
    state.log_size += 1;
    state.now = Some(input.timestamp);
    Ok(events)
}

/// A member who signed an accepted input is active that day (RULEBOOK G4).
fn mark_active(state: &mut State, context: &Context) {
    if let Some(&id) = state.member_by_key.get(&context.signer) {
        state.members[id.0 as usize].last_active = context.now.trading_day();
    }
}

/// One Ed25519 check: key, message, signature, and the refusal if it fails.
type SignatureCheck = (PublicKey, Vec<u8>, [u8; 64], Refusal);

/// Every Ed25519 check an input needs: the envelope's signature, and a device attestation or
/// a member's consent inside the command. All are stateless, so they can run in a batch before
/// the input reaches the (sequential) state; `apply_verified` then only checks that the keys
/// are the ones registered.
fn signature_checks(input: &Input) -> Result<Vec<SignatureCheck>, Refusal> {
    let envelope = &input.envelope;
    let signature = envelope.signature.ok_or(Refusal::Unsigned)?;
    let mut checks = vec![(
        envelope.signer,
        signed_message(&envelope.signer, envelope.sequence, &envelope.command),
        signature.0,
        Refusal::BadSignature,
    )];
    let inner_refusal = match envelope.command {
        Command::OffTake { .. } => Refusal::BadConsent,
        Command::CastBallot { .. } => Refusal::BadPresence,
        _ => Refusal::BadAttestation,
    };
    for (key, message, signature) in envelope.command.inner_signatures(&envelope.signer) {
        checks.push((key, message, signature.0, inner_refusal.clone()));
    }
    Ok(checks)
}

/// Checks every signature of one input.
pub fn verify_signature(input: &Input) -> Result<(), Refusal> {
    for (key, message, signature, refusal) in signature_checks(input)? {
        key.verifying_key()
            .verify(&message, &Signature::from_bytes(&signature))
            .map_err(|_| refusal)?;
    }
    Ok(())
}

/// Checks many inputs' signatures at once with Ed25519 batch verification; on a batch failure,
/// falls back to one-by-one to name the bad ones. Returns one result per input.
pub fn verify_signatures(inputs: &[Input]) -> Vec<Result<(), Refusal>> {
    let mut messages = Vec::with_capacity(inputs.len());
    let mut signatures = Vec::with_capacity(inputs.len());
    let mut keys = Vec::with_capacity(inputs.len());
    for input in inputs {
        let Ok(checks) = signature_checks(input) else {
            return inputs.iter().map(verify_signature).collect();
        };
        for (key, message, signature, _) in checks {
            messages.push(message);
            signatures.push(Signature::from_bytes(&signature));
            keys.push(key.verifying_key());
        }
    }
    let message_refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    match ed25519_dalek::verify_batch(&message_refs, &signatures, &keys) {
        Ok(()) => vec![Ok(()); inputs.len()],
        Err(_) => inputs.iter().map(verify_signature).collect(),
    }
}

/// Who signed, and when the sequencer stamped it.
pub(crate) struct Context {
    pub signer: PublicKey,
    pub now: Timestamp,
}

/// Genesis first; a due monthly run before anything else; no input of a later trading day
/// until the open day is closed. An equivocation proof passes both gates: nothing may delay
/// the pill (P-pill).
fn check_phase(state: &State, command: &Command, now: Timestamp) -> Result<(), Refusal> {
    let is_genesis = matches!(command, Command::Genesis { .. });
    match (&state.exchange, is_genesis) {
        (None, false) => return Err(Refusal::NoGenesis),
        (Some(_), true) => return Err(Refusal::GenesisRepeated),
        (None, true) => return Ok(()),
        (Some(_), false) => {}
    }
    if matches!(command, Command::ProveEquivocation { .. }) {
        return Ok(());
    }
    let is_run = matches!(command, Command::RunMonthlyDistribution { .. });
    if state.run_pending.is_some() && !is_run {
        return Err(Refusal::RunPending);
    }
    let closes_day = matches!(command, Command::CloseTradingDay { .. });
    if !closes_day && !is_run && now.trading_day() > state.open_day {
        return Err(Refusal::DayNotClosed {
            open: state.open_day,
        });
    }
    Ok(())
}

fn dispatch(state: &mut State, context: &Context, command: &Command) -> Outcome {
    match command {
        Command::Genesis {
            rules_json,
            log_origin,
            log_vkey,
        } => registry::genesis(state, context, rules_json, log_origin, log_vkey),
        Command::RegisterFoundingMember {
            member_key,
            device_key,
            payout,
        } => registry::register_founding_member(state, context, member_key, device_key, payout),
        Command::RegisterMember { device_key, payout } => {
            registry::register_member(state, context, device_key, payout)
        }
        Command::RegisterBuyer => registry::register_buyer(state, context),
        Command::FundBuyer {
            buyer,
            amount,
            deposit_reference,
        } => registry::fund_buyer(state, context, *buyer, *amount, deposit_reference),
        Command::PostBasket { spec } => baskets::post(state, context, spec),
        Command::Offer {
            basket,
            device_key,
            reserve_unit_price,
            profile_tag,
            attestation,
        } => baskets::offer(
            state,
            context,
            *basket,
            device_key,
            *reserve_unit_price,
            *profile_tag,
            attestation,
        ),
        Command::Bid { basket, unit_price } => baskets::bid(state, context, *basket, *unit_price),
        Command::CloseBasket { basket } => {
            exchange_only(state, context)?;
            baskets::open_basket(state, *basket)?;
            baskets::close(state, *basket)
        }
        Command::Receipt {
            grant,
            delivery_hash,
        } => baskets::receipt(state, context, *grant, delivery_hash),
        Command::CloseTradingDay { day } => days::close_trading_day(state, context, *day),
        Command::RecordOperatingCost {
            amount,
            invoice_hash,
        } => money::record_operating_cost(state, context, *amount, invoice_hash),
        Command::OffTake {
            member,
            member_key,
            category,
            months,
            value,
            ..
        } => money::off_take(
            state, context, *member, member_key, *category, *months, *value,
        ),
        Command::RequestMidMonthPayout => money::mid_month_payout(state, context),
        Command::RunMonthlyDistribution { month } => money::run_month(state, context, *month),
        Command::Ban {
            party,
            evidence_hash,
        } => enforcement::ban(state, context, *party, evidence_hash),
        Command::AdoptRules {
            rules_json,
            proposal,
        } => tally::adopt_rules(state, rules_json, *proposal),
        Command::Propose { kind } => governance::propose(state, context, kind),
        Command::Stand { proposal } => governance::stand(state, context, *proposal),
        Command::CastBallot {
            proposal,
            choice,
            device_key,
            ..
        } => governance::cast_ballot(state, context, *proposal, *choice, device_key),
        Command::CloseProposal { proposal } => tally::close_proposal(state, context, *proposal),
        Command::Appeal { statement_hash } => enforcement::appeal(state, context, statement_hash),
        Command::ProveEquivocation {
            first_note,
            second_note,
        } => pill::prove_equivocation(state, context, first_note, second_note),
        Command::SettlePayouts {
            payout_root,
            settlement_reference,
        } => pill::settle_payouts(state, context, payout_root, settlement_reference),
        Command::RecordPayoutFiles {
            payout_root,
            files,
            held,
        } => payout_files::record(state, context, payout_root, files, held),
    }
}

pub(crate) fn exchange_only(state: &State, context: &Context) -> Result<(), Refusal> {
    match &state.exchange {
        Some(exchange) if exchange.key == context.signer => Ok(()),
        _ => Err(Refusal::NotExchange),
    }
}

/// The signer as a member in good standing.
pub(crate) fn signing_member(state: &State, context: &Context) -> Result<MemberId, Refusal> {
    let id = *state
        .member_by_key
        .get(&context.signer)
        .ok_or(Refusal::NotMember)?;
    if state.members[id.0 as usize].banned {
        return Err(Refusal::Banned);
    }
    Ok(id)
}

/// The signer as a buyer in good standing.
pub(crate) fn signing_buyer(state: &State, context: &Context) -> Result<BuyerId, Refusal> {
    let id = *state
        .buyer_by_key
        .get(&context.signer)
        .ok_or(Refusal::NotBuyer)?;
    if state.buyers[id.0 as usize].banned {
        return Err(Refusal::Banned);
    }
    Ok(id)
}

/// Money arithmetic after all checks passed. It cannot overflow (see the module docs); if it
/// ever did, that is a bug, and the panic says which invariant broke.
pub(crate) fn bounded<T>(result: Result<T, assay_core::MoneyError>) -> T {
    result.expect("money is bounded by recorded deposits, whose total fits in u64")
}

/// Returns `amount` held for an anchor or a bid to the buyer's available balance.
pub(crate) fn release_hold(
    buyers: &mut [crate::state::Buyer],
    buyer: BuyerId,
    amount: assay_core::Micros,
) {
    let record = &mut buyers[buyer.0 as usize];
    record.held = bounded(record.held.checked_sub(amount));
    record.available = bounded(record.available.checked_add(amount));
}
