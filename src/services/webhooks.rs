//! Webhooks: a ledger's owners register URLs that receive its events (signed, retried and
//! logged by `realtime::webhooks`). Only owners manage them: a webhook sends everything of the
//! ledger to a place of its owner's choosing.

use std::net::IpAddr;

use chrono::Utc;
use diesel::PgConnection;
use serde_json::json;
use uuid::Uuid;

use super::caller::Caller;
use super::events::TYPES;
use crate::auth::tokens;
use crate::config::WebhookSettings;
use crate::db::webhooks::{self, NewWebhook, WebhookChanges};
use crate::domain::webhook::{is_public, literal_address, parse_url};
use crate::dto::events::event_time;
use crate::dto::webhooks::{
    CreateWebhookRequest, CreatedWebhookResponse, DeliveryResponse, UpdateWebhookRequest,
    WebhookResponse,
};
use crate::error::ApiError;
use crate::http::{Page, PageMeta};

/// Most webhooks one ledger may have.
pub const MAX_PER_LEDGER: i64 = 20;

fn owners_only(caller: &Caller) -> Result<(), ApiError> {
    if caller.ledger.role.can_manage() {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            code: "ledger_owner_only",
            message: "Only an owner of this ledger may manage its webhooks.".into(),
        })
    }
}

fn refused(message: impl Into<String>) -> ApiError {
    ApiError::invalid_field("url", message)
}

/// The URL a webhook may be registered with: well-formed, and (unless the operator allows
/// private destinations) naming no private address, literally or through DNS. A name that
/// does not resolve yet is accepted: deliveries check every address again before connecting
/// (`realtime::webhooks`), so a name that later resolves inward is refused then.
pub async fn destination(settings: &WebhookSettings, raw: &str) -> Result<String, ApiError> {
    let url = parse_url(raw).map_err(|e| refused(format!("The URL {e}.")))?;
    if settings.allow_private {
        return Ok(url.into());
    }
    let inward = |ip: IpAddr| {
        refused(format!(
            "The URL leads to {ip}, a loopback, private or otherwise internal address; \
             webhooks reach public addresses only."
        ))
    };
    if let Some(ip) = literal_address(&url) {
        return if is_public(ip) {
            Ok(url.into())
        } else {
            Err(inward(ip))
        };
    }
    let host = url.host_str().unwrap_or_default().to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    if let Ok(addresses) = tokio::net::lookup_host((host.as_str(), port)).await {
        for address in addresses {
            if !is_public(address.ip()) {
                return Err(inward(address.ip()));
            }
        }
    }
    Ok(url.into())
}

fn event_types(requested: Option<Vec<String>>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(mut types) = requested else {
        return Ok(None);
    };
    if let Some(unknown) = types.iter().find(|t| !TYPES.contains(&t.as_str())) {
        return Err(ApiError::invalid_field(
            "event_types",
            format!(
                "`{unknown}` is not an event type; the types are: {}.",
                TYPES.join(", ")
            ),
        ));
    }
    types.sort();
    types.dedup();
    Ok(Some(types))
}

fn not_found() -> ApiError {
    ApiError::not_found("Webhook")
}

/// Registers a webhook on the caller's ledger; `url` has passed [`destination`].
pub fn create(
    conn: &mut PgConnection,
    caller: &Caller,
    url: &str,
    request: CreateWebhookRequest,
) -> Result<CreatedWebhookResponse, ApiError> {
    owners_only(caller)?;
    let types = event_types(request.event_types)?.unwrap_or_default();
    crate::db::transaction(conn, |conn| {
        crate::db::lock_ledger(conn, caller.ledger.id)?;
        if webhooks::count(conn, caller.ledger.id)? >= MAX_PER_LEDGER {
            return Err(ApiError::Conflict {
                code: "webhook_limit",
                message: format!(
                    "A ledger has at most {MAX_PER_LEDGER} webhooks; delete one first."
                ),
            });
        }
        let secret = format!("whsec_{}", tokens::generate());
        let webhook = webhooks::insert(
            conn,
            &NewWebhook {
                ledger_id: caller.ledger.id,
                created_by: caller.id,
                url,
                description: request.description.as_deref(),
                event_types: &types,
                secret: &secret,
            },
        )?;
        Ok(CreatedWebhookResponse {
            webhook: webhook.into(),
            secret,
        })
    })
}

pub fn list(conn: &mut PgConnection, caller: &Caller) -> Result<Vec<WebhookResponse>, ApiError> {
    owners_only(caller)?;
    Ok(webhooks::list(conn, caller.ledger.id)?
        .into_iter()
        .map(WebhookResponse::from)
        .collect())
}

pub fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<WebhookResponse, ApiError> {
    owners_only(caller)?;
    webhooks::find(conn, caller.ledger.id, id)?
        .map(WebhookResponse::from)
        .ok_or_else(not_found)
}

/// Changes a webhook; `url`, when changed, has passed [`destination`].
pub fn update(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    url: Option<&str>,
    request: UpdateWebhookRequest,
) -> Result<WebhookResponse, ApiError> {
    owners_only(caller)?;
    let types = event_types(request.event_types)?;
    webhooks::update(
        conn,
        caller.ledger.id,
        id,
        &WebhookChanges {
            url,
            description: request.description.as_ref().map(|d| d.as_deref()),
            event_types: types.as_deref(),
            active: request.active,
        },
    )?
    .map(WebhookResponse::from)
    .ok_or_else(not_found)
}

pub fn delete(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    owners_only(caller)?;
    if webhooks::delete(conn, caller.ledger.id, id)? {
        Ok(())
    } else {
        Err(not_found())
    }
}

/// Queues a `ping` to the webhook, delivered (and logged) like any event.
pub fn ping(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<DeliveryResponse, ApiError> {
    owners_only(caller)?;
    let webhook = webhooks::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
    if !webhook.active {
        return Err(ApiError::Conflict {
            code: "webhook_inactive",
            message: "This webhook is off: turn it on (`active: true`) to ping it.".into(),
        });
    }
    let body = json!({
        "id": Uuid::new_v4(), "seq": 0, "type": "ping", "occurred_at": event_time(&Utc::now()),
        "ledger_id": webhook.ledger_id,
        "data": {"webhook_id": webhook.id, "message": "FinAI is reaching your endpoint."},
    });
    Ok(webhooks::insert_ping(conn, webhook.ledger_id, webhook.id, &body)?.into())
}

pub fn deliveries(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    page: Page,
) -> Result<(Vec<DeliveryResponse>, PageMeta), ApiError> {
    owners_only(caller)?;
    let webhook = webhooks::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
    let (rows, total) = webhooks::deliveries(
        conn,
        webhook.ledger_id,
        webhook.id,
        page.limit(),
        page.offset(),
    )?;
    Ok((
        rows.into_iter().map(DeliveryResponse::from).collect(),
        page.meta(total),
    ))
}

/// Turns off every endpoint `user_id` set up (in `ledger`, or in every shared ledger, or with
/// `personal` in their own too), each with a `webhook_disabled` notification saying `why`
/// ("the member who set it up left the ledger").
pub fn turn_off_created_by(
    conn: &mut PgConnection,
    user_id: Uuid,
    ledger: Option<Uuid>,
    personal: bool,
    reason: &str,
    why: &str,
) -> Result<(), ApiError> {
    for endpoint in webhooks::active_created_by(conn, user_id, ledger, personal)? {
        turn_off(
            conn,
            &endpoint,
            reason,
            &format!(
                "The webhook sending to {} was turned off: {why}. Turn it on again if it should \
                 go on sending there.",
                endpoint.url
            ),
        )?;
    }
    Ok(())
}

/// Turns an endpoint off and tells the ledger why with a `webhook_disabled` notification (once;
/// nothing when it was off already).
pub fn turn_off(
    conn: &mut PgConnection,
    endpoint: &webhooks::Endpoint,
    reason: &str,
    message: &str,
) -> Result<(), ApiError> {
    if !webhooks::disable(conn, endpoint.ledger_id, endpoint.id, reason)? {
        return Ok(());
    }
    crate::db::notifications::insert_once(
        conn,
        endpoint.ledger_id,
        "webhook_disabled",
        "A webhook was turned off",
        message,
        json!({"webhook_id": endpoint.id, "url": endpoint.url, "reason": reason}),
        &format!(
            "webhook_disabled:{}:{}",
            endpoint.id,
            Utc::now().timestamp()
        ),
    )?;
    Ok(())
}
