//! Server-sent events: price and basket events as they are logged, for wallets to subscribe to.

use crate::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use std::convert::Infallible;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

/// A stream of `price`, `basket_posted`, `basket_closed`, `basket_unfillable`,
/// `basket_canceled` and `emergency_meeting` events (JSON in each event's data).
#[utoipa::path(get, path = "/v1/events", responses((status = 200, description = "text/event-stream", content_type = "text/event-stream")))]
pub async fn events(
    State(app): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = BroadcastStream::new(app.events.subscribe()).filter_map(|message| {
        // A subscriber too slow for the buffer misses events rather than slowing the sequencer.
        message
            .ok()
            .map(|body| Ok(Event::default().data(body.as_str())))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
