//! Proposals, candidacies and ballots (G1–G6). Tallies are in `tally.rs`.
//!
//! Readings (RULEBOOK.md G states them): any member in good standing may open a proposal;
//! elections fill a vacant seat; candidates stand themselves while the election is open; every
//! member registered before a proposal opened may vote on it, once; an appeal's voters are the
//! seated board.

use super::{pill, signing_member, Context, Outcome};
use crate::command::{Choice, ProposalKind};
use crate::governance::{
    Motion, Proposal, CANDIDATES_MAX, CLAUSE_CHANGES_MAX, OPEN_PROPOSALS_MAX, RULES_JSON_BYTES_MAX,
};
use crate::{Event, Refusal, State};
use assay_coop::governance::{may_stand, touched_immutable, CandidateFacts, BOARD_SEATS};
use assay_coop::Trigger;
use assay_core::{MemberId, PublicKey, Rules, Timestamp, TradingDay, MICROS_PER_DAY};
use std::collections::BTreeMap;

/// The first day that still counts as recent for "active" (RULEBOOK G4).
pub(super) fn active_since(state: &State, now: Timestamp) -> TradingDay {
    let window = state
        .rules()
        .map_or(0, |rules| rules.governance.active_window_days);
    TradingDay(now.trading_day().0.saturating_sub(window as i32))
}

/// What G2 needs to know about `member` now.
fn candidate_facts(state: &State, member: MemberId, since: TradingDay) -> CandidateFacts {
    let record = &state.members[member.0 as usize];
    CandidateFacts {
        founding: record.founding,
        banned: record.banned,
        served: record.served,
        active: record.last_active >= since,
    }
}

/// Rule G2: some founding member could stand now. A scan of the members: candidacies are rare
/// (a handful a year), so an index would cost more than it saves.
fn founding_member_eligible(state: &State, since: TradingDay) -> bool {
    (0..state.members.len() as u64)
        .map(MemberId)
        .filter(|&id| state.members[id.0 as usize].founding)
        .any(|id| candidate_facts(state, id, since).eligible())
}

/// A proposal that is still taking ballots, or why not.
pub(super) fn open_proposal(state: &State, id: u64) -> Result<&Proposal, Refusal> {
    match state.governance.proposals.get(&id) {
        Some(proposal) => Ok(proposal),
        None if id < state.governance.next_proposal => Err(Refusal::VotingClosed),
        None => Err(Refusal::UnknownProposal),
    }
}

/// Opens a proposal for `voting_days`; the caller checked the motion.
pub(super) fn open(state: &mut State, now: Timestamp, motion: Motion) -> (u64, Timestamp) {
    let voting_days = state
        .rules()
        .map_or(1, |rules| rules.governance.voting_days);
    let closes = Timestamp(
        now.0
            .saturating_add(i64::from(voting_days) * MICROS_PER_DAY),
    );
    let id = state.governance.next_proposal;
    state.governance.next_proposal += 1;
    state.governance.proposals.insert(
        id,
        Proposal {
            motion,
            opened: now,
            closes,
            members_at_open: state.members.len() as u64,
            ballots: BTreeMap::new(),
        },
    );
    (id, closes)
}

pub(super) fn propose(state: &mut State, context: &Context, kind: &ProposalKind) -> Outcome {
    let proposer = signing_member(state, context)?;
    if state.governance.proposals.len() >= OPEN_PROPOSALS_MAX {
        return Err(Refusal::TooManyProposals);
    }
    let motion = match kind {
        ProposalKind::Election { seat } => {
            let index = usize::from(*seat);
            if index >= BOARD_SEATS {
                return Err(Refusal::UnknownSeat);
            }
            let today = context.now.trading_day();
            if state.governance.holder(index, today).is_some() {
                return Err(Refusal::SeatFilled);
            }
            let running =
                state.governance.proposals.values().any(
                    |p| matches!(p.motion, Motion::Election { seat: open, .. } if open == *seat),
                );
            if running {
                return Err(Refusal::ElectionOpen);
            }
            Motion::Election {
                seat: *seat,
                candidates: Vec::new(),
            }
        }
        ProposalKind::Amendment { changes } => {
            if changes.is_empty() {
                return Err(Refusal::EmptyProposal);
            }
            if changes.len() > CLAUSE_CHANGES_MAX {
                return Err(Refusal::ProposalTooLarge);
            }
            // Rule G5: the gate.
            if touched_immutable(changes).is_some() {
                return Err(Refusal::ImmutableClause);
            }
            Motion::Amendment {
                changes: changes.clone(),
            }
        }
        ProposalKind::RulesChange { rules_json } => {
            if rules_json.len() > RULES_JSON_BYTES_MAX {
                return Err(Refusal::ProposalTooLarge);
            }
            // Rule G6 with X1.1: rules that could not be loaded cannot be voted on.
            let rules = Rules::from_json_str(rules_json)?;
            Motion::RulesChange {
                rules_hash: rules.hash(),
            }
        }
    };
    let (proposal, closes) = open(state, context.now, motion);
    Ok(vec![Event::ProposalOpened {
        proposal,
        proposer,
        closes,
    }])
}

pub(super) fn stand(state: &mut State, context: &Context, proposal_id: u64) -> Outcome {
    let member = signing_member(state, context)?;
    let proposal = open_proposal(state, proposal_id)?;
    if context.now >= proposal.closes {
        return Err(Refusal::VotingClosed);
    }
    let Motion::Election { candidates, .. } = &proposal.motion else {
        return Err(Refusal::NotAnElection);
    };
    if candidates.contains(&member) {
        return Err(Refusal::AlreadyStanding);
    }
    if candidates.len() >= CANDIDATES_MAX {
        return Err(Refusal::TooManyCandidates);
    }
    let since = active_since(state, context.now);
    // Standing is itself a signed input, so the candidate is active now.
    let facts = CandidateFacts {
        active: true,
        ..candidate_facts(state, member, since)
    };
    if !may_stand(facts, founding_member_eligible(state, since)) {
        return Err(Refusal::NotEligible);
    }
    let proposal = state
        .governance
        .proposals
        .get_mut(&proposal_id)
        .expect("checked open above");
    if let Motion::Election { candidates, .. } = &mut proposal.motion {
        candidates.push(member);
    }
    Ok(vec![Event::CandidateStood {
        proposal: proposal_id,
        member,
    }])
}

pub(super) fn cast_ballot(
    state: &mut State,
    context: &Context,
    proposal_id: u64,
    choice: Choice,
    device_key: &PublicKey,
) -> Outcome {
    let member = signing_member(state, context)?;
    if open_proposal(state, proposal_id)?
        .motion
        .touches_immutable()
    {
        return pill::terminate(
            state,
            context,
            Trigger::ImmutableAmendment {
                proposal: proposal_id,
            },
        );
    }
    let proposal = open_proposal(state, proposal_id)?;
    if context.now >= proposal.closes {
        return Err(Refusal::VotingClosed);
    }
    // The presence signature was checked with the envelope's (`verify_signature`); here, that
    // it came from this member's registered device.
    if state.members[member.0 as usize].device_key != *device_key {
        return Err(Refusal::BadPresence);
    }
    let today = context.now.trading_day();
    let may_vote = match &proposal.motion {
        Motion::Appeal { .. } => state.governance.seat_of(member, today).is_some(),
        _ => member.0 < proposal.members_at_open,
    };
    if !may_vote {
        return Err(Refusal::NotVoter);
    }
    let fits = match (&proposal.motion, choice) {
        (Motion::Election { candidates, .. }, Choice::Candidate(c)) => candidates.contains(&c),
        (Motion::Election { .. }, _) | (_, Choice::Candidate(_)) => false,
        _ => true,
    };
    if !fits {
        return Err(Refusal::BadChoice);
    }
    if proposal.ballots.contains_key(&member) {
        return Err(Refusal::BallotRepeated);
    }
    let members_vote = !matches!(proposal.motion, Motion::Appeal { .. });
    state
        .governance
        .proposals
        .get_mut(&proposal_id)
        .expect("checked open above")
        .ballots
        .insert(member, choice);
    if members_vote {
        // Rule G3: the bonus is credited at the next run. One ballot per member per proposal,
        // each open for days, keeps a month's count far below u32::MAX.
        let balance = &mut state.members[member.0 as usize].balance;
        balance.ballots = balance.ballots.saturating_add(1);
    }
    Ok(vec![Event::BallotCast {
        proposal: proposal_id,
        member,
    }])
}
