//! Trading-day close (M2, M3, M4, M10): open baskets close, then each category's spot, floor,
//! breaker and fee move, then the next day opens. Closing the month's last day makes the
//! monthly run due (D4).

use super::{baskets, exchange_only, Context, Outcome};
use crate::{Event, Refusal, State};
use assay_core::{BasketId, Category, TradingDay};
use assay_market::price::CloseOutcome;

pub(super) fn close_trading_day(state: &mut State, context: &Context, day: TradingDay) -> Outcome {
    exchange_only(state, context)?;
    let next = TradingDay(day.0 + 1);
    if day != state.open_day || context.now < next.start() {
        return Err(Refusal::WrongDay);
    }
    // Everything that can refuse has been checked; what follows can fail only through a bug
    // (see `apply`'s module docs).
    let mut events = Vec::new();
    let open: Vec<BasketId> = state.baskets.keys().copied().collect();
    for basket in open {
        events.extend(baskets::close(state, basket)?);
    }
    let rules = state
        .rules()
        .expect("days close only after genesis")
        .clone();
    for category in Category::ALL {
        let market = &mut state.markets[category.index()];
        // Rule M2: the day's trades against the previous window's volume at the previous spot.
        let carry = rules.spot.window_days.saturating_sub(1);
        let spot = market
            .today
            .next_spot(market.history.spot(), market.volume.carried(carry)?)?;
        market.volume.push(market.today.units(), carry);
        market.today = Default::default();
        let outcome = market
            .history
            .close_day(day, spot, &rules.floor, &rules.breaker);
        let fee = market.supply.close_day(&rules.supply, &rules.fee)?;
        let floor = market.history.floor(&rules.floor)?;
        events.push(Event::TradingDayClosed {
            category,
            day,
            spot,
            floor,
            fee,
        });
        if let CloseOutcome::Tripped { reference, spot } = outcome {
            events.push(Event::EmergencyMeeting {
                category,
                day,
                reference,
                spot,
            });
        }
    }
    state.open_day = next;
    if next.is_first_of_month() {
        state.run_pending = Some(day.month());
    }
    Ok(events)
}
