//! Tallies (G1, G4, G6, E3) and the adoption of passed rules changes (G6).
//!
//! Anyone may close a proposal once its voting period ended, so no operator can sit on a
//! result. Reading of "active membership" (RULEBOOK G4): the members registered before the
//! proposal opened, not banned when it closes, who signed an input within the active window
//! before the close or cast a ballot on it.

use super::governance::{active_since, open_proposal};
use super::{pill, Context, Outcome};
use crate::command::{Choice, Digest, Party};
use crate::governance::{Motion, Proposal, Seat};
use crate::{Event, Refusal, State};
use assay_coop::governance::{
    amendment_passes, appeal_overturned, election_winner, term_end, BOARD_SEATS,
};
use assay_coop::Trigger;
use assay_core::{MemberId, Rules, Timestamp};

pub(super) fn close_proposal(state: &mut State, context: &Context, id: u64) -> Outcome {
    if open_proposal(state, id)?.motion.touches_immutable() {
        // Rule X1.5: an amendment of a principle got past the gate (G5).
        return pill::terminate(state, context, Trigger::ImmutableAmendment { proposal: id });
    }
    if context.now < open_proposal(state, id)?.closes {
        return Err(Refusal::VotingOpen);
    }
    // Nothing below refuses.
    let proposal = state
        .governance
        .proposals
        .remove(&id)
        .expect("checked open above");
    match &proposal.motion {
        Motion::Election { seat, candidates } => {
            Ok(elect(state, context.now, id, *seat, candidates, &proposal))
        }
        Motion::Amendment { changes } => {
            let (passed, mut events) = members_vote(state, context.now, id, &proposal);
            if passed {
                for change in changes {
                    state
                        .governance
                        .bylaws
                        .insert(change.clause, change.text_hash);
                }
                events.push(Event::AmendmentAdopted {
                    proposal: id,
                    changes: changes.clone(),
                });
            }
            Ok(events)
        }
        Motion::RulesChange { rules_hash } => {
            let (passed, events) = members_vote(state, context.now, id, &proposal);
            if passed {
                state.governance.passed_rules.insert(id, *rules_hash);
            }
            Ok(events)
        }
        Motion::Appeal { party } => Ok(hear_appeal(state, id, *party, &proposal)),
    }
}

/// Yes and no ballots by members still in good standing.
fn counted(state: &State, proposal: &Proposal) -> (u64, u64) {
    let mut yes_no = (0, 0);
    for (member, choice) in &proposal.ballots {
        if state.members[member.0 as usize].banned {
            continue;
        }
        match choice {
            Choice::Yes => yes_no.0 += 1,
            Choice::No => yes_no.1 += 1,
            Choice::Candidate(_) => {}
        }
    }
    yes_no
}

/// Rules G4, G6: yes ballots from 80% of active membership. Counting the active is a scan of
/// the members, once per tally.
fn members_vote(state: &State, now: Timestamp, id: u64, proposal: &Proposal) -> (bool, Vec<Event>) {
    let since = active_since(state, now);
    let active = state.members[..proposal.members_at_open as usize]
        .iter()
        .enumerate()
        .filter(|(index, member)| {
            !member.banned
                && (member.last_active >= since
                    || proposal.ballots.contains_key(&MemberId(*index as u64)))
        })
        .count() as u64;
    let (yes, no) = counted(state, proposal);
    let passed = amendment_passes(yes, active);
    let event = Event::ProposalDecided {
        proposal: id,
        passed,
        yes,
        no,
        active,
    };
    (passed, vec![event])
}

/// Rules G1, G2: the eligible candidate with the most votes takes the seat until the seat's
/// scheduled term end.
fn elect(
    state: &mut State,
    now: Timestamp,
    id: u64,
    seat: u8,
    candidates: &[MemberId],
    proposal: &Proposal,
) -> Vec<Event> {
    let mut votes = vec![0u64; candidates.len()];
    for (voter, choice) in &proposal.ballots {
        if state.members[voter.0 as usize].banned {
            continue;
        }
        if let Choice::Candidate(candidate) = choice {
            if let Some(index) = candidates.iter().position(|c| c == candidate) {
                votes[index] += 1;
            }
        }
    }
    // A candidate banned, or seated elsewhere, since standing can no longer win.
    for (index, candidate) in candidates.iter().enumerate() {
        let record = &state.members[candidate.0 as usize];
        if record.banned || record.served {
            votes[index] = 0;
        }
    }
    let Some(winner) = election_winner(&votes) else {
        return vec![Event::ElectionFailed { proposal: id, seat }];
    };
    let member = candidates[winner];
    let today = now.trading_day();
    let genesis = state
        .exchange
        .as_ref()
        .expect("proposals exist only after genesis")
        .genesis_day;
    let ends = term_end(genesis, usize::from(seat), today);
    state.governance.seats[usize::from(seat)] = Some(Seat {
        member,
        since: today,
        ends,
    });
    state.members[member.0 as usize].served = true;
    vec![Event::BoardSeated {
        proposal: id,
        seat,
        member,
        votes: votes[winner],
        term_ends: ends,
    }]
}

/// Rule E3: overturn ballots by the board; a majority of all five seats lifts the ban.
fn hear_appeal(state: &mut State, id: u64, party: Party, proposal: &Proposal) -> Vec<Event> {
    let (yes, no) = counted(state, proposal);
    let overturned = appeal_overturned(yes);
    let mut events = vec![Event::ProposalDecided {
        proposal: id,
        passed: overturned,
        yes,
        no,
        active: BOARD_SEATS as u64,
    }];
    if overturned {
        match party {
            Party::Member(member) => {
                let record = &mut state.members[member.0 as usize];
                record.banned = false;
                let (key, device) = (record.key, record.device_key);
                state.banned_keys.remove(&key);
                state.banned_keys.remove(&device);
            }
            Party::Buyer(buyer) => {
                let record = &mut state.buyers[buyer.0 as usize];
                record.banned = false;
                let key = record.key;
                state.banned_keys.remove(&key);
            }
        }
        events.push(Event::BanLifted {
            proposal: id,
            party,
        });
    }
    events
}

/// Rule G6: rules take effect only through a passed vote, with exactly the voted parameters;
/// their hash is logged. Anyone may send it.
pub(super) fn adopt_rules(state: &mut State, rules_json: &str, proposal: u64) -> Outcome {
    let rules = Rules::from_json_str(rules_json)?;
    let rules_hash: Digest = rules.hash();
    if state.governance.passed_rules.get(&proposal) != Some(&rules_hash) {
        return Err(Refusal::NoPassedVote);
    }
    let exchange = state.exchange.as_mut().ok_or(Refusal::NoGenesis)?;
    exchange.rules = rules;
    exchange.rules_hash = rules_hash;
    state.governance.passed_rules.remove(&proposal);
    Ok(vec![Event::RulesAdopted {
        proposal,
        rules_hash,
    }])
}
