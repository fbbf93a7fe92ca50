//! The middleware every request passes through, outermost first:
//! access log -> security headers -> request id (and 5xx cause logging) -> envelope for
//! non-JSON errors -> CORS -> panic catcher -> NUL in the query refused -> ledger paths
//! (`ledger_scope`) -> handler.

use std::panic::AssertUnwindSafe;

use actix_cors::Cors;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError};
use futures_util::FutureExt;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::extract::BodyLimit;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, in the request's extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Accepts a client's id when it is short and printable (so it is safe in logs), else makes one.
fn request_id_from(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::new_v4().to_string())
}

/// Headers that keep browsers from misreading or framing any answer: `nosniff` and no framing
/// everywhere, `no-store` on answers that carry tokens or the account (`/api/v1/auth/*`,
/// `/api/v1/users/me*`), a content security policy for Swagger UI's pages, and HSTS when the
/// deployment is behind TLS (`FINAI_HSTS_SECONDS`). Paths are read as the router reads them.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let path = req.match_info().as_str().to_owned();
    let hsts = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .and_then(|state| state.settings.hsts_max_age);
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let policy = if path.starts_with("/swagger-ui") {
        // Swagger UI's own scripts and styles (it sets inline styles), nothing from elsewhere.
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
         script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'"
    };
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    if path.starts_with("/api/v1/auth/") || path.starts_with("/api/v1/users/me") {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(seconds) = hsts {
        if let Ok(value) = HeaderValue::from_str(&format!("max-age={seconds}; includeSubDomains")) {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, value);
        }
    }
    Ok(res)
}

/// Tags every request and response with `X-Request-Id`, and logs the cause of every 5xx
/// against it (the body only says "quote the request id").
///
/// A query string with a NUL character (`%00`) is refused before any handler sees it: no
/// filter may hold one (PostgreSQL cannot compare text with it), and a list's `q` would
/// otherwise reach the database and fail there.
pub async fn refuse_nul_in_query(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.query_string().contains("%00") {
        return Err(ApiError::BadRequest {
            code: "invalid_query",
            message: "Invalid query string: it must not contain NUL characters (%00).".into(),
        }
        .into());
    }
    next.call(req).await
}

/// No clone of the request may be held across `next.call`: routing needs it unshared. So an
/// error that reaches this layer as `Err` (from inner middleware, or a caught panic) is turned
/// into its response here, with the header added.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = request_id_from(&req);
    req.extensions_mut().insert(RequestId(id.clone()));
    let header = HeaderValue::from_str(&id).ok();
    match next.call(req).await {
        Ok(res) => {
            let mut res = res.map_into_boxed_body();
            if res.status().is_server_error() {
                match res.response().error() {
                    Some(error) => log::error!("request {id} failed: {error}"),
                    None => log::error!("request {id} failed with {}", res.status()),
                }
            }
            if let Some(value) = header {
                res.headers_mut().insert(REQUEST_ID, value);
            }
            Ok(res)
        }
        Err(error) => {
            let mut response = error.error_response();
            if !is_json(response.headers()) {
                let status = response.status();
                let mut envelope = error_for_status(status, None).error_response();
                *envelope.status_mut() = status;
                for (name, value) in response.headers() {
                    if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                        envelope.headers_mut().insert(name.clone(), value.clone());
                    }
                }
                response = envelope;
            }
            if response.status().is_server_error() {
                log::error!("request {id} failed: {error}");
            }
            if let Some(value) = header {
                response.headers_mut().insert(REQUEST_ID, value);
            }
            Err(InternalError::from_response(error.to_string(), response).into())
        }
    }
}

/// A panicking handler answers 500 in the envelope instead of dropping the connection.
pub async fn catch_panic(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(result) => result.map(ServiceResponse::map_into_boxed_body),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(ApiError::Internal(format!("handler panicked: {detail}")).into())
        }
    }
}

/// Rewrites error responses that are not already JSON (actix's own 404/405, CORS refusals,
/// payload errors) into the envelope, keeping their status and headers.
pub fn envelope_for_non_json_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if is_json(res.headers()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let limit = res.request().app_data::<BodyLimit>().map(|limit| limit.0);
    let (req, old) = res.into_parts();
    let error = error_for_status(status, limit);
    let mut new = error.error_response();
    *new.status_mut() = status;
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().insert(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body(),
    ))
}

fn is_json(headers: &actix_web::http::header::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

fn error_for_status(status: StatusCode, body_limit: Option<usize>) -> ApiError {
    let reason = status.canonical_reason().unwrap_or("Error");
    match status.as_u16() {
        404 => ApiError::NotFound("No such route.".into()),
        405 => ApiError::BadRequest {
            code: "method_not_allowed",
            message: "This method is not allowed on this route.".into(),
        },
        413 => ApiError::PayloadTooLarge {
            limit: body_limit.unwrap_or_default(),
        },
        415 => ApiError::UnsupportedMediaType("application/json".into()),
        400..=499 => ApiError::BadRequest {
            code: "bad_request",
            message: format!("{reason}."),
        },
        503 => ApiError::DatabaseUnavailable(reason.into()),
        _ => ApiError::Internal(format!("{status} without an error body")),
    }
}

/// CORS from `CORS_ALLOWED_ORIGINS`: exact origins, `*` for any, none by default.
pub fn cors(allowed_origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("idempotency-key"),
            REQUEST_ID,
            // Conditional requests: an edit of the version read.
            header::IF_MATCH,
        ])
        // What a browser client may read of an answer: besides the ids, links and retry hints,
        // whether it was a replay, the rate limit's state, and a download's name and tag.
        .expose_headers([
            REQUEST_ID,
            header::LOCATION,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            HeaderName::from_static("ratelimit-policy"),
            header::CONTENT_DISPOSITION,
            header::ETAG,
        ])
        .max_age(3600);
    for origin in allowed_origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

/// The default service: a route that exists with other methods answers 405 with `Allow`;
/// unknown routes 404 `not_found`, both in the envelope.
pub async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    // As the router reads it: `/api/v1/%77allets` is `/api/v1/wallets`.
    let path = percent_encoding::percent_decode_str(req.path()).decode_utf8_lossy();
    let allowed = allowed_methods(&path);
    let allow = allowed.join(", ");
    if req.method() == Method::OPTIONS && !allowed.is_empty() {
        return HttpResponse::NoContent()
            .insert_header((header::ALLOW, allow))
            .finish();
    }
    // A method the path takes that still reached here did not route for its values (a ledger
    // id that is no id, say): no such resource, 404.
    if allowed.is_empty() || allowed.contains(&req.method().as_str()) {
        return ApiError::NotFound(
            "No such route. The API lives under /api/v1; see /swagger-ui/.".into(),
        )
        .error_response();
    }
    let mut response = ApiError::BadRequest {
        code: "method_not_allowed",
        message: format!(
            "{} is not allowed here; this route takes {allow}.",
            req.method()
        ),
    }
    .error_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// The methods the spec lists for `path` (with `HEAD` beside `GET`, and `OPTIONS`), none for a
/// path it does not have. The table is read from the served spec once.
fn allowed_methods(path: &str) -> Vec<&'static str> {
    static ROUTES: std::sync::OnceLock<Vec<(Vec<String>, Vec<&'static str>)>> =
        std::sync::OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        let spec: serde_json::Value =
            serde_json::from_str(crate::openapi::SERVED).unwrap_or_default();
        let mut routes = Vec::new();
        for (template, item) in spec["paths"].as_object().into_iter().flatten() {
            let mut methods: Vec<&'static str> = ["GET", "POST", "PUT", "PATCH", "DELETE"]
                .into_iter()
                .filter(|m| item.get(m.to_lowercase()).is_some())
                .collect();
            if methods.contains(&"GET") {
                methods.insert(1, "HEAD");
            }
            methods.push("OPTIONS");
            let segments = template.split('/').map(str::to_owned).collect();
            routes.push((segments, methods));
        }
        routes
    });
    let segments: Vec<&str> = path.split('/').collect();
    routes
        .iter()
        .find(|(template, _)| {
            template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| {
                    t == s || (t.starts_with('{') && t.ends_with('}') && !s.is_empty())
                })
        })
        .map(|(_, methods)| methods.clone())
        .unwrap_or_default()
}

/// `HEAD` is a `GET` without its body (RFC 9110): routed as a `GET`, and the connection sends
/// the answer's headers only (actix-http leaves the body out of an answer to a `HEAD`).
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// The request line as the access log writes it (`GET /path?query HTTP/1.1`), with the value
/// of a `ticket` or `token` in the query left out: an event stream's single-use ticket opens a
/// stream for whoever holds it until it is spent.
pub fn logged_request_line(req: &ServiceRequest) -> String {
    let uri = req.uri();
    let target = match uri.query() {
        Some(query) => format!("{}?{}", uri.path(), redact_secrets(query)),
        None => uri.path().to_owned(),
    };
    format!("{} {target} {:?}", req.method(), req.version())
}

fn redact_secrets(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if matches!(name, "ticket" | "token") => format!("{name}=-"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App};

    #[actix_web::test]
    async fn a_panicking_handler_answers_500_in_the_envelope() {
        let app = test::init_service(
            App::new()
                .wrap(from_fn(catch_panic))
                .wrap(from_fn(request_id))
                .route(
                    "/boom",
                    web::get().to(|| async {
                        if true {
                            panic!("kaboom");
                        }
                        HttpResponse::Ok().finish()
                    }),
                ),
        )
        .await;
        let result =
            test::try_call_service(&app, test::TestRequest::get().uri("/boom").to_request()).await;
        let Err(error) = result else {
            panic!("the panic becomes an error response");
        };
        let res = error.error_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(res.headers().contains_key(REQUEST_ID));
        let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["code"], "internal_error");
        assert!(!body.to_string().contains("kaboom"));
    }

    #[actix_web::test]
    async fn a_client_request_id_is_echoed_and_a_bad_one_replaced() {
        let app = test::init_service(
            App::new()
                .wrap(from_fn(request_id))
                .route("/", web::get().to(HttpResponse::Ok)),
        )
        .await;
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/")
                .insert_header(("x-request-id", "abc-123"))
                .to_request(),
        )
        .await;
        assert_eq!(res.headers().get(REQUEST_ID).unwrap(), "abc-123");

        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/")
                .insert_header(("x-request-id", "has space"))
                .to_request(),
        )
        .await;
        let generated = res.headers().get(REQUEST_ID).unwrap().to_str().unwrap();
        assert!(Uuid::parse_str(generated).is_ok());
    }

    #[actix_web::test]
    async fn the_access_log_leaves_tickets_and_tokens_out() {
        assert_eq!(
            redact_secrets("types=bill_paid&ticket=abc123&cursor=5&token=t"),
            "types=bill_paid&ticket=-&cursor=5&token=-"
        );
        assert_eq!(redact_secrets("tickets=1&x"), "tickets=1&x");
        let req = test::TestRequest::get()
            .uri("/api/v1/events/stream?ticket=secret")
            .to_srv_request();
        assert_eq!(
            logged_request_line(&req),
            "GET /api/v1/events/stream?ticket=- HTTP/1.1"
        );
    }
}
