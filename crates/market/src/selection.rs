//! Rules M7 (fillability) and M13 (fair selection).
//!
//! Selection reading: members with the fewest recent sales go first; among equals, a lottery
//! seeded from the log decides. Each member's ticket is SHA-256 of a domain tag, the seed and the
//! member id, so anyone holding the log can recompute who was picked and why. The whole price of
//! a slot goes to the members picked for it (D3): a surplus of offers costs no one anything and is
//! not diluted among the unpicked; it reaches members as price through the supply controller (M10).

use crate::MarketError;
use assay_core::MemberId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const LOTTERY_DOMAIN: &[u8] = b"assay/selection/v1\n";

/// A member who offered for a basket, with their sales in the recent window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub member: MemberId,
    pub recent_sales: u32,
}

/// Rule M7: enough qualifying offers to fill every member place, or the basket is refused.
pub fn check_fillable(member_places: u64, qualifying_offers: u64) -> Result<(), MarketError> {
    if qualifying_offers < member_places {
        return Err(MarketError::Unfillable {
            needed: member_places,
            offered: qualifying_offers,
        });
    }
    Ok(())
}

/// The lottery ticket of `member` under `seed`; lower tickets are picked first.
pub fn lottery_ticket(seed: &[u8; 32], member: MemberId) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(LOTTERY_DOMAIN);
    hasher.update(seed);
    hasher.update(member.0.to_be_bytes());
    hasher.finalize().into()
}

/// Rule M13: picks `needed` members, in rank order (the engine fills slot 1 from the front).
pub fn select(
    candidates: &[Candidate],
    needed: u64,
    seed: &[u8; 32],
) -> Result<Vec<MemberId>, MarketError> {
    check_fillable(needed, candidates.len() as u64)?;
    let mut ranked: Vec<(u32, [u8; 32], MemberId)> = candidates
        .iter()
        .map(|c| (c.recent_sales, lottery_ticket(seed, c.member), c.member))
        .collect();
    let mut members: Vec<MemberId> = candidates.iter().map(|c| c.member).collect();
    members.sort_unstable();
    if members.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(MarketError::DuplicateOffer);
    }
    // `needed` ≤ candidates.len(), so it fits in usize.
    let needed = needed as usize;
    if needed < ranked.len() {
        ranked.select_nth_unstable(needed);
        ranked.truncate(needed);
    }
    // Keys are unique (they end in distinct member ids), so the unstable sort is deterministic.
    ranked.sort_unstable();
    Ok(ranked.into_iter().map(|(_, _, member)| member).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(sales: &[u32]) -> Vec<Candidate> {
        sales
            .iter()
            .enumerate()
            .map(|(i, &recent_sales)| Candidate {
                member: MemberId(i as u64),
                recent_sales,
            })
            .collect()
    }

    #[test]
    fn fewest_recent_sales_go_first() {
        // rule M13
        let picked = select(&candidates(&[5, 0, 3, 0, 9]), 3, &[7; 32]).unwrap();
        let mut first_two = picked[..2].to_vec();
        first_two.sort();
        assert_eq!(first_two, vec![MemberId(1), MemberId(3)]);
        assert_eq!(picked[2], MemberId(2));
    }

    #[test]
    fn the_seed_decides_among_equals() {
        // rule M13: with equal sales, different seeds give different picks (for some seed).
        let pool = candidates(&[0; 20]);
        let a = select(&pool, 5, &[1; 32]).unwrap();
        assert_eq!(a, select(&pool, 5, &[1; 32]).unwrap());
        assert!((2u8..20).any(|s| select(&pool, 5, &[s; 32]).unwrap() != a));
    }

    #[test]
    fn too_few_offers_is_unfillable_and_duplicates_are_refused() {
        // rules M7, M13
        assert_eq!(
            select(&candidates(&[0, 0]), 3, &[0; 32]).unwrap_err(),
            MarketError::Unfillable {
                needed: 3,
                offered: 2
            }
        );
        let mut pool = candidates(&[0, 0, 0]);
        pool[2].member = MemberId(0);
        assert_eq!(
            select(&pool, 1, &[0; 32]).unwrap_err().code(),
            "duplicate_offer"
        );
        assert!(check_fillable(300, 300).is_ok());
        assert_eq!(check_fillable(300, 299).unwrap_err().code(), "unfillable");
    }
}
