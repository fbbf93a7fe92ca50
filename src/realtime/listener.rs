//! One PostgreSQL connection per instance that `LISTEN`s for `finai_events` (a ledger's log
//! grew, after commit) and `finai_access` (a user's access may have shrunk), and wakes the
//! [`Hub`]'s streams. It runs on a thread of its own with a small runtime, reconnects with
//! backoff when the connection drops (then wakes every stream, since announcements may have
//! been missed meanwhile; streams read the log, so nothing is lost), and ends when the
//! application that owns the hub is gone.

use std::sync::Weak;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};
use uuid::Uuid;

use super::Hub;

pub const EVENTS_CHANNEL: &str = "finai_events";
pub const ACCESS_CHANNEL: &str = "finai_access";

/// How often the instance's listening claims are refreshed.
const REFRESH: Duration = Duration::from_secs(20);

/// Starts listening on `url` for `hub`.
pub fn spawn(url: String, hub: Weak<Hub>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("finai-listen".into())
        .spawn(move || runtime.block_on(listen_while_needed(url, hub)))
        .map(drop)
}

async fn listen_while_needed(url: String, hub: Weak<Hub>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match listen(&url, &hub).await {
            Ok(()) => return,
            Err(e) => log::warn!("event listener: {e}; reconnecting in {backoff:?}"),
        }
        match hub.upgrade() {
            Some(hub) => hub.everything_changed(),
            None => return,
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Listens until the connection fails (`Err`) or the hub is gone (`Ok`).
async fn listen(url: &str, hub: &Weak<Hub>) -> Result<(), String> {
    let (client, mut connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| e.to_string())?;
    let wakes = hub.clone();
    let mut driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            let AsyncMessage::Notification(note) = message? else {
                continue;
            };
            let (Some(hub), Ok(id)) = (wakes.upgrade(), Uuid::parse_str(note.payload())) else {
                continue;
            };
            match note.channel() {
                EVENTS_CHANNEL => hub.ledger_changed(id),
                ACCESS_CHANNEL => hub.access_changed(id),
                _ => {}
            }
        }
        Ok::<_, tokio_postgres::Error>(())
    });
    client
        .batch_execute(&format!("LISTEN {EVENTS_CHANNEL}; LISTEN {ACCESS_CHANNEL}"))
        .await
        .map_err(|e| e.to_string())?;
    // Listening from here on: whatever was announced before is in the log, so every stream
    // looks once.
    if let Some(hub) = hub.upgrade() {
        hub.everything_changed();
    }
    let mut alive = tokio::time::interval(Duration::from_secs(2));
    let mut refresh = tokio::time::interval(REFRESH);
    loop {
        tokio::select! {
            _ = refresh.tick() => {
                // Keeps this instance's claims to be listening alive (they lapse after
                // `LISTENING_SECONDS` unrefreshed, as a crashed instance's do).
                let Some(hub) = hub.upgrade() else { return Ok(()) };
                let ledgers = hub.watched();
                if !ledgers.is_empty() {
                    client
                        .execute(
                            "INSERT INTO event_listeners (ledger_id, instance_id, expires_at) \
                             SELECT unnest($1::uuid[]), $2, \
                                    now() + make_interval(secs => $3::bigint) \
                             ON CONFLICT (ledger_id, instance_id) \
                             DO UPDATE SET expires_at = EXCLUDED.expires_at",
                            &[&ledgers, &hub.instance, &crate::db::events::LISTENING_SECONDS],
                        )
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
            ended = &mut driver => {
                return match ended {
                    Ok(Ok(())) => Err("the database closed the connection".into()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(format!("the listening task ended: {e}")),
                };
            }
            _ = alive.tick() => {
                if hub.strong_count() == 0 {
                    driver.abort();
                    return Ok(());
                }
            }
        }
    }
}
