//! One open stream, whatever carries it (WebSocket or SSE: a [`Transport`]).
//!
//! The stream keeps one number, `last`: the newest event it has passed on (or deliberately
//! skipped by its filter). Woken by the hub, it reads the log after `last`, so an event is sent
//! once, in order, whether it was committed before the stream opened (a resume), while the
//! stream was busy, or by another instance. It never holds more than one page of events; a
//! reader that takes longer than the send timeout to accept a frame is closed with
//! `slow_consumer` and told the cursor to resume from.

use std::collections::HashSet;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{interval_at, sleep_until, timeout, Instant};
use uuid::Uuid;

use super::hub::Registration;
use crate::auth::extractor::{admit, TokenLife};
use crate::db::{self, events};
use crate::dto::events::{Command, ControlFrame, EventFrame};
use crate::error::ApiError;
use crate::http::ledger_scope::LedgerScope;
use crate::services::caller::Caller;
use crate::services::events::TYPES;
use crate::state::AppState;

/// Events read from the log at a time.
const PAGE: i64 = 200;

/// How long a close waits for a reader to take the frames before it, at least.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// How many send timeouts the close of a slow reader's stream waits to be taken.
const SLOW_CLOSE_WAITS: u32 = 6;

/// Why the server ended a stream. On a WebSocket, the close code and a reason
/// `"<name>; resume from <cursor>"`; on SSE, a last `close` event with both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The client closed the stream or went away.
    ClientGone,
    /// The access token behind the stream expired: reconnect with a fresh one and resume.
    TokenExpired,
    /// The account was disabled or deleted, logged out everywhere, or removed from the ledger.
    AccessRevoked,
    /// The client did not accept frames for longer than the send timeout: resume from the cursor.
    SlowConsumer,
    /// A WebSocket that answered nothing for two heartbeats.
    HeartbeatTimeout,
    /// A frame larger than the server accepts (16 KiB).
    FrameTooLarge,
    /// The database could not be read; reconnect and resume.
    ServerError,
}

impl Ending {
    /// Every ending, in close-code order, for the documents that list them (`asyncapi`). A new
    /// variant belongs here too: `asyncapi`'s exhaustive `match` on `Ending` stops the build
    /// until it has a meaning, as a reminder.
    pub const ALL: [Ending; 7] = [
        Ending::ClientGone,
        Ending::FrameTooLarge,
        Ending::ServerError,
        Ending::TokenExpired,
        Ending::AccessRevoked,
        Ending::SlowConsumer,
        Ending::HeartbeatTimeout,
    ];

    /// The WebSocket close code.
    pub fn code(self) -> u16 {
        match self {
            Ending::ClientGone => 1000,
            Ending::FrameTooLarge => 1009,
            Ending::ServerError => 1011,
            Ending::TokenExpired => 4001,
            Ending::AccessRevoked => 4003,
            Ending::SlowConsumer => 4008,
            Ending::HeartbeatTimeout => 4009,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Ending::ClientGone => "closed",
            Ending::TokenExpired => "token_expired",
            Ending::AccessRevoked => "access_revoked",
            Ending::SlowConsumer => "slow_consumer",
            Ending::HeartbeatTimeout => "heartbeat_timeout",
            Ending::FrameTooLarge => "frame_too_large",
            Ending::ServerError => "server_error",
        }
    }
}

/// The client is gone.
#[derive(Debug)]
pub struct Gone;

pub enum Outgoing<'a> {
    Event(&'a EventFrame),
    Control(&'a ControlFrame),
}

/// What a client sent.
pub enum Incoming {
    Command(Command),
    /// Not a command; the message says why.
    Invalid(String),
    /// A sign of life without a command (a pong, a ping).
    Alive,
    TooLarge,
    Closed,
}

pub trait Transport {
    fn send(&mut self, frame: Outgoing<'_>) -> impl Future<Output = Result<(), Gone>>;
    fn heartbeat(&mut self) -> impl Future<Output = Result<(), Gone>>;
    /// The client's next message; never completes where clients cannot send (SSE).
    fn receive(&mut self) -> impl Future<Output = Incoming>;
    /// Whether a silent client is a dead one (a WebSocket answers pings; SSE cannot).
    fn answers_heartbeats(&self) -> bool;
    fn close(self, ending: Ending, cursor: i64) -> impl Future<Output = ()>;
}

/// Which events a stream passes on.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    types: Option<HashSet<String>>,
    wallets: Option<HashSet<Uuid>>,
}

impl Filter {
    /// Refuses an event type the log does not have (a typo would otherwise be silence).
    pub fn new(types: Option<Vec<String>>, wallets: Option<Vec<Uuid>>) -> Result<Filter, String> {
        if let Some(unknown) = types
            .iter()
            .flatten()
            .find(|t| !TYPES.contains(&t.as_str()))
        {
            return Err(format!(
                "`{unknown}` is not an event type; the types are: {}.",
                TYPES.join(", ")
            ));
        }
        Ok(Filter {
            types: types.map(|t| t.into_iter().collect()),
            wallets: wallets.map(|w| w.into_iter().collect()),
        })
    }

    /// Refuses wallets that are not the stream's ledger's (another user's id, a made-up one),
    /// as every other filter of the API does: 404.
    pub async fn check_wallets(&self, state: &AppState, ledger: Uuid) -> Result<(), ApiError> {
        let Some(wallets) = &self.wallets else {
            return Ok(());
        };
        let ids: Vec<Uuid> = wallets.iter().copied().collect();
        let named = ids.len() as i64;
        let known = db::run(&state.pool, move |conn| {
            crate::db::wallets::count_among(conn, ledger, &ids)
        })
        .await?;
        if known < named {
            return Err(ApiError::not_found("Wallet"));
        }
        Ok(())
    }

    fn admits(&self, event: &events::Event) -> bool {
        if let Some(types) = &self.types {
            if !types.contains(&event.event_type) {
                return false;
            }
        }
        let Some(wallets) = &self.wallets else {
            return true;
        };
        // A transaction moved between wallets is about the ones it left too.
        let about: Vec<Uuid> = [
            "wallet_id",
            "to_wallet_id",
            "previous_wallet_id",
            "previous_to_wallet_id",
        ]
        .iter()
        .filter_map(|key| event.payload.get(*key)?.as_str()?.parse().ok())
        .collect();
        about.is_empty() || about.iter().any(|w| wallets.contains(w))
    }

    fn described(&self) -> ControlFrame {
        let mut types: Option<Vec<String>> =
            self.types.as_ref().map(|t| t.iter().cloned().collect());
        if let Some(types) = types.as_mut() {
            types.sort();
        }
        let mut wallet_ids: Option<Vec<Uuid>> =
            self.wallets.as_ref().map(|w| w.iter().copied().collect());
        if let Some(wallets) = wallet_ids.as_mut() {
            wallets.sort();
        }
        ControlFrame::Subscribed { types, wallet_ids }
    }
}

/// What a stream opens with: who, through which token, from where, what.
pub struct Opening {
    pub caller: Caller,
    pub token: TokenLife,
    /// The ledger named in the path; `None` for the caller's personal ledger.
    pub scope: Option<LedgerScope>,
    pub cursor: Option<String>,
    pub filter: Filter,
}

struct Stream {
    state: Arc<AppState>,
    opening: Opening,
    last: i64,
}

/// Serves one stream until it ends, then closes it saying why.
pub async fn run<T: Transport>(state: Arc<AppState>, opening: Opening, mut transport: T) {
    let registration = state
        .hub
        .register(opening.caller.ledger.id, opening.caller.id);
    let mut stream = Stream {
        state,
        opening,
        last: 0,
    };
    let ending = match stream.serve(&mut transport, &registration).await {
        Err(ending) => ending,
        Ok(never) => match never {},
    };
    drop(registration);
    let (ledger, instance) = (stream.ledger(), stream.state.hub.instance);
    if !stream.state.hub.is_watched(ledger) {
        let unlistened = db::run(&stream.state.pool, move |conn| {
            events::unlisten(conn, ledger, instance)
        })
        .await;
        if let Err(e) = unlistened {
            log::warn!("event stream: {e}");
        }
    }
    // The close goes out after the frames already buffered; a reader that never reads them
    // never gets it, and the connection is dropped instead. A slow reader is given longer
    // (six send timeouts, a minute by default): one that stalled and reads again learns why
    // the stream ended and where to resume, rather than seeing the connection cut.
    let send_timeout = stream.state.settings.stream.send_timeout;
    let wait = match ending {
        Ending::SlowConsumer => send_timeout * SLOW_CLOSE_WAITS,
        _ => send_timeout,
    }
    .max(CLOSE_WAIT);
    let _ = timeout(wait, transport.close(ending, stream.last)).await;
    if stream.state.hub.stream_ended() {
        // A moment later, once the connection's own buffers are freed too.
        actix_web::rt::spawn(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            crate::startup::release_freed_memory();
        });
    }
}

fn database_trouble(e: ApiError) -> Ending {
    log::warn!("event stream: {e}");
    Ending::ServerError
}

impl Stream {
    fn ledger(&self) -> Uuid {
        self.opening.caller.ledger.id
    }

    async fn serve<T: Transport>(
        &mut self,
        transport: &mut T,
        registration: &Registration,
    ) -> Result<Infallible, Ending> {
        let settings = self.state.settings.stream.clone();
        let (ledger, instance) = (self.ledger(), self.state.hub.instance);
        // Listening first (commits from now on announce themselves), then where the log is.
        let position = db::run(&self.state.pool, move |conn| {
            events::listen(conn, ledger, instance)?;
            events::position(conn, ledger)
        })
        .await
        .map_err(database_trouble)?;
        self.last = position.head;
        let connected = ControlFrame::Connected {
            cursor: position.head.to_string(),
            ledger_id: ledger,
            heartbeat_seconds: settings.heartbeat.as_secs(),
        };
        self.send(transport, Outgoing::Control(&connected)).await?;
        if self.opening.filter.types.is_some() || self.opening.filter.wallets.is_some() {
            let subscribed = self.opening.filter.described();
            self.send(transport, Outgoing::Control(&subscribed)).await?;
        }
        if let Some(cursor) = self.opening.cursor.take() {
            self.resume(transport, &cursor).await?;
        }
        let now = chrono::Utc::now().timestamp();
        // A personal access token may never expire: a year stands in for "not in this stream".
        let left = self
            .opening
            .token
            .expires_at
            .saturating_sub(now)
            .clamp(0, 365 * 86_400);
        let expires = Instant::now() + Duration::from_secs(left as u64);
        let mut heartbeat = interval_at(Instant::now() + settings.heartbeat, settings.heartbeat);
        let mut heard = Instant::now();
        loop {
            tokio::select! {
                biased;
                _ = registration.access.notified() => self.check_access().await?,
                _ = sleep_until(expires) => return Err(Ending::TokenExpired),
                incoming = transport.receive() => {
                    heard = Instant::now();
                    match incoming {
                        Incoming::Closed => return Err(Ending::ClientGone),
                        Incoming::TooLarge => return Err(Ending::FrameTooLarge),
                        Incoming::Alive => {}
                        Incoming::Invalid(message) => {
                            self.refuse(transport, "invalid_frame", message).await?;
                        }
                        Incoming::Command(command) => self.obey(transport, command).await?,
                    }
                }
                _ = registration.events.notified() => self.catch_up(transport).await?,
                _ = heartbeat.tick() => {
                    if transport.answers_heartbeats() && heard.elapsed() > settings.heartbeat * 2 {
                        return Err(Ending::HeartbeatTimeout);
                    }
                    self.deliver(transport.heartbeat()).await?;
                }
            }
        }
    }

    /// A frame out, within the send timeout.
    async fn send<T: Transport>(
        &self,
        transport: &mut T,
        frame: Outgoing<'_>,
    ) -> Result<(), Ending> {
        self.deliver(transport.send(frame)).await
    }

    async fn deliver(&self, sending: impl Future<Output = Result<(), Gone>>) -> Result<(), Ending> {
        match timeout(self.state.settings.stream.send_timeout, sending).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Gone)) => Err(Ending::ClientGone),
            Err(_) => Err(Ending::SlowConsumer),
        }
    }

    async fn refuse<T: Transport>(
        &self,
        transport: &mut T,
        code: &str,
        message: String,
    ) -> Result<(), Ending> {
        let error = ControlFrame::Error {
            code: code.into(),
            message,
        };
        self.send(transport, Outgoing::Control(&error)).await
    }

    async fn obey<T: Transport>(
        &mut self,
        transport: &mut T,
        command: Command,
    ) -> Result<(), Ending> {
        match command {
            Command::Ping => {
                self.send(transport, Outgoing::Control(&ControlFrame::Pong))
                    .await
            }
            Command::Resume { cursor } => self.resume(transport, &cursor).await,
            Command::Subscribe { types, wallet_ids } => match Filter::new(types, wallet_ids) {
                Err(message) => self.refuse(transport, "unknown_event_type", message).await,
                Ok(filter) => {
                    match filter.check_wallets(&self.state, self.ledger()).await {
                        Ok(()) => {}
                        Err(ApiError::NotFound(_)) => {
                            let message = "A wallet of `wallet_ids` is not one of this ledger's.";
                            return self
                                .refuse(transport, "unknown_wallet", message.into())
                                .await;
                        }
                        Err(e) => return Err(database_trouble(e)),
                    }
                    self.opening.filter = filter;
                    let subscribed = self.opening.filter.described();
                    self.send(transport, Outgoing::Control(&subscribed)).await
                }
            },
        }
    }

    /// Replays the log after `cursor`: refused if it is no cursor of this ledger's log, a
    /// `sync_required` (and on from now) if the log no longer reaches back to it.
    async fn resume<T: Transport>(
        &mut self,
        transport: &mut T,
        cursor: &str,
    ) -> Result<(), Ending> {
        let Some(cursor) = cursor.trim().parse::<i64>().ok().filter(|c| *c >= 0) else {
            let message = "A cursor is the `cursor` of `connected` or the `seq` of an event.";
            return self
                .refuse(transport, "invalid_cursor", message.into())
                .await;
        };
        let ledger = self.ledger();
        let position = db::run(&self.state.pool, move |conn| events::position(conn, ledger))
            .await
            .map_err(database_trouble)?;
        if cursor > position.head {
            let message = format!(
                "Cursor {cursor} is ahead of this ledger's log (at {}): it is from another \
                 ledger or server.",
                position.head
            );
            return self.refuse(transport, "invalid_cursor", message).await;
        }
        if cursor < position.horizon {
            self.last = self.last.max(position.head);
            let frame = ControlFrame::SyncRequired {
                cursor: self.last.to_string(),
                message: "The log no longer reaches back to this cursor: fetch the state \
                          afresh (GET /sync), then carry on from `cursor`."
                    .into(),
            };
            self.send(transport, Outgoing::Control(&frame)).await?;
            return self.catch_up(transport).await;
        }
        self.last = cursor;
        self.catch_up(transport).await
    }

    /// Sends what the log holds after `last`.
    async fn catch_up<T: Transport>(&mut self, transport: &mut T) -> Result<(), Ending> {
        let (ledger, member) = (self.ledger(), self.opening.caller.id);
        loop {
            let after = self.last;
            let page = db::run(&self.state.pool, move |conn| {
                events::since_for_member(conn, ledger, member, after, PAGE)
            })
            .await
            .map_err(database_trouble)?
            .ok_or(Ending::AccessRevoked)?;
            let full = page.len() as i64 == PAGE;
            for event in page {
                if self.opening.filter.admits(&event) {
                    let frame = EventFrame {
                        id: event.id,
                        seq: event.seq,
                        event_type: event.event_type,
                        occurred_at: event.occurred_at,
                        ledger_id: ledger,
                        data: event.payload,
                    };
                    self.send(transport, Outgoing::Event(&frame)).await?;
                }
                self.last = event.seq;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Whether the stream's user may still read its ledger with its token.
    async fn check_access(&self) -> Result<(), Ending> {
        let opening = &self.opening;
        if let Some(token) = opening.token.personal_token {
            let live = db::run(&self.state.pool, move |conn| {
                crate::db::personal_tokens::is_live(conn, token)
            })
            .await
            .map_err(database_trouble)?;
            if !live {
                return Err(Ending::AccessRevoked);
            }
        }
        match admit(
            &self.state,
            opening.caller.id,
            opening.token.issued_at,
            opening.token.session,
            opening.scope,
            false,
            None,
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(e @ (ApiError::DatabaseUnavailable(_) | ApiError::Internal(_))) => {
                Err(database_trouble(e))
            }
            Err(_) => Err(Ending::AccessRevoked),
        }
    }
}
