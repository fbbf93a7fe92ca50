//! The Server-Sent Events transport (`GET /api/v1/events/stream`): each event as
//! `id: <seq>` / `event: <type>` / `data: <frame>`, so a browser's `EventSource` resumes by
//! itself with `Last-Event-ID`; control frames without an `id`; a comment line as heartbeat;
//! a last `close` event saying why the server ended the stream.

use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;

use super::session::{Ending, Gone, Incoming, Outgoing, Transport};
use crate::dto::events::ControlFrame;

/// Frames waiting for a slow reader before `send` waits (and then times out).
const BUFFERED_FRAMES: usize = 16;

pub struct EventSource {
    frames: mpsc::Sender<Bytes>,
}

/// The transport and the response body it feeds.
pub fn channel() -> (
    EventSource,
    impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static,
) {
    let (frames, receiver) = mpsc::channel(BUFFERED_FRAMES);
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let frame = receiver.recv().await?;
        Some((Ok(frame), receiver))
    });
    (EventSource { frames }, body)
}

fn control_type(frame: &ControlFrame) -> &'static str {
    match frame {
        ControlFrame::Connected { .. } => "connected",
        ControlFrame::Subscribed { .. } => "subscribed",
        ControlFrame::SyncRequired { .. } => "sync_required",
        ControlFrame::Error { .. } => "error",
        ControlFrame::Pong => "pong",
    }
}

fn encode(frame: Outgoing<'_>) -> Bytes {
    // serde_json writes no newlines, so one `data:` line carries the frame.
    let text = match frame {
        Outgoing::Event(event) => format!(
            "id: {}\nevent: {}\ndata: {}\n\n",
            event.seq,
            event.event_type,
            serde_json::to_string(event).unwrap_or_default()
        ),
        Outgoing::Control(control) => format!(
            "event: {}\ndata: {}\n\n",
            control_type(control),
            serde_json::to_string(control).unwrap_or_default()
        ),
    };
    Bytes::from(text)
}

impl Transport for EventSource {
    async fn send(&mut self, frame: Outgoing<'_>) -> Result<(), Gone> {
        self.frames.send(encode(frame)).await.map_err(|_| Gone)
    }

    async fn heartbeat(&mut self) -> Result<(), Gone> {
        self.frames
            .send(Bytes::from_static(b": ping\n\n"))
            .await
            .map_err(|_| Gone)
    }

    async fn receive(&mut self) -> Incoming {
        std::future::pending().await
    }

    fn answers_heartbeats(&self) -> bool {
        false
    }

    async fn close(self, ending: Ending, cursor: i64) {
        if matches!(ending, Ending::ClientGone | Ending::SlowConsumer) {
            // Nobody is reading: the reader resumes from its `Last-Event-ID`.
            return;
        }
        let frame = serde_json::json!({"type": "close", "code": ending.name(),
                                       "cursor": cursor.to_string()});
        let _ = self
            .frames
            .try_send(Bytes::from(format!("event: close\ndata: {frame}\n\n")));
    }
}
