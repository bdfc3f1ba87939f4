//! `assay bench chain`: gas of each on-chain settlement step (rule L5), measured by running the
//! committed contract artifacts in an in-process EVM (`assay_chain::gas`), beside a plain ERC-20
//! transfer as the baseline, and the cost per member per month that follows at a stated L2 gas
//! price and ETH price.

use assay_chain::gas::{self, DEPTH_TARGET};

/// Execution gas price assumed on the L2: 0.01 gwei.
pub const L2_GAS_PRICE_WEI: u128 = 10_000_000;
/// ETH price assumed: $3,000, in micro-USD.
pub const ETH_PRICE_MICROS: u128 = 3_000_000_000;
/// Members a month's root and checkpoint anchor are shared among (the 10-million target).
pub const MEMBERS: u64 = 10_000_000;
/// The budget for a claim at 24 levels.
pub const CLAIM_GAS_BUDGET: u64 = 100_000;
const WEI_PER_ETH: u128 = 1_000_000_000_000_000_000;

/// Micro-USD that `gas` costs at the stated prices, rounded up.
fn micros(gas: u64) -> u64 {
    let wei = u128::from(gas) * L2_GAS_PRICE_WEI;
    // At most u64::MAX * 1e7 * 3e9 < 2^128.
    (wei * ETH_PRICE_MICROS).div_ceil(WEI_PER_ETH) as u64
}

pub fn run(json: bool) -> anyhow::Result<()> {
    let report = gas::measure()?;
    let target = report
        .claim(DEPTH_TARGET)
        .ok_or_else(|| anyhow::anyhow!("depth {DEPTH_TARGET} was not measured"))?;
    // A member claims once a month; the month's root and anchor are shared by all members.
    let shared = (report.root + report.anchor).div_ceil(MEMBERS);
    let per_member = target.typical + shared;
    let per_member_worst = target.first_in_word + shared;
    let claims: Vec<_> = report
        .claims
        .iter()
        .map(|claim| {
            serde_json::json!({
                "depth": claim.depth,
                "leaves_max": 1u64 << claim.depth,
                "gas_first_in_word": claim.first_in_word,
                "gas_typical": claim.typical,
            })
        })
        .collect();
    let summary = serde_json::json!({
        "evm": "revm 43.0.3, Cancun rules; solc 0.8.37, optimizer 10000 runs",
        "claims": claims,
        "claim_gas_24_levels_typical": target.typical,
        "claim_gas_24_levels_first_in_word": target.first_in_word,
        "claim_gas_budget": CLAIM_GAS_BUDGET,
        "claim_typical_within_budget": target.typical <= CLAIM_GAS_BUDGET,
        "claim_first_in_word_within_budget": target.first_in_word <= CLAIM_GAS_BUDGET,
        "root_gas": report.root,
        "checkpoint_anchor_gas": report.anchor,
        "withdraw_gas_24_levels": report.withdraw,
        "erc20_transfer_gas_baseline": report.erc20_transfer,
        "claim_over_transfer": target.typical as f64 / report.erc20_transfer as f64,
        "l2_gas_price_wei": L2_GAS_PRICE_WEI.to_string(),
        "eth_price_micros": ETH_PRICE_MICROS.to_string(),
        "members": MEMBERS,
        "gas_per_member_month": per_member,
        "cost_per_member_month_micros": micros(per_member),
        "cost_per_member_month_worst_micros": micros(per_member_worst),
        "cost_per_root_micros": micros(report.root),
        "note": "execution gas only, at the stated L2 gas price and ETH price; the L2's L1 data fee for a claim's ~1 KB of calldata is not included",
    });
    if json {
        println!("{summary}");
    } else {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(())
}
