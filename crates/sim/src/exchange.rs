//! The simulator's side of the sequencer: stamps inputs with simulated time and applies them to
//! the real engine with `apply_verified`.
//!
//! Envelopes carry a placeholder signature: checking a million Ed25519 signatures would measure
//! the signature library, not the market, and `apply_verified` is the engine's documented entry
//! for inputs whose signatures were checked elsewhere. Device attestations on offers are
//! placeholders too, for the same reason (see `keys`).

use assay_core::{PublicKey, Rules, Timestamp, TradingDay};
use assay_engine::{apply_verified, Command, Envelope, Event, Input, Refusal, Signature, State};
use std::collections::BTreeMap;

const PLACEHOLDER_SIGNATURE: Signature = Signature([0; 64]);

pub struct Exchange {
    pub state: State,
    pub key: PublicKey,
    sequence: u64,
    now: Timestamp,
    /// Refusals by code: expected ones (unfillable, insufficient balance) and, if any, bugs.
    pub refusals: BTreeMap<&'static str, u64>,
    pub inputs: u64,
}

const SIM_LOG_ORIGIN: &str = "assay.sim/log";

impl Exchange {
    /// Genesis on `day`, with `rules`.
    pub fn genesis(key: PublicKey, rules: &Rules, day: TradingDay) -> Exchange {
        let mut exchange = Exchange {
            state: State::new(),
            key,
            sequence: 0,
            now: day.start(),
            refusals: BTreeMap::new(),
            inputs: 0,
        };
        // The simulation signs no checkpoints; the log key only has to be a valid one.
        let log_key =
            assay_log::NoteSigner::new(SIM_LOG_ORIGIN, &[9; 32]).expect("a valid key name");
        let events = exchange.exchange(Command::Genesis {
            rules_json: rules.canonical_json(),
            log_origin: SIM_LOG_ORIGIN.to_string(),
            log_vkey: log_key.verifier_key().to_vkey(),
        });
        assert!(
            matches!(events.as_deref(), Ok([Event::GenesisRecorded { .. }])),
            "genesis is accepted: {events:?}"
        );
        exchange
    }

    /// Applies `command` from `signer` with sequence `sequence`, one microsecond after the last.
    pub fn submit(
        &mut self,
        signer: PublicKey,
        sequence: u64,
        command: Command,
    ) -> Result<Vec<Event>, Refusal> {
        self.now = Timestamp(self.now.0 + 1);
        let input = Input {
            envelope: Envelope {
                signer,
                sequence,
                command,
                signature: Some(PLACEHOLDER_SIGNATURE),
            },
            timestamp: self.now,
        };
        self.inputs += 1;
        let outcome = apply_verified(&mut self.state, &input);
        if let Err(refusal) = &outcome {
            *self.refusals.entry(refusal.code()).or_default() += 1;
        }
        outcome
    }

    /// An input signed by the exchange's key.
    pub fn exchange(&mut self, command: Command) -> Result<Vec<Event>, Refusal> {
        let outcome = self.submit(self.key, self.sequence, command);
        if outcome.is_ok() {
            self.sequence += 1;
        }
        outcome
    }

    /// Moves the clock to the start of the next trading day and closes the open one.
    pub fn close_day(&mut self) -> Result<Vec<Event>, Refusal> {
        let day = self.state.open_day;
        let next = TradingDay(day.0 + 1).start();
        if self.now < next {
            self.now = next;
        }
        self.exchange(Command::CloseTradingDay { day })
    }
}
