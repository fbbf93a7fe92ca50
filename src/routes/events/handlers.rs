//! `/api/v1/events`: the event log pushed as it grows, over a WebSocket or Server-Sent Events,
//! and the tickets that open either where a client cannot send headers. The frames are in
//! `dto`; the stream itself is `realtime::session`.

use actix_web::http::header;
use actix_web::{get, post, web, FromRequest, HttpRequest, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::extractor::{token_life, StreamCaller};
use crate::auth::rate_limit;
use crate::auth::Caller;
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::Envelope;
use crate::realtime::session::{self, Filter, Opening};
use crate::realtime::{sse, websocket::WebSocket};
use crate::services::stream;
use crate::state::AppState;

/// A ticket that opens one stream of the working ledger within 30 seconds.
#[utoipa::path(
    tag = "events",
    operation_id = "create_event_ticket",
    summary = "A single-use ticket to open an event stream",
    description = "For clients that cannot set headers on a WebSocket or `EventSource` (browsers): \
        open `/events/ws?ticket=...` or `/events/stream?ticket=...` within 30 seconds. A ticket \
        works once, for the ledger it was asked for on, and the stream it opens lives as long as \
        the access token that asked for it. A query the stream refuses (`invalid_query`) or a \
        plain GET of the socket does not spend it; once it has named its caller it is spent, \
        even if the stream is then refused (`too_many_streams`, `rate_limited`, a wallet not in \
        the ledger).",
    responses((status = 200, description = "The ticket", body = Envelope<TicketResponse>)),
    security(("bearer_auth" = []))
)]
#[post("/events/ticket")]
pub async fn create_ticket(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: Caller,
) -> ApiResult<HttpResponse> {
    let token = token_life(&req)?;
    let (ticket, expires_at) = db::run(&state.pool, move |conn| {
        stream::issue_ticket(conn, &caller, token)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(Envelope::new(TicketResponse {
            ticket,
            expires_at,
            ledger_id: caller.ledger.id,
        })))
}

/// 429 `too_many_streams` when the account has as many streams open as it may.
fn room_for_one_more(state: &AppState, who: &StreamCaller) -> ApiResult<()> {
    let most = state.settings.stream.per_user;
    if state.hub.streams_of(who.caller.id) >= most {
        return Err(ApiError::TooManyRequests {
            code: "too_many_streams",
            message: format!(
                "This account has {most} event streams open, as many as it may: close one first."
            ),
            retry_after_secs: 10,
        });
    }
    Ok(())
}

/// What a stream asks for in its query: the filter it opens with and the cursor to resume
/// after.
struct Requested {
    filter: Filter,
    cursor: Option<String>,
}

fn requested(query: StreamQuery, cursor: Option<String>) -> ApiResult<Requested> {
    let invalid = |message: String| ApiError::BadRequest {
        code: "invalid_query",
        message,
    };
    let list = |raw: Option<String>| -> Option<Vec<String>> {
        raw.map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
    };
    let wallet_ids = list(query.wallet_ids)
        .map(|ids| {
            ids.iter()
                .map(|id| Uuid::parse_str(id))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(|_| invalid("`wallet_ids` must be wallet ids separated by commas.".into()))?;
    let filter = Filter::new(list(query.types), wallet_ids).map_err(invalid)?;
    Ok(Requested {
        filter,
        cursor: cursor.or(query.cursor).filter(|c| !c.trim().is_empty()),
    })
}

/// The stream's caller, admitted, with room for one more stream and the filter's wallets in its
/// ledger. `check` reads what the stream asks for (its query, for a socket the handshake): it
/// runs before a single-use ticket is spent, so that a request refused for its own shape does
/// not spend it, and after a caller by header is admitted, so that an outsider to a shared
/// ledger learns nothing but 404.
async fn admit(
    state: &AppState,
    req: &HttpRequest,
    check: impl FnOnce() -> ApiResult<Requested>,
) -> ApiResult<Opening> {
    let (who, Requested { filter, cursor }) = if req.headers().contains_key(header::AUTHORIZATION) {
        let who = StreamCaller::extract(req).await?;
        (who, check()?)
    } else {
        // Not counted yet (the limiter leaves a ticket to the user it names): a refused one
        // counts against the address.
        let requested = match check() {
            Ok(requested) => requested,
            Err(error) => {
                return Err(rate_limit::count_failed_credential(state, req, error).await);
            }
        };
        (StreamCaller::extract(req).await?, requested)
    };
    room_for_one_more(state, &who)?;
    filter.check_wallets(state, who.caller.ledger.id).await?;
    Ok(Opening {
        caller: who.caller,
        token: who.token,
        scope: who.scope,
        cursor,
        filter,
    })
}

/// The event stream over a WebSocket.
#[utoipa::path(
    tag = "events",
    operation_id = "events_websocket",
    summary = "Events over a WebSocket",
    description = "Upgrade to a WebSocket (authenticate with `Authorization` or `?ticket=`). The \
        server sends JSON text frames: first `connected` (`ControlFrame`) with the cursor, then \
        every event of the ledger as it commits (`EventFrame`; `data` per type: \
        `TransactionUpdateData`, `BalanceUpdateData`, `AlertData`, `NotificationEventData`, \
        `BillPaidData`, `ImportFinishedData`, `ReceiptProcessedData`), in order, once each. The client may send \
        `Command`s: `subscribe` (event types, wallet ids), `resume` (replays the events after a \
        cursor, then goes on live) and `ping`; \
        an account holds at most 20 streams open per server (`FINAI_STREAMS_PER_USER`), one \
        more is 429 `too_many_streams`; a refused command gets an `error` frame and the \
        socket stays open. The server pings every `heartbeat_seconds` and closes a socket \
        silent for twice that. Close codes (reason `\"<name>; resume from <cursor>\"`): 4001 \
        `token_expired`, 4003 `access_revoked` (account disabled or deleted, logged out \
        everywhere, removed from the ledger), 4008 `slow_consumer` (the client did not read \
        for 10 s), 4009 `heartbeat_timeout`, 1009 `frame_too_large` (over 16 KiB), 1011 \
        `server_error`. The AsyncAPI document `openapi/asyncapi.json` describes the channel.",
    params(StreamQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "`websocket_upgrade_required`: not a WebSocket handshake; `invalid_query`: an unknown event type or a malformed wallet id", body = ErrorBody),
        (status = 401, description = "`missing_token`, `invalid_token`, `token_expired`, or `invalid_ticket`: unknown, used, expired or for another ledger", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`not_found`: a wallet of `wallet_ids` that is not the ledger's", body = ErrorBody),
    ),
    security(("bearer_auth" = []), ())
)]
#[get("/events/ws")]
pub async fn event_socket(
    state: web::Data<AppState>,
    query: web::Query<StreamQuery>,
    req: HttpRequest,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let upgrade_required = || ApiError::BadRequest {
        code: "websocket_upgrade_required",
        message: "This is a WebSocket endpoint: open it with a WebSocket client, or read \
                  the same events as Server-Sent Events at /api/v1/events/stream."
            .into(),
    };
    let opening = admit(&state, &req, || {
        let requested = requested(query.into_inner(), None)?;
        actix_http::ws::verify_handshake(req.head()).map_err(|_| upgrade_required())?;
        Ok(requested)
    })
    .await?;
    let (response, session, messages) =
        actix_ws::handle(&req, body).map_err(|_| upgrade_required())?;
    actix_web::rt::spawn(session::run(
        state.into_inner(),
        opening,
        WebSocket::new(session, messages),
    ));
    Ok(response)
}

/// The event stream as Server-Sent Events.
#[utoipa::path(
    tag = "events",
    operation_id = "events_stream",
    summary = "Events as Server-Sent Events",
    description = "The same frames as the WebSocket, as `text/event-stream`: each event with \
        `id: <seq>` and `event: <type>`: a client that authenticates with `Authorization` \
        resumes with `Last-Event-ID` (which wins over `cursor`); a browser's `EventSource`, whose \
        single-use ticket does not open a second time, asks for a new ticket and resumes with \
        `cursor=<the last id>`. `connected`, `subscribed`, `sync_required` \
        and `error` without an id; a comment line every heartbeat; and a last `close` event \
        (`{\"type\":\"close\",\"code\":\"token_expired\",\"cursor\":\"...\"}`, codes as the \
        WebSocket's) when the server ends the stream.",
    params(
        StreamQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event (the `id` of the last one received)"),
    ),
    responses(
        (status = 200, description = "The stream", content_type = "text/event-stream", body = String),
        (status = 400, description = "`invalid_query`: an unknown event type or a malformed wallet id", body = ErrorBody),
        (status = 401, description = "`missing_token`, `invalid_token`, `token_expired`, or `invalid_ticket`: unknown, used, expired or for another ledger", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 404, description = "`not_found`: a wallet of `wallet_ids` that is not the ledger's", body = ErrorBody),
    ),
    security(("bearer_auth" = []), ())
)]
#[get("/events/stream")]
pub async fn event_stream(
    state: web::Data<AppState>,
    query: web::Query<StreamQuery>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let last_event_id = req
        .headers()
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let opening = admit(&state, &req, || {
        requested(query.into_inner(), last_event_id)
    })
    .await?;
    let (transport, body) = sse::channel();
    actix_web::rt::spawn(session::run(state.into_inner(), opening, transport));
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Proxies that buffer responses would hold events back.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}
