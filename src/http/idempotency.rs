//! `Idempotency-Key` on POST: the same key and request within 24 hours gets the first answer
//! again (status, headers, body) and changes nothing; the same key with another request is 409
//! `idempotency_key_reused`; a retry while the first is still running is 409
//! `idempotency_request_in_progress` (a claim left by a request that never finished lapses after
//! a minute). Keys are per user (per bearer token's subject); without a token, per exact request.
//! `/auth` is left out: its answers carry live tokens, which are never stored.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpResponse};
use sha2::{Digest, Sha256};

use super::extract::{read_body, BodyLimit};
use crate::auth::Caller;
use crate::db::{self, idempotency, idempotency::Claim};
use crate::error::ApiError;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";

/// The largest body any POST accepts (CSV imports).
pub const MAX_BODY: usize = 10 * 1024 * 1024;

pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let key = req
        .headers()
        .get(HEADER)
        .map(|v| v.to_str().map(str::to_owned));
    // Auth answers hold live tokens: they are never stored, so `/auth` is left out.
    // Decided on the path as the router reads it (percent-escapes decoded: `/api/v1/%61uth/login`
    // is routed to login), never on the raw one.
    let applies =
        req.method() == Method::POST && !req.match_info().as_str().starts_with("/api/v1/auth/");
    let (Some(key), true) = (key, applies) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let key = match key {
        Ok(key)
            if !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            key
        }
        _ => {
            return Ok(req.error_response(ApiError::BadRequest {
                code: "invalid_idempotency_key",
                message: "Idempotency-Key must be 1 to 255 printable characters (a UUID is ideal)."
                    .into(),
            }))
        }
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    // The caller is authenticated as the handler would (and the result is kept for it): a
    // revoked, disabled or deleted account's token gets its 401/403 here, never a replay.
    let principal = if req.headers().contains_key(header::AUTHORIZATION) {
        match Caller::from_request(req.request(), &mut Payload::None).await {
            Ok(user) => Some(idempotency::user_principal(user.id)),
            Err(error) => return Ok(req.error_response(error)),
        }
    } else {
        None
    };

    let limit = req
        .app_data::<BodyLimit>()
        .map_or(MAX_BODY, |limit| limit.0.max(MAX_BODY));
    let body = match read_body(req.take_payload(), limit).await {
        Ok(body) => body,
        Err(error) => return Ok(req.error_response(error)),
    };
    let mut hasher = Sha256::new();
    hasher.update(req.path().as_bytes());
    hasher.update(b"?");
    hasher.update(req.query_string().as_bytes());
    hasher.update(b"\n");
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    // A form's parts are the same request whatever boundary a retry draws between them (every
    // browser and HTTP library draws a new one per send).
    if let Some(boundary) = multipart_boundary(&content_type) {
        hasher.update(b"multipart/form-data\n");
        // Only where a delimiter stands: at the start, or after a line break.
        let body = match body.strip_prefix(format!("--{boundary}").as_bytes()) {
            Some(rest) => [b"--finai".as_slice(), rest].concat(),
            None => body.to_vec(),
        };
        hasher.update(replace_all(
            &body,
            format!("\r\n--{boundary}").as_bytes(),
            b"\r\n--finai",
        ));
    } else {
        hasher.update(&content_type);
        hasher.update(b"\n");
        // The same JSON is the same request, however a retry spaces it or orders its keys.
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(json) => canonical(&json, &mut hasher),
            Err(_) => hasher.update(&body),
        }
    }
    let request_hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // Without a token the key is scoped to the exact request, so callers cannot collide.
    let principal = principal.unwrap_or_else(|| format!("anonymous:{request_hash}"));

    let claim = {
        let (principal, key) = (principal.clone(), key.clone());
        db::run(&state.pool, move |conn| {
            idempotency::claim(conn, &principal, &key, &request_hash)
        })
        .await
    };
    match claim {
        Err(error) => Ok(req.error_response(error)),
        Ok(Claim::Mismatch) => Ok(req.error_response(ApiError::Conflict {
            code: "idempotency_key_reused",
            message: "This Idempotency-Key was used for a different request; use a new key.".into(),
        })),
        Ok(Claim::InProgress) => Ok(req.error_response(ApiError::Conflict {
            code: "idempotency_request_in_progress",
            message: "The first request with this Idempotency-Key is still running; retry shortly."
                .into(),
        })),
        Ok(Claim::Replay {
            status,
            headers,
            body,
        }) => {
            let mut response =
                HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
            if let Some(stored) = headers.as_object() {
                for (name, value) in stored {
                    if let Some(value) = value.as_str() {
                        response.insert_header((name.as_str(), value));
                    }
                }
            }
            response.insert_header(("idempotent-replayed", "true"));
            Ok(req.into_response(response.body(body)))
        }
        Ok(Claim::Fresh) => {
            req.set_payload(body.into());
            let result = next.call(req).await;
            finish(&state, principal, key, result).await
        }
    }
}

/// Stores the answer (or releases the key when the request failed on our side) and passes the
/// answer on.
async fn finish<B: MessageBody + 'static>(
    state: &web::Data<AppState>,
    principal: String,
    key: String,
    result: Result<ServiceResponse<B>, Error>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let response = match result {
        Ok(response) => response,
        Err(error) => {
            release(state, principal, key).await;
            return Err(error);
        }
    };
    let (request, response) = response.into_parts();
    let status = response.status();
    // A replay answers as the first did: its type, where it put the resource, its version.
    let kept: serde_json::Map<String, serde_json::Value> =
        [header::CONTENT_TYPE, header::LOCATION, header::ETAG]
            .iter()
            .filter_map(|name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| (name.as_str().to_owned(), serde_json::Value::from(v)))
            })
            .collect();
    let (head, body) = response.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            release(state, principal, key).await;
            return Ok(ServiceResponse::new(
                request,
                actix_web::ResponseError::error_response(&ApiError::internal(
                    "cannot read the response body",
                )),
            ));
        }
    };
    // Only settled answers are kept: a retry after a 5xx, an auth failure or a rate limit
    // must run again.
    let settled = status.is_success()
        || (status.is_client_error() && !matches!(status.as_u16(), 401 | 403 | 408 | 429));
    if !settled {
        release(state, principal, key).await;
    } else {
        let stored = bytes.to_vec();
        let saved = db::run(&state.pool, move |conn| {
            idempotency::complete(
                conn,
                &principal,
                &key,
                status.as_u16(),
                serde_json::Value::Object(kept),
                &stored,
            )
        })
        .await;
        if let Err(error) = saved {
            log::error!("cannot store the answer for an idempotency key: {error}");
        }
    }
    Ok(ServiceResponse::new(
        request,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

async fn release(state: &web::Data<AppState>, principal: String, key: String) {
    if let Err(error) = db::run(&state.pool, move |conn| {
        idempotency::release(conn, &principal, &key)
    })
    .await
    {
        log::error!("cannot release an idempotency key: {error}");
    }
}

/// The boundary of a `multipart/form-data` content type (`; boundary=...`, quoted or not).
fn multipart_boundary(content_type: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(content_type).ok()?;
    let mut parts = text.split(';');
    if !parts
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    parts.find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

/// `haystack` with every `needle` replaced by `with`.
fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Feeds `value` to `hasher` in one spelling: no spaces, object keys sorted.
fn canonical(value: &serde_json::Value, hasher: &mut Sha256) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            hasher.update(b"{");
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                canonical(&Value::String(key.clone()), hasher);
                hasher.update(b":");
                canonical(&map[key], hasher);
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                canonical(item, hasher);
            }
            hasher.update(b"]");
        }
        scalar => hasher.update(scalar.to_string().as_bytes()),
    }
}
