//! Members as the simulator sees them: coarse profile class, categories, reserve prices, and the
//! rotating pools from which wallets offer.
//!
//! Offers are where simulation time goes: at a million members a month has ~27 million of them,
//! each an engine input (rule M11). A real wallet offers for every basket its member qualifies
//! for, and the engine picks the members with the fewest recent sales (M13). The simulator sends
//! only the offers that selection would use: for each basket, the qualifying members who are next
//! in a per-category, per-class rotation, which is the order "fewest recent sales first" produces
//! when everyone qualifies alike. Members who set a reserve above the basket's price never offer.

use crate::keys::SimKey;
use crate::rng::Rng;
use crate::scenario::MemberParams;
use assay_core::{Category, Micros, Rules};
use assay_market::{AgeBand, ProfileFilter, Region};

pub const AGE_BANDS: [AgeBand; 6] = [
    AgeBand::From18To24,
    AgeBand::From25To34,
    AgeBand::From35To44,
    AgeBand::From45To54,
    AgeBand::From55To64,
    AgeBand::From65,
];

/// Offers one basket may take from one class pool before giving up on reserves: a bound on the
/// scan so a pool full of high reserves cannot stall a day.
const SCAN_PER_OFFER_MAX: usize = 64;

pub struct Member {
    pub key: SimKey,
    /// Region index × 6 + age band index.
    pub class: u8,
    pub sequence: u64,
    /// Reserve per category in micro-USD per member-day; zero accepts any price.
    pub reserve: [u64; 5],
}

/// One class's members for one category, visited in rotation.
#[derive(Default)]
struct Pool {
    members: Vec<u32>,
    cursor: usize,
}

pub struct Population {
    pub members: Vec<Member>,
    pub regions: Vec<Region>,
    region_weights: Vec<u64>,
    age_weights: Vec<u64>,
    /// `pools[category][class]`.
    pools: Vec<Vec<Pool>>,
    params: MemberParams,
    participation_ppm: [u32; 5],
}

impl Population {
    pub fn new(params: &MemberParams, participation_ppm: [u32; 5]) -> Population {
        let regions = params
            .regions
            .iter()
            .map(|r| Region::parse(&r.code).expect("scenario regions are ISO codes"))
            .collect::<Vec<_>>();
        let classes = regions.len() * AGE_BANDS.len();
        Population {
            members: Vec::new(),
            region_weights: params.regions.iter().map(|r| r.share_ppm.into()).collect(),
            age_weights: params
                .age_band_share_ppm
                .iter()
                .map(|&s| s.into())
                .collect(),
            regions,
            pools: (0..5)
                .map(|_| (0..classes).map(|_| Pool::default()).collect())
                .collect(),
            params: params.clone(),
            participation_ppm,
        }
    }

    pub fn class_count(&self) -> usize {
        self.regions.len() * AGE_BANDS.len()
    }

    /// Draws a new member's profile, categories and reserves; `index` is its engine member id.
    pub fn add(&mut self, key: SimKey, rules: &Rules, rng: &mut Rng) {
        let index = self.members.len() as u32;
        let region = rng.weighted(&self.region_weights);
        let age = rng.weighted(&self.age_weights);
        let class = region * AGE_BANDS.len() + age;
        let mut reserve = [0u64; 5];
        for category in Category::ALL {
            let c = category.index();
            if !rng.chance_ppm(self.participation_ppm[c]) {
                continue;
            }
            if rng.chance_ppm(self.params.reserve_setter_ppm) {
                let start = rules.category(category).start_price_micros.get() as f64;
                let ratio = rng.lognormal(
                    self.params.reserve_median_over_start,
                    self.params.reserve_sigma,
                );
                reserve[c] = (start * ratio).round().max(1.0) as u64;
            }
            // Insert at a random place in the rotation (inside-out Fisher–Yates), so late
            // joiners are not all queued behind the founders.
            let pool = &mut self.pools[c][class];
            pool.members.push(index);
            let last = pool.members.len() - 1;
            let swap = rng.below(last as u64 + 1) as usize;
            pool.members.swap(last, swap);
        }
        self.members.push(Member {
            key,
            class: class as u8,
            sequence: 0,
            reserve,
        });
    }

    /// Classes matching `filter`.
    pub fn matching_classes(&self, filter: &ProfileFilter) -> Vec<usize> {
        (0..self.class_count())
            .filter(|&class| {
                let region_ok = filter
                    .region
                    .is_none_or(|r| self.regions[class / AGE_BANDS.len()] == r);
                let age_ok = filter
                    .age_band
                    .is_none_or(|a| AGE_BANDS[class % AGE_BANDS.len()] == a);
                region_ok && age_ok
            })
            .collect()
    }

    /// Members participating in `category` whose class matches `filter`.
    pub fn pool_size(&self, category: Category, filter: &ProfileFilter) -> u64 {
        self.matching_classes(filter)
            .iter()
            .map(|&class| self.pools[category.index()][class].members.len() as u64)
            .sum()
    }

    /// The members who offer for a basket needing `needed` places at `anchor_price`: drawn from
    /// each matching class in proportion to its size, next in rotation, reserves permitting.
    /// Returns fewer than `needed` when the pool cannot fill it.
    pub fn offerers(
        &mut self,
        category: Category,
        filter: &ProfileFilter,
        needed: u64,
        anchor_price: Micros,
    ) -> Vec<u32> {
        let classes = self.matching_classes(filter);
        let pools = &mut self.pools[category.index()];
        let sizes: Vec<u64> = classes
            .iter()
            .map(|&c| pools[c].members.len() as u64)
            .collect();
        let total: u64 = sizes.iter().sum();
        if total == 0 {
            return Vec::new();
        }
        // Largest-remainder apportionment of the places over classes.
        let mut quotas: Vec<u64> = sizes.iter().map(|&s| needed * s / total).collect();
        let mut remainders: Vec<(u64, usize)> = sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| (needed * s % total, i))
            .collect();
        remainders.sort_unstable_by(|a, b| b.cmp(a));
        let short = needed - quotas.iter().sum::<u64>();
        for &(_, i) in remainders.iter().take(short as usize) {
            quotas[i] += 1;
        }
        let mut picked = Vec::with_capacity(needed as usize);
        for (&class, &quota) in classes.iter().zip(&quotas) {
            let pool = &mut pools[class];
            let len = pool.members.len();
            let quota = (quota as usize).min(len);
            let scan_max = len.min(quota.saturating_mul(SCAN_PER_OFFER_MAX));
            let mut taken = 0;
            let mut scanned = 0;
            while taken < quota && scanned < scan_max {
                let member = pool.members[pool.cursor];
                pool.cursor = (pool.cursor + 1) % len;
                scanned += 1;
                if self.members[member as usize].reserve[category.index()] <= anchor_price.get() {
                    picked.push(member);
                    taken += 1;
                }
            }
        }
        picked
    }
}
