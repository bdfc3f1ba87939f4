//! Proposals, candidacies, ballots, tallies and rules changes (G1–G6), over a voting period.

use crate::common::{rules, Api, Party};
use crate::Ctx;
use assay_coop::{Clause, ClauseChange};
use assay_core::MemberId;
use assay_engine::command::{ballot_message, sign_bytes};
use assay_engine::{Choice, Command, Envelope, ProposalKind};
use serde_json::Value;

/// Members standing in one election before the next is refused (engine's CANDIDATES_MAX).
const CANDIDATES_MAX: usize = 64;

pub struct Governance {
    members: Vec<(Party, u64)>,
    /// Seat 0's election: one candidate, one ballot; it ends while the test waits.
    election: u64,
}

/// Posts every envelope at once (one group commit) and returns each answer's events.
pub async fn accept_all(api: &Api, envelopes: Vec<Envelope>) -> Vec<Value> {
    let mut tasks = tokio::task::JoinSet::new();
    for (index, envelope) in envelopes.into_iter().enumerate() {
        let api = api.clone();
        tasks.spawn(async move { (index, api.accept(&envelope).await) });
    }
    let mut answers = tasks.join_all().await;
    answers.sort_by_key(|(index, _)| *index);
    answers.into_iter().map(|(_, events)| events).collect()
}

fn ballot(member: &Party, proposal: u64, choice: Choice) -> Command {
    let message = ballot_message(proposal, &member.public_key(), choice);
    Command::CastBallot {
        proposal,
        choice,
        device_key: member.device.verifying_key().into(),
        presence: sign_bytes(&member.device, &message),
    }
}

fn amendment(clauses: impl IntoIterator<Item = Clause>) -> Command {
    let changes = clauses
        .into_iter()
        .map(|clause| ClauseChange {
            clause,
            text_hash: [5; 32],
        })
        .collect();
    Command::Propose {
        kind: ProposalKind::Amendment { changes },
    }
}

fn election(seat: u8) -> Command {
    Command::Propose {
        kind: ProposalKind::Election { seat },
    }
}

async fn propose(ctx: &Ctx, member: &mut Party, command: Command) -> u64 {
    let events = ctx.api.accept(&member.sign(command)).await;
    events[0]["ProposalOpened"]["proposal"].as_u64().unwrap()
}

pub async fn first_day(ctx: &mut Ctx) -> Governance {
    let mut parties: Vec<Party> = (0..3 + CANDIDATES_MAX as u64)
        .map(|index| Party::new("governance-member", index))
        .collect();
    let envelopes = parties
        .iter_mut()
        .map(|party| party.sign(party.register_member()))
        .collect();
    let answers = accept_all(&ctx.api, envelopes).await;
    let mut members: Vec<(Party, u64)> = parties
        .into_iter()
        .zip(answers)
        .map(|(party, events)| {
            let id = events[0]["MemberRegistered"]["member"].as_u64().unwrap();
            (party, id)
        })
        .collect();
    let candidate = MemberId(members[1].1);

    let seat_zero = propose(ctx, &mut members[0].0, election(0)).await;
    let bylaw = propose(ctx, &mut members[0].0, amendment([Clause::Bylaw(1)])).await;
    let stand = |proposal| Command::Stand { proposal };
    ctx.api.accept(&members[1].0.sign(stand(seat_zero))).await;

    let again = members[1].0.peek(stand(seat_zero));
    ctx.refused_command(&again, 409, "already_standing").await;
    let not_election = members[2].0.peek(stand(bylaw));
    ctx.refused_command(&not_election, 422, "not_an_election")
        .await;
    let nowhere = members[2].0.peek(stand(999));
    ctx.refused_command(&nowhere, 404, "unknown_proposal").await;
    let founder = members[0].0.key.clone();
    let founder = Party {
        key: founder,
        device: members[0].0.device.clone(),
        sequence: members[0].0.sequence,
    };
    ctx.refused_command(&founder.peek(election(5)), 422, "unknown_seat")
        .await;
    ctx.refused_command(&founder.peek(election(0)), 422, "election_open")
        .await;
    ctx.refused_command(&founder.peek(amendment([])), 422, "empty_proposal")
        .await;
    let sweeping = amendment((0..65).map(Clause::Bylaw));
    ctx.refused_command(&founder.peek(sweeping), 422, "proposal_too_large")
        .await;
    // Rule G5: the principles cannot be amended.
    let purpose = amendment([Clause::Purpose]);
    ctx.refused_command(&founder.peek(purpose), 422, "immutable_clause")
        .await;
    let early = founder.peek(Command::CloseProposal {
        proposal: seat_zero,
    });
    ctx.refused_command(&early, 422, "voting_open").await;

    let vote = ballot(&members[2].0, seat_zero, Choice::Candidate(candidate));
    ctx.api.accept(&members[2].0.sign(vote.clone())).await;
    ctx.refused_command(&members[2].0.peek(vote), 409, "ballot_repeated")
        .await;
    let yes = ballot(&members[3].0, seat_zero, Choice::Yes);
    ctx.refused_command(&members[3].0.peek(yes), 422, "bad_choice")
        .await;
    let mut absent = ballot(&members[3].0, seat_zero, Choice::Candidate(candidate));
    if let Command::CastBallot { presence, .. } = &mut absent {
        presence.0[0] ^= 1;
    }
    ctx.refused_command(&members[3].0.peek(absent), 401, "bad_presence")
        .await;
    // Registered after the election opened (G3's reading: members at the opening vote).
    let mut late = Party::new("governance-late", 0);
    ctx.api.accept(&late.sign(late.register_member())).await;
    let late_vote = ballot(&late, seat_zero, Choice::Candidate(candidate));
    ctx.refused_command(&late.peek(late_vote), 403, "not_voter")
        .await;

    // Rule G6: rules change only through a passed vote, and only to valid rules.
    let adopt = |rules_json: String| Command::AdoptRules {
        rules_json,
        proposal: bylaw,
    };
    let mut changed = rules();
    changed.floor.ratio_bps = 9_000;
    let unvoted = founder.peek(adopt(changed.canonical_json()));
    ctx.refused_command(&unvoted, 422, "no_passed_vote").await;
    let unparsable = founder.peek(adopt("{}".to_string()));
    ctx.refused_command(&unparsable, 422, "rules_parse").await;
    let mut broken = rules();
    broken.waterfall.members_bps = 8_000;
    let invalid = founder.peek(adopt(broken.canonical_json()));
    ctx.refused_command(&invalid, 422, "rules_invalid").await;

    let seat_one = propose(ctx, &mut members[0].0, election(1)).await;
    let envelopes = members[3..]
        .iter_mut()
        .map(|(party, _)| party.sign(stand(seat_one)))
        .collect::<Vec<_>>();
    assert_eq!(envelopes.len(), CANDIDATES_MAX);
    accept_all(&ctx.api, envelopes).await;
    ctx.refused_command(&late.peek(stand(seat_one)), 422, "too_many_candidates")
        .await;

    Governance {
        members,
        election: seat_zero,
    }
}

/// On the 17th: seat 0's voting period (14 days) is over.
pub async fn after_voting(ctx: &mut Ctx, governance: &mut Governance) {
    let members = &mut governance.members;
    let seat_zero = governance.election;
    let late_stand = members[3].0.peek(Command::Stand {
        proposal: seat_zero,
    });
    ctx.refused_command(&late_stand, 422, "voting_closed").await;
    let close = Command::CloseProposal {
        proposal: seat_zero,
    };
    let events = ctx.api.accept(&members[0].0.sign(close)).await;
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["BoardSeated"]["seat"] == 0),
        "{events}"
    );
    let taken = members[0].0.peek(election(0));
    ctx.refused_command(&taken, 422, "seat_filled").await;
    let seat_two = propose(ctx, &mut members[0].0, election(2)).await;
    // Rule G2: who served may not stand again.
    let served = members[1].0.peek(Command::Stand { proposal: seat_two });
    ctx.refused_command(&served, 422, "not_eligible").await;

    // Open proposals up to the engine's limit, one per member, then one more.
    let mut proposer = 3;
    loop {
        let (party, _) = &mut members[proposer];
        let envelope = party.peek(amendment([Clause::Bylaw(100 + proposer as u32)]));
        let (status, body) = ctx.api.post(&envelope).await;
        if status != 200 {
            assert_eq!(body["code"], "too_many_proposals", "{body}");
            ctx.refused_command(&envelope, 422, "too_many_proposals")
                .await;
            break;
        }
        party.sequence += 1;
        proposer += 1;
    }
}
