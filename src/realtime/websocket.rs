//! The WebSocket transport (`GET /api/v1/events/ws`): JSON text frames both ways, pings from
//! the server, commands from the client, frames over 16 KiB refused with close code 1009.

use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, Session};

use super::session::{Ending, Gone, Incoming, Outgoing, Transport};
use crate::dto::events::Command;

/// The largest frame (or message of continuation frames) a client may send.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;

pub struct WebSocket {
    session: Session,
    messages: AggregatedMessageStream,
}

impl WebSocket {
    pub fn new(session: Session, messages: actix_ws::MessageStream) -> WebSocket {
        WebSocket {
            session,
            messages: messages
                .max_frame_size(MAX_FRAME_BYTES)
                .aggregate_continuations()
                .max_continuation_size(MAX_FRAME_BYTES),
        }
    }
}

fn json(frame: Outgoing<'_>) -> String {
    let text = match frame {
        Outgoing::Event(event) => serde_json::to_string(event),
        Outgoing::Control(control) => serde_json::to_string(control),
    };
    // Plain data with string keys: serialising cannot fail.
    text.unwrap_or_default()
}

impl Transport for WebSocket {
    async fn send(&mut self, frame: Outgoing<'_>) -> Result<(), Gone> {
        self.session.text(json(frame)).await.map_err(|_| Gone)
    }

    async fn heartbeat(&mut self) -> Result<(), Gone> {
        self.session.ping(b"").await.map_err(|_| Gone)
    }

    async fn receive(&mut self) -> Incoming {
        match self.messages.recv().await {
            None | Some(Ok(AggregatedMessage::Close(_))) => Incoming::Closed,
            Some(Ok(AggregatedMessage::Text(text))) => {
                match serde_json::from_str::<Command>(&text) {
                    Ok(command) => Incoming::Command(command),
                    Err(e) => Incoming::Invalid(format!(
                        "Not a command ({e}). Send {{\"type\":\"subscribe\",\"types\":[...],\
                         \"wallet_ids\":[...]}}, {{\"type\":\"resume\",\"cursor\":\"...\"}} or \
                         {{\"type\":\"ping\"}}."
                    )),
                }
            }
            Some(Ok(AggregatedMessage::Binary(_))) => {
                Incoming::Invalid("Binary frames are not understood: send JSON text.".into())
            }
            Some(Ok(AggregatedMessage::Ping(bytes))) => match self.session.pong(&bytes).await {
                Ok(()) => Incoming::Alive,
                Err(_) => Incoming::Closed,
            },
            Some(Ok(AggregatedMessage::Pong(_))) => Incoming::Alive,
            Some(Err(actix_ws::ProtocolError::Overflow)) => Incoming::TooLarge,
            // The aggregator reports an over-long message as an I/O error of its own.
            Some(Err(actix_ws::ProtocolError::Io(e))) if e.to_string().contains("maximum") => {
                Incoming::TooLarge
            }
            Some(Err(_)) => Incoming::Closed,
        }
    }

    fn answers_heartbeats(&self) -> bool {
        true
    }

    async fn close(self, ending: Ending, cursor: i64) {
        let code = match ending {
            Ending::ClientGone => CloseCode::Normal,
            Ending::FrameTooLarge => CloseCode::Size,
            Ending::ServerError => CloseCode::Error,
            other => CloseCode::Other(other.code()),
        };
        let reason = CloseReason {
            code,
            description: Some(format!("{}; resume from {cursor}", ending.name())),
        };
        // The client may be gone already: nothing more to tell it then.
        let _ = self.session.close(Some(reason)).await;
    }
}
