//! `/api/v1/webhooks`: URLs that receive the ledger's events, signed and retried (owners
//! only). Delivery itself is `realtime::webhooks`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::dto::Deleted;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{Envelope, Page, PageQuery, ValidatedJson};
use crate::services::webhooks;
use crate::state::AppState;

/// The ledger's webhooks.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhooks",
    summary = "List webhooks",
    responses(
        (status = 200, description = "The webhooks (without their secrets)", body = Envelope<Vec<WebhookResponse>>),
        (status = 403, description = "`ledger_owner_only`: only owners manage webhooks", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/webhooks")]
pub async fn list_webhooks(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let hooks = db::run(&state.pool, move |conn| webhooks::list(conn, &caller)).await?;
    Ok(Envelope::new(hooks).ok())
}

/// Register a webhook. Each delivery is a POST of one event (the stream's `EventFrame`) with
/// `FinAI-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the
/// secret>`, `FinAI-Delivery` (the same on retries) and `FinAI-Event`. A 2xx answer within 10
/// seconds is success; anything else is retried with exponential backoff for a day, after
/// which the webhook is turned off with a `webhook_disabled` notification.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create_webhook",
    summary = "Register a webhook",
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "The webhook, with its secret (shown this once)", body = Envelope<CreatedWebhookResponse>),
        (status = 403, description = "`ledger_owner_only`: only owners manage webhooks", body = ErrorBody),
        (status = 409, description = "`webhook_limit`: the ledger has 20 already", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a malformed URL, one that leads to an internal address, or an unknown event type", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<CreateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let url = webhooks::destination(&state.settings.webhooks, &body.url).await?;
    let created = db::run(&state.pool, move |conn| {
        webhooks::create(conn, &caller, &url, body)
    })
    .await?;
    let location = format!("/api/v1/webhooks/{}", created.webhook.id);
    Ok(Envelope::new(created).created(&location))
}

#[utoipa::path(
    tag = "webhooks",
    operation_id = "get_webhook",
    summary = "Get a webhook",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The webhook", body = Envelope<WebhookResponse>),
        (status = 403, description = "`ledger_owner_only`: only owners manage webhooks", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let hook = db::run(&state.pool, move |conn| webhooks::get(conn, &caller, id)).await?;
    Ok(Envelope::new(hook).ok())
}

/// Change a webhook's URL, types or description, or turn it off and on.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "update_webhook",
    summary = "Update a webhook",
    params(("id" = Uuid, Path, description = "Webhook id")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "The webhook", body = Envelope<WebhookResponse>),
        (status = 403, description = "`ledger_owner_only`: only owners manage webhooks", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a malformed or internal URL, or an unknown event type", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateWebhookRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let url = match &body.url {
        Some(url) => Some(webhooks::destination(&state.settings.webhooks, url).await?),
        None => None,
    };
    let hook = db::run(&state.pool, move |conn| {
        webhooks::update(conn, &caller, id, url.as_deref(), body)
    })
    .await?;
    Ok(Envelope::new(hook).ok())
}

/// Delete a webhook and its delivery log.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "delete_webhook",
    summary = "Delete a webhook",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 403, description = "`ledger_owner_only`: only owners manage webhooks", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| webhooks::delete(conn, &caller, id)).await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

/// Send a `ping` event to the webhook now (queued like any delivery; its outcome shows in
/// the deliveries). Its body is shaped as an event, with `seq` 0, which no event of the log has.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "ping_webhook",
    summary = "Ping a webhook",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 202, description = "The ping is queued", body = Envelope<DeliveryResponse>),
        (status = 403, description = "`ledger_owner_only`: only owners manage webhooks", body = ErrorBody),
        (status = 409, description = "`webhook_inactive`: the webhook is off", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/webhooks/{id}/ping")]
pub async fn ping_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let delivery = db::run(&state.pool, move |conn| webhooks::ping(conn, &caller, id)).await?;
    state.hub.webhooks.notify_one();
    Ok(HttpResponse::Accepted().json(Envelope::new(delivery)))
}

/// The webhook's deliveries, newest first: status, attempts, the receiver's answer, latency.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhook_deliveries",
    summary = "List a webhook's deliveries",
    params(("id" = Uuid, Path, description = "Webhook id"), PageQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = Envelope<Vec<DeliveryResponse>>),
        (status = 403, description = "`ledger_owner_only`: only owners manage webhooks", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let page = Page::new(query.page, query.per_page)?;
    let (rows, meta) = db::run(&state.pool, move |conn| {
        webhooks::deliveries(conn, &caller, id, page)
    })
    .await?;
    Ok(Envelope::new(rows).with_meta(meta).ok())
}
