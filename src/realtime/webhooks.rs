//! The webhook dispatcher: one per instance, on a thread of its own. Woken when any ledger's
//! log grows (and at the next retry time), it copies new events into deliveries, claims due
//! ones (`FOR UPDATE SKIP LOCKED`, with a lease, so two instances never send the same one at
//! once), and sends them concurrently, at most `concurrency` at a time, each within the
//! timeout: a receiver that hangs holds one slot for at most that long and delays nothing
//! else. Every attempt is logged on its delivery; failures are retried with exponential
//! backoff for a day, and an endpoint failing for a day is turned off with a notification.
//!
//! Requests go only to public addresses unless the operator allows private ones: names are
//! resolved by [`PublicOnly`], which drops internal addresses before connecting (so a name
//! cannot be pointed inward after it was registered), and literal addresses are checked here.
//! Redirects are not followed and proxies from the environment are not used.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{Notify, Semaphore};

use super::Hub;
use crate::config::WebhookSettings;
use crate::db::webhooks::{self, Attempt, Claimed};
use crate::db::{self, PgPool};
use crate::domain::webhook::{
    is_public, literal_address, parse_url, retry_delay, signature, DELIVERY_HEADER, EVENT_HEADER,
    GIVE_UP_AFTER, SIGNATURE_HEADER,
};
use crate::error::ApiError;

/// How long a claim holds a delivery: longer than any attempt can take.
fn lease(settings: &WebhookSettings) -> i64 {
    settings.timeout.as_secs() as i64 * 3 + 30
}

/// The least time between two rounds.
const ROUND_GAP: Duration = Duration::from_millis(50);

/// The longest the dispatcher sleeps without looking (for the hub's end, and for deliveries
/// another instance queued).
const IDLE_LOOK: Duration = Duration::from_secs(5);

/// Starts the dispatcher for the application that owns `hub`; it ends with it.
pub fn spawn(pool: PgPool, settings: WebhookSettings, hub: Weak<Hub>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("finai-webhooks".into())
        .spawn(move || runtime.block_on(dispatch(pool, settings, hub)))
        .map(drop)
}

/// Resolves names to their public addresses only (all of them, with `allow_private`).
struct PublicOnly {
    allow_private: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|address| allow_private || is_public(address.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "{} resolves to no public address (webhooks reach public addresses only)",
                    name.as_str()
                )
                .into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Runs blocking database work off this thread's runtime.
async fn blocking<T, F>(pool: &PgPool, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut diesel::PgConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        work(&mut conn)
    })
    .await
    .map_err(|e| ApiError::internal(format!("webhook work panicked: {e}")))?
}

async fn dispatch(pool: PgPool, settings: WebhookSettings, hub: Weak<Hub>) {
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .user_agent(concat!("FinAI-Webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(PublicOnly {
            allow_private: settings.allow_private,
        }))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            log::error!("webhooks: cannot build the HTTP client, deliveries are off: {e}");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let finished = Arc::new(Notify::new());
    loop {
        let Some(woken) = hub.upgrade().map(|hub| hub.webhooks.clone()) else {
            return;
        };
        let started = tokio::time::Instant::now();
        let pause = match round(&pool, &settings, &client, &slots, &finished).await {
            Ok(pause) => pause,
            Err(e) => {
                log::warn!("webhooks: {e}");
                IDLE_LOOK
            }
        };
        tokio::select! {
            _ = woken.notified() => {}
            _ = finished.notified() => {}
            _ = tokio::time::sleep(pause) => {}
        }
        // Under a stream of writes every commit wakes the dispatcher: one round per
        // `ROUND_GAP` at most, and the wake-ups in between fold into the next (after a quiet
        // spell the next round starts at once).
        tokio::time::sleep_until(started + ROUND_GAP).await;
    }
}

/// Queues new events, starts as many due deliveries as there are free slots, and says how
/// long to wait before looking again.
async fn round(
    pool: &PgPool,
    settings: &WebhookSettings,
    client: &reqwest::Client,
    slots: &Arc<Semaphore>,
    finished: &Arc<Notify>,
) -> Result<Duration, ApiError> {
    blocking(pool, |conn| Ok(webhooks::fan_out(conn)?)).await?;
    let free = slots.available_permits() as i64;
    if free > 0 {
        let lease = lease(settings);
        let claimed = blocking(pool, move |conn| Ok(webhooks::claim(conn, free, lease)?)).await?;
        for delivery in claimed {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let (pool, settings, client, finished) = (
                pool.clone(),
                settings.clone(),
                client.clone(),
                finished.clone(),
            );
            tokio::spawn(async move {
                if let Err(e) = deliver(&pool, &settings, &client, delivery).await {
                    log::warn!("webhooks: cannot record a delivery: {e}");
                }
                drop(slot);
                finished.notify_one();
            });
        }
    }
    let next = blocking(pool, |conn| Ok(webhooks::next_due(conn)?)).await?;
    Ok(match next {
        Some(at) => (at - Utc::now())
            .to_std()
            .unwrap_or_default()
            .min(IDLE_LOOK),
        None => IDLE_LOOK,
    })
}

/// One attempt, and its record.
async fn deliver(
    pool: &PgPool,
    settings: &WebhookSettings,
    client: &reqwest::Client,
    delivery: Claimed,
) -> Result<(), ApiError> {
    let started = Instant::now();
    let outcome = send(settings, client, &delivery).await;
    let latency_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    let settings = settings.clone();
    blocking(pool, move |conn| {
        let (response_status, error) = match outcome {
            Ok(status) if (200..300).contains(&status) => {
                let attempt = Attempt {
                    response_status: Some(i32::from(status)),
                    error: None,
                    latency_ms,
                };
                return Ok(webhooks::succeeded(conn, &delivery, &attempt)?);
            }
            Ok(status) => (
                Some(i32::from(status)),
                format!("the receiver answered {status}"),
            ),
            Err(error) => (None, error),
        };
        let attempt = Attempt {
            response_status,
            error: Some(&error),
            latency_ms,
        };
        let now = Utc::now();
        let give_up = chrono::Duration::from_std(GIVE_UP_AFTER).unwrap_or_default();
        let retry_at = (now - delivery.created_at < give_up).then(|| {
            let delay = retry_delay(delivery.attempts.max(1) as u32, settings.retry_base);
            now + chrono::Duration::from_std(delay).unwrap_or_default()
        });
        db::transaction(conn, |conn| {
            let failing_since = webhooks::failed(conn, &delivery, &attempt, retry_at)?;
            if now - failing_since >= give_up {
                turn_off(conn, &delivery, &error)?;
            }
            Ok::<_, ApiError>(())
        })
    })
    .await
}

/// Sends the delivery; the receiver's status, or why there was none.
async fn send(
    settings: &WebhookSettings,
    client: &reqwest::Client,
    delivery: &Claimed,
) -> Result<u16, String> {
    let url = parse_url(&delivery.url).map_err(|e| format!("the URL {e}"))?;
    if let Some(ip) = literal_address(&url) {
        if !settings.allow_private && !is_public(ip) {
            return Err(format!("refused: {ip} is not a public address"));
        }
    }
    let body = serde_json::to_vec(&delivery.body).map_err(|e| e.to_string())?;
    let signed = signature(&delivery.secret, Utc::now().timestamp(), &body);
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signed)
        .header(DELIVERY_HEADER, delivery.id.to_string())
        .header(EVENT_HEADER, &delivery.event_type)
        .body(body)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(response.status().as_u16())
}

fn describe(error: &reqwest::Error) -> String {
    use std::error::Error;
    if error.is_timeout() {
        return "timed out".into();
    }
    // The innermost cause says what happened (refused, unresolvable, reset).
    let mut cause: &dyn Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    format!("{error}: {cause}")
}

/// Turns a webhook that has failed for a day off, and tells its ledger.
fn turn_off(
    conn: &mut diesel::PgConnection,
    delivery: &Claimed,
    last_error: &str,
) -> Result<(), ApiError> {
    crate::services::webhooks::turn_off(
        conn,
        &webhooks::Endpoint {
            ledger_id: delivery.ledger_id,
            id: delivery.webhook_id,
            url: delivery.url.clone(),
        },
        "failing for a day",
        &format!(
            "Every delivery to {} failed for a day (last: {last_error}). Fix the endpoint, \
             then turn the webhook on again.",
            delivery.url
        ),
    )
}
