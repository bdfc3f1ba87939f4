//! The simulation loop: simulated trading days from genesis, each with needs arriving, baskets
//! posted and offered for, bids, closes, the trading-day close and, on the 1st, the monthly run.
//! Everything goes through the real engine; this file only decides what agents send.

use crate::buyers::{choose, Buyer, Choice, Need, PriceView};
use crate::exchange::Exchange;
use crate::keys::{unsigned_actor_key, KeyRing};
use crate::observe::Observer;
use crate::population::{Population, AGE_BANDS};
use crate::rng::Rng;
use crate::scenario::{Scenario, SlotChoice};
use assay_core::{BasketId, BuyerId, Category, Micros, Rules, TradingDay};
use assay_engine::{Command, Event, PayoutChoice, Rail};
use assay_market::{slot_minimum, BasketSpec, ProfileFilter};
use std::collections::HashMap;

/// 2026-01-01, the simulated genesis day.
pub const FIRST_DAY: TradingDay = TradingDay(20_454);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Members at full size (phases are shares of it).
    pub members: u64,
    pub months: u32,
    pub seed: u64,
}

/// Trading days in `months` calendar months from [`FIRST_DAY`].
pub fn days_in(months: u32) -> u32 {
    let mut day = FIRST_DAY;
    let mut seen = 0;
    let mut count = 0;
    while seen < months {
        count += 1;
        day = TradingDay(day.0 + 1);
        if day.is_first_of_month() {
            seen += 1;
        }
    }
    count
}

/// A basket open today, as the buyers see it.
struct OpenBasket {
    id: BasketId,
    category: Category,
    filter: ProfileFilter,
    poster: u32,
    slots: u8,
    bidders: Vec<u32>,
}

pub struct Simulation<'a> {
    scenario: &'a Scenario,
    rules: &'a Rules,
    config: Config,
    pub exchange: Exchange,
    keys: KeyRing,
    pub population: Population,
    buyers: Vec<Buyer>,
    /// Buyers interested in each category.
    interested: [Vec<u32>; 5],
    needs: Vec<Need>,
    pub observer: Observer,
    rng_members: Rng,
    rng_needs: Rng,
    day: u32,
    month: u32,
    founding_target: u64,
}

impl<'a> Simulation<'a> {
    pub fn new(scenario: &'a Scenario, rules: &'a Rules, config: Config) -> Simulation<'a> {
        let exchange_key = unsigned_actor_key(config.seed, "exchange");
        let participation =
            std::array::from_fn(|i| scenario.categories.get(Category::ALL[i]).participation_ppm);
        let first_phase = scenario.phase(0);
        let first_members = share_of(config.members, first_phase.members_share_ppm);
        let mut simulation = Simulation {
            scenario,
            rules,
            config,
            exchange: Exchange::genesis(exchange_key, rules, FIRST_DAY),
            keys: KeyRing::new(config.seed),
            population: Population::new(&scenario.members, participation),
            buyers: Vec::new(),
            interested: Default::default(),
            needs: Vec::new(),
            observer: Observer::default(),
            rng_members: Rng::new(config.seed, "members"),
            rng_needs: Rng::new(config.seed, "needs"),
            day: 0,
            month: 0,
            founding_target: first_members.min(u64::from(rules.cohort.founding_members_max)),
        };
        simulation.add_buyers();
        simulation
    }

    /// Runs every day; `progress` hears (days done, days in all).
    pub fn run(&mut self, progress: &mut dyn FnMut(u32, u32)) {
        let days = days_in(self.config.months);
        while self.day < days {
            self.run_day();
            self.day += 1;
            progress(self.day, days);
        }
    }

    fn today(&self) -> TradingDay {
        TradingDay(FIRST_DAY.0 + self.day as i32)
    }

    fn add_buyers(&mut self) {
        let mut rng = Rng::new(self.config.seed, "buyers");
        let params = &self.scenario.buyers;
        for index in 0..params.count {
            let key = unsigned_actor_key(self.config.seed, &format!("buyer {index}"));
            let events = self
                .exchange
                .submit(key, 0, Command::RegisterBuyer)
                .expect("a new buyer key registers");
            let Some(Event::BuyerRegistered { buyer }) = events.first() else {
                unreachable!("RegisterBuyer answers BuyerRegistered: {events:?}")
            };
            let mut valuation = [0u64; 5];
            for category in Category::ALL {
                let c = self.scenario.categories.get(category);
                if rng.chance_ppm(c.buyer_interest_ppm) {
                    let start = self.rules.category(category).start_price_micros.get() as f64;
                    let ratio =
                        rng.lognormal(c.valuation_median_over_start, params.valuation_sigma);
                    valuation[category.index()] = (start * ratio).round().max(1.0) as u64;
                    self.interested[category.index()].push(index);
                }
            }
            self.buyers.push(Buyer {
                key,
                id: *buyer,
                sequence: 1,
                valuation,
            });
        }
    }

    /// Registers members up to the phase's size: founding members first (D7), then public.
    fn grow_members(&mut self) {
        let phase = self.scenario.phase(self.month);
        let target = share_of(self.config.members, phase.members_share_ppm);
        let have = self.population.members.len() as u64;
        if target <= have {
            return;
        }
        let keys = self.keys.keys(have, (target - have) as usize);
        let payout = PayoutChoice {
            rail: Rail::Usdc,
            destination_commitment: [0; 32],
        };
        for key in keys {
            let index = self.population.members.len() as u64;
            let founding = index < self.founding_target;
            let command = if founding {
                Command::RegisterFoundingMember {
                    member_key: key.public,
                    device_key: key.public,
                    payout,
                }
            } else {
                Command::RegisterMember {
                    device_key: key.public,
                    payout,
                }
            };
            let outcome = if founding {
                self.exchange.exchange(command)
            } else {
                self.exchange.submit(key.public, 0, command)
            };
            outcome.expect("a new member key registers");
            self.population.add(key, self.rules, &mut self.rng_members);
            if !founding {
                let member = self.population.members.last_mut().expect("just added");
                member.sequence = 1;
            }
        }
    }

    /// Tops every buyer's prepaid balance up to its monthly budget: the expected spend of its
    /// needs at its own valuations, times `budget_over_expected`.
    fn fund_buyers(&mut self) {
        let params = &self.scenario.buyers;
        let windows: u64 = params.window_weights.iter().sum();
        let window_mean = params
            .window_days
            .iter()
            .zip(&params.window_weights)
            .map(|(&d, &w)| f64::from(d) * w as f64)
            .sum::<f64>()
            / windows as f64;
        let phase = self.scenario.phase(self.month);
        let mut budgets = vec![0f64; self.buyers.len()];
        for category in Category::ALL {
            let c = self.scenario.categories.get(category);
            let interested = &self.interested[category.index()];
            if interested.is_empty() {
                continue;
            }
            let pool = self
                .population
                .pool_size(category, &ProfileFilter::default()) as f64;
            let share_mean = log_uniform_mean(c.sample_share_min_ppm, c.sample_share_max_ppm);
            let needs_month = c.needs_per_day * phase.needs_factor * 31.0 / interested.len() as f64;
            for &b in interested {
                let value = self.buyers[b as usize].valuation[category.index()] as f64;
                budgets[b as usize] += needs_month * pool * share_mean * window_mean * value;
            }
        }
        for (b, budget) in budgets.into_iter().enumerate() {
            let budget = (budget * params.budget_over_expected) as u64;
            let id = self.buyers[b].id;
            let available = self.exchange.state.buyers[id.0 as usize].available.get();
            if budget > available {
                // A fresh bank reference for each deposit: the engine refuses a repeat.
                let mut deposit_reference = [0; 32];
                let recorded = self.exchange.state.deposit_references.len() as u64;
                deposit_reference[..8].copy_from_slice(&recorded.to_be_bytes());
                self.exchange
                    .exchange(Command::FundBuyer {
                        buyer: id,
                        amount: Micros::new(budget - available),
                        deposit_reference,
                    })
                    .expect("deposits stay far below u64");
            }
        }
    }

    fn prices(&self) -> [PriceView; 5] {
        let state = &self.exchange.state;
        std::array::from_fn(|i| {
            let market = &state.markets[i];
            let spot = market.history.spot();
            let floor = market
                .history
                .floor(&self.rules.floor)
                .expect("floors of bounded prices fit");
            PriceView {
                spot,
                floor,
                anchor: slot_minimum(spot, floor, self.rules, 1).expect("slot 1 exists"),
                fee: market.supply.fee(),
                frozen: market.history.is_frozen(),
            }
        })
    }

    fn draw_needs(&mut self) {
        let phase = self.scenario.phase(self.month);
        let (shock, _) = self.scenario.shock_factors(self.day);
        let params = &self.scenario.buyers;
        for category in Category::ALL {
            let interested = &self.interested[category.index()];
            if interested.is_empty() {
                continue;
            }
            let c = self.scenario.categories.get(category);
            let count = self
                .rng_needs
                .poisson(c.needs_per_day * phase.needs_factor * shock);
            for _ in 0..count {
                let rng = &mut self.rng_needs;
                let buyer = interested[rng.below(interested.len() as u64) as usize];
                let filter = draw_filter(rng, &self.population.regions, params);
                let window_days = params.window_days[rng.weighted(&params.window_weights)];
                let share = rng.log_uniform(
                    f64::from(c.sample_share_min_ppm),
                    f64::from(c.sample_share_max_ppm),
                );
                self.needs.push(Need {
                    buyer,
                    category,
                    filter,
                    window_days,
                    sample_share_ppm: share.round() as u32,
                    expires_day: self.day + params.patience_days,
                });
                self.observer.counters.needs += 1;
            }
        }
    }

    fn run_day(&mut self) {
        let today = self.today();
        if self.day == 0 || today.is_first_of_month() {
            self.grow_members();
            self.fund_buyers();
        }
        let prices = self.prices();
        let floors = std::array::from_fn(|i| {
            self.exchange.state.markets[i]
                .history
                .floor(&self.rules.floor)
                .expect("floors of bounded prices fit")
        });
        let frozen = std::array::from_fn(|i| prices[i].frozen);
        self.observer.open_day(floors, frozen);
        self.draw_needs();
        let mut order: Vec<usize> = (0..self.needs.len()).collect();
        self.rng_needs.shuffle(&mut order);

        let mut open: Vec<OpenBasket> = Vec::new();
        // (basket, buyer) → need, to learn which needs a grant met.
        let mut pending: HashMap<(BasketId, BuyerId), usize> = HashMap::new();
        for index in order {
            if let Some(key) = self.act_on_need(index, &prices, &mut open) {
                pending.insert(key, index);
            }
        }
        let mut met = vec![false; self.needs.len()];
        for basket in &open {
            let events = self
                .exchange
                .exchange(Command::CloseBasket { basket: basket.id })
                .expect("the exchange closes its own open baskets");
            for event in &events {
                if let Event::GrantIssued { basket, buyer, .. } = event {
                    if let Some(&need) = pending.get(&(*basket, *buyer)) {
                        met[need] = true;
                    }
                }
            }
            self.observer.record(self.day, &events);
        }
        self.settle_needs(&met);
        self.close_day();
    }

    /// Acts on one need: posts a basket (and gathers its offers), bids, or waits. Returns the
    /// (basket, buyer) whose grant would meet it.
    fn act_on_need(
        &mut self,
        index: usize,
        prices: &[PriceView; 5],
        open: &mut Vec<OpenBasket>,
    ) -> Option<(BasketId, BuyerId)> {
        let need = self.needs[index].clone();
        let c = need.category.index();
        let (_, valuation_factor) = self.scenario.shock_factors(self.day);
        let phase = self.scenario.phase(self.month);
        let valuation = (self.buyers[need.buyer as usize].valuation[c] as f64
            * valuation_factor
            * phase.valuation_factor) as u64;
        let spec = self.spec_for(&need)?;
        let target = open.iter_mut().filter(|b| {
            b.category == need.category
                && b.filter == need.filter
                && b.poster != need.buyer
                && !b.bidders.contains(&need.buyer)
                && b.bidders.len() + 2 <= usize::from(b.slots)
        });
        let target = target.min_by_key(|b| b.bidders.len());
        // What a bid there must offer to win beside the bids already in: the minimum of the next
        // slot up (M9). Bids at or above it sort above every lower minimum, so if the bids in
        // fill their slots, this one wins too.
        let bid_minimum = target.as_ref().map(|b| {
            let slot = b.bidders.len() as u8 + 2;
            slot_minimum(prices[c].spot, prices[c].floor, self.rules, slot)
                .expect("the slot is within the tier's range, so its ladder step exists")
        });
        let choice = choose(
            valuation,
            &prices[c],
            spec.units_per_slot(),
            bid_minimum,
            self.scenario.buyers.bid_premium_share,
        );
        let buyer = &self.buyers[need.buyer as usize];
        let (key, id, sequence) = (buyer.key, buyer.id, buyer.sequence);
        match choice {
            Choice::Wait => None,
            Choice::Bid { unit_price } => {
                let basket = target.expect("a bid is chosen only with a target");
                let command = Command::Bid {
                    basket: basket.id,
                    unit_price,
                };
                let events = self.exchange.submit(key, sequence, command).ok()?;
                self.buyers[need.buyer as usize].sequence += 1;
                basket.bidders.push(need.buyer);
                self.observer.record(self.day, &events);
                Some((basket.id, id))
            }
            Choice::Post => {
                let command = Command::PostBasket { spec: spec.clone() };
                let events = self.exchange.submit(key, sequence, command).ok()?;
                self.buyers[need.buyer as usize].sequence += 1;
                self.observer.record(self.day, &events);
                let Some(Event::BasketPosted { basket, .. }) = events.first() else {
                    return None;
                };
                self.offer(*basket, &spec, prices[c].anchor);
                open.push(OpenBasket {
                    id: *basket,
                    category: need.category,
                    filter: need.filter.clone(),
                    poster: need.buyer,
                    slots: spec.slots,
                    bidders: Vec::new(),
                });
                Some((*basket, id))
            }
        }
    }

    /// The basket a need would post: its sample share of the matching members, no more than
    /// `fill_share_max` of them across all slots; `None` if nobody matches.
    fn spec_for(&self, need: &Need) -> Option<BasketSpec> {
        let tier = self.rules.tier_of(need.category);
        let slots = match self.scenario.buyers.slots {
            SlotChoice::Min => tier.slots_min,
            SlotChoice::Max => tier.slots_max,
            // Deterministic in the need, so a need retried tomorrow asks the same.
            SlotChoice::Uniform => {
                let span = u32::from(tier.slots_max - tier.slots_min) + 1;
                tier.slots_min + (need.sample_share_ppm % span) as u8
            }
        };
        let pool = self.population.pool_size(need.category, &need.filter);
        let fill_max = pool * u64::from(self.scenario.buyers.fill_share_max_ppm) / 1_000_000;
        let wanted = pool * u64::from(need.sample_share_ppm) / 1_000_000;
        let members_per_slot = wanted
            .min(fill_max / u64::from(slots))
            .min(u64::from(self.rules.basket.members_per_slot_max));
        (members_per_slot > 0).then(|| BasketSpec {
            category: need.category,
            filter: need.filter.clone(),
            window_days: need.window_days,
            members_per_slot: members_per_slot as u32,
            slots,
        })
    }

    /// Members' wallets offer for a posted basket (M11, M12).
    fn offer(&mut self, basket: BasketId, spec: &BasketSpec, anchor: Micros) {
        let offerers =
            self.population
                .offerers(spec.category, &spec.filter, spec.member_places(), anchor);
        let c = spec.category.index();
        let salt = basket.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for member_index in offerers {
            let member = &self.population.members[member_index as usize];
            let reserve = Micros::new(member.reserve[c]);
            let command = Command::Offer {
                basket,
                device_key: member.key.public,
                reserve_unit_price: reserve,
                // The wallet's per-basket salted tag of the member's coarse class (M14).
                profile_tag: salt ^ u64::from(member.class),
                attestation: self.keys.attestation(basket, member_index),
            };
            let key = member.key.public;
            let sequence = member.sequence;
            if self.exchange.submit(key, sequence, command).is_ok() {
                self.population.members[member_index as usize].sequence += 1;
                self.observer.counters.offers += 1;
            }
        }
    }

    /// Drops needs that were met or have lapsed.
    fn settle_needs(&mut self, met: &[bool]) {
        let day = self.day;
        let mut kept = Vec::with_capacity(self.needs.len());
        for (need, &was_met) in self.needs.drain(..).zip(met) {
            if was_met {
                self.observer.counters.needs_met += 1;
            } else if need.expires_day <= day {
                self.observer.counters.needs_lapsed += 1;
            } else {
                kept.push(need);
            }
        }
        self.needs = kept;
    }

    fn close_day(&mut self) {
        let today = self.today();
        let tomorrow = TradingDay(today.0 + 1);
        if tomorrow.is_first_of_month() {
            let members = self.population.members.len() as u64;
            let cost = self.scenario.operations.cost_per_member_month_micros * members;
            self.exchange
                .exchange(Command::RecordOperatingCost {
                    amount: Micros::new(cost),
                    invoice_hash: [0; 32],
                })
                .expect("operating costs stay far below u64");
        }
        let events = self
            .exchange
            .close_day()
            .expect("the exchange closes the open day");
        self.observer.record(self.day, &events);
        self.observer.close_day(self.day);
        if let Some(month) = self.exchange.state.run_pending {
            self.run_month(month);
            self.month += 1;
        }
    }

    /// The monthly run (D4), and each member's new money from it.
    fn run_month(&mut self, month: assay_core::Month) {
        let carried_before: Vec<u64> = self
            .exchange
            .state
            .members
            .iter()
            .map(|m| m.balance.carried.get())
            .collect();
        let events = match self
            .exchange
            .exchange(Command::RunMonthlyDistribution { month })
        {
            Ok(events) => events,
            Err(refusal) => {
                self.observer
                    .fail_run(month, format!("run refused: {}", refusal.code()));
                return;
            }
        };
        // The rails pay the run at once in the simulation; the settlement is on the log (D6), so
        // the pill's deadline for held member money (X1.3) never passes.
        if let Some(payout_root) = events.iter().find_map(|event| match event {
            Event::MonthlyRunRecorded {
                payout_root,
                payout_count,
                ..
            } if *payout_count > 0 => Some(*payout_root),
            _ => None,
        }) {
            // Issue 9: the rails' files are named in the log before the settlement; the
            // simulation pays every line, one file per rail.
            let files = assay_engine::simulated_payout_files(&self.exchange.state);
            let record = Command::RecordPayoutFiles {
                payout_root,
                files,
                held: Vec::new(),
            };
            if let Err(refusal) = self.exchange.exchange(record) {
                self.observer
                    .fail_run(month, format!("payout files refused: {}", refusal.code()));
                return;
            }
            let settlement = Command::SettlePayouts {
                payout_root,
                settlement_reference: payout_root,
            };
            if let Err(refusal) = self.exchange.exchange(settlement) {
                self.observer
                    .fail_run(month, format!("settlement refused: {}", refusal.code()));
                return;
            }
        }
        let mut paid = vec![0u64; carried_before.len()];
        let mut report = None;
        for event in &events {
            match event {
                Event::PayoutInstruction { member, amount, .. } => {
                    paid[member.0 as usize] += amount.get();
                }
                Event::MonthlyRunRecorded { report: r, .. } => report = Some(r.as_ref().clone()),
                _ => {}
            }
        }
        let Some(report) = report else {
            self.observer
                .fail_run(month, "no MonthlyRunRecorded event".to_string());
            return;
        };
        let incomes = self
            .exchange
            .state
            .members
            .iter()
            .zip(carried_before)
            .zip(paid)
            .map(|((member, before), paid)| {
                // New money = what left as payout + what stays − what was already there.
                (paid + member.balance.carried.get()).saturating_sub(before)
            })
            .collect();
        let phase = self.scenario.phase(self.month).label.clone();
        self.observer.record_run(month, &phase, &report, incomes);
    }
}

fn share_of(members: u64, share_ppm: u32) -> u64 {
    members * u64::from(share_ppm) / 1_000_000
}

/// Mean of a log-uniform distribution between two shares in ppm, as a fraction.
fn log_uniform_mean(low_ppm: u32, high_ppm: u32) -> f64 {
    let (low, high) = (f64::from(low_ppm) / 1e6, f64::from(high_ppm) / 1e6);
    if high <= low {
        return low;
    }
    (high - low) / (high / low).ln()
}

fn draw_filter(
    rng: &mut Rng,
    regions: &[assay_market::Region],
    params: &crate::scenario::BuyerParams,
) -> ProfileFilter {
    let pick = rng.below(1_000_000) as u32;
    let region = regions[rng.below(regions.len() as u64) as usize];
    let age = AGE_BANDS[rng.below(AGE_BANDS.len() as u64) as usize];
    if pick < params.filter_none_ppm {
        ProfileFilter::default()
    } else if pick < params.filter_none_ppm + params.filter_region_ppm {
        ProfileFilter {
            region: Some(region),
            age_band: None,
        }
    } else {
        ProfileFilter {
            region: Some(region),
            age_band: Some(age),
        }
    }
}
