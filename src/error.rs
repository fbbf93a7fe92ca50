//! One error type for the whole API, one envelope on the wire.
//!
//! Every variant has a fixed status and a stable snake_case `code` that clients may switch on.
//! Causes of 5xx answers are kept for the log (with the request id) and never put in the body.

use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// Field name -> messages, e.g. `{"password": ["must contain a digit"]}`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// The error envelope every failing response carries.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({
    "status": "error",
    "code": "validation_failed",
    "message": "The request has invalid fields.",
    "errors": {"amount": ["must be greater than 0"]}
}))]
pub struct ErrorBody {
    /// Always `error`.
    #[schema(example = "error")]
    pub status: String,
    /// Stable machine-readable code, e.g. `not_found`, `validation_failed`.
    pub code: String,
    /// A sentence a person can act on.
    pub message: String,
    /// Per-field messages, present for validation failures; for `possible_duplicate`,
    /// `duplicate_of` holds the id of the transaction the request repeats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<FieldErrors>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("missing bearer token")]
    MissingToken,
    #[error("invalid token")]
    InvalidToken,
    #[error("token expired")]
    TokenExpired,
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 409 `possible_duplicate`: a transaction entered by hand looks like one an import
    /// recorded (`errors.duplicate_of` names it).
    #[error("{message}")]
    PossibleDuplicate { of: uuid::Uuid, message: String },
    /// 412 `precondition_failed`: `If-Match` named another version than the stored one
    /// (`etag`, sent back in the `ETag` header).
    #[error("This {what} changed since it was read: its ETag is now {etag}. Read it again, and send the change with that ETag in If-Match.")]
    PreconditionFailed { what: String, etag: String },
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported content type")]
    UnsupportedMediaType(String),
    #[error("validation failed: {0:?}")]
    Validation(FieldErrors),
    #[error("{message}")]
    TooManyRequests {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found."))
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// A 429 for a ledger's full background queue (receipts to read, files to import):
    /// `waiting` says what waits; the client is told to send more once it is done.
    pub fn queue_full(code: &'static str, waiting: String) -> Self {
        ApiError::TooManyRequests {
            code,
            message: format!("{waiting}: send more once they are done."),
            retry_after_secs: 10,
        }
    }

    /// A 422 for one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.into()]);
        ApiError::Validation(errors)
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::TooManyRequests { code, .. } => code,
            ApiError::PossibleDuplicate { .. } => "possible_duplicate",
            ApiError::PreconditionFailed { .. } => "precondition_failed",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::MissingToken => "missing_token",
            ApiError::InvalidToken => "invalid_token",
            ApiError::TokenExpired => "token_expired",
            ApiError::NotFound(_) => "not_found",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Validation(_) => "validation_failed",
            ApiError::DatabaseUnavailable(_) => "database_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    /// The sentence for the body. Never includes the cause of a 5xx.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::MalformedJson(detail) => {
                format!("The request body is not valid JSON: {detail}.")
            }
            ApiError::MissingToken => {
                "This endpoint needs an `Authorization: Bearer <access token>` header.".into()
            }
            ApiError::InvalidToken => {
                "The access token is invalid. Log in again to get a new one.".into()
            }
            ApiError::TokenExpired => {
                "The access token has expired. Use your refresh token to get a new one.".into()
            }
            ApiError::PayloadTooLarge { limit } => {
                format!("The request body is larger than the limit of {limit} bytes.")
            }
            ApiError::UnsupportedMediaType(expected) => {
                format!("Send the request body as {expected}.")
            }
            ApiError::Validation(_) => "The request has invalid fields; see `errors`.".into(),
            ApiError::DatabaseUnavailable(_) => {
                "The database is unavailable. Try again in a few seconds.".into()
            }
            ApiError::Internal(_) => {
                "Something went wrong on our side. Quote the X-Request-Id header if you report it."
                    .into()
            }
            other => other.to_string(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            status: "error".into(),
            code: self.code().into(),
            message: self.public_message(),
            errors: match self {
                ApiError::Validation(errors) => Some(errors.clone()),
                ApiError::PossibleDuplicate { of, .. } => Some(FieldErrors::from([(
                    "duplicate_of".to_owned(),
                    vec![of.to_string()],
                )])),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } | ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::MissingToken
            | ApiError::InvalidToken
            | ApiError::TokenExpired
            | ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } | ApiError::PossibleDuplicate { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::DatabaseUnavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            ApiError::MissingToken | ApiError::InvalidToken | ApiError::TokenExpired => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::PreconditionFailed { etag, .. } => {
                response.insert_header((header::ETAG, etag.clone()));
            }
            _ => {}
        }
        response.json(self.body())
    }
}

impl From<DieselError> for ApiError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => ApiError::NotFound("Not found.".into()),
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation => ApiError::Conflict {
                    code: "conflict",
                    message: "A record with these values already exists.".into(),
                },
                DatabaseErrorKind::SerializationFailure => ApiError::Conflict {
                    code: "conflict",
                    message: "The request conflicted with a concurrent change; retry it.".into(),
                },
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    ApiError::DatabaseUnavailable(info.message().to_owned())
                }
                DatabaseErrorKind::ForeignKeyViolation => ApiError::Conflict {
                    code: "conflict",
                    message: "A referenced record changed at the same time; retry the request.".into(),
                },
                _ if info.message().contains("deadlock detected") => ApiError::Conflict {
                    code: "conflict",
                    message: "The request conflicted with a concurrent change; retry it.".into(),
                },
                _ if is_bad_value(info.message()) => ApiError::invalid_field(
                    "body",
                    "contains a value the database cannot store (a NUL character, or a date or number out of range)",
                ),
                _ if is_connection_loss(info.message()) => {
                    ApiError::DatabaseUnavailable(info.message().to_owned())
                }
                // `statement_timeout` (DATABASE_STATEMENT_TIMEOUT_MS): the database is too busy
                // to answer in time, which a retry may fix; not a fault of the server's code.
                _ if info.message().contains("canceling statement due to statement timeout") => {
                    ApiError::DatabaseUnavailable(info.message().to_owned())
                }
                _ => ApiError::Internal(format!("database error ({kind:?}): {}", info.message())),
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Messages PostgreSQL uses for values it cannot store (SQLSTATE 22xxx): the client's fault.
fn is_bad_value(message: &str) -> bool {
    const MARKERS: [&str; 5] = [
        "invalid byte sequence",
        "null character not permitted",
        "out of range",
        "unsupported Unicode escape sequence",
        "numeric field overflow",
    ];
    MARKERS.iter().any(|m| message.contains(m))
}

/// Whether a query failed because its connection is gone (the server shut down or restarted).
pub fn is_connection_error(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(kind, info) => {
            matches!(
                kind,
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
            ) || is_connection_loss(info.message())
        }
        _ => false,
    }
}

/// Messages PostgreSQL and libpq use when a connection was cut (server shut down or restarted).
fn is_connection_loss(message: &str) -> bool {
    const MARKERS: [&str; 5] = [
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "could not receive data",
        "the database system is",
    ];
    MARKERS.iter().any(|m| message.contains(m))
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        ApiError::DatabaseUnavailable(error.to_string())
    }
}

impl From<diesel::ConnectionError> for ApiError {
    fn from(error: diesel::ConnectionError) -> Self {
        ApiError::DatabaseUnavailable(error.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(format!("blocking task failed: {error}"))
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields = FieldErrors::new();
        flatten_validation_errors(&errors, "", &mut fields);
        ApiError::Validation(fields)
    }
}

/// Nested structs become `parent.child`, list items `items[2].field`.
fn flatten_validation_errors(
    errors: &validator::ValidationErrors,
    prefix: &str,
    out: &mut FieldErrors,
) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                let messages = out.entry(path).or_default();
                messages.extend(list.iter().map(|e| match &e.message {
                    Some(message) => message.to_string(),
                    None => default_message(e),
                }));
            }
            ValidationErrorsKind::Struct(inner) => flatten_validation_errors(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten_validation_errors(inner, &format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

fn default_message(error: &validator::ValidationError) -> String {
    let param = |name: &str| error.params.get(name).map(|v| v.to_string());
    match error.code.as_ref() {
        "length" => {
            // A list counts items, a text characters.
            let unit = match error.params.get("value") {
                Some(value) if value.is_array() => "items",
                _ => "characters long",
            };
            match (param("min"), param("max")) {
                (Some(min), Some(max)) => format!("must be between {min} and {max} {unit}"),
                (Some(min), None) => format!("must be at least {min} {unit}"),
                (None, Some(max)) => format!("must be at most {max} {unit}"),
                _ => "has an invalid length".into(),
            }
        }
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        "email" => "must be a valid email address".into(),
        "url" => "must be a valid URL".into(),
        "required" => "is required".into(),
        code => format!("is invalid ({code})"),
    }
}

/// `Result` alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn render(
        error: ApiError,
    ) -> (u16, serde_json::Value, actix_web::http::header::HeaderMap) {
        let response = error.error_response();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body()).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap(), headers)
    }

    async fn assert_envelope(error: ApiError, status: u16, code: &str) -> serde_json::Value {
        let (actual_status, body, _) = render(error).await;
        assert_eq!(actual_status, status, "status for {code}");
        assert_eq!(body["status"], "error");
        assert_eq!(body["code"], code);
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        body
    }

    #[actix_web::test]
    async fn bad_request_is_400_with_its_code() {
        let error = ApiError::BadRequest {
            code: "invalid_query",
            message: "`page` must be a number.".into(),
        };
        let body = assert_envelope(error, 400, "invalid_query").await;
        assert_eq!(body["message"], "`page` must be a number.");
        assert!(body.get("errors").is_none());
    }

    #[actix_web::test]
    async fn malformed_json_is_400() {
        assert_envelope(ApiError::MalformedJson("EOF".into()), 400, "malformed_json").await;
    }

    #[actix_web::test]
    async fn token_errors_are_401_with_distinct_codes() {
        for (error, code) in [
            (ApiError::MissingToken, "missing_token"),
            (ApiError::InvalidToken, "invalid_token"),
            (ApiError::TokenExpired, "token_expired"),
        ] {
            let (status, body, headers) = render(error).await;
            assert_eq!(status, 401);
            assert_eq!(body["code"], code);
            assert_eq!(headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer");
        }
        let custom = ApiError::Unauthorized {
            code: "invalid_credentials",
            message: "Wrong email or password.".into(),
        };
        assert_envelope(custom, 401, "invalid_credentials").await;
    }

    #[actix_web::test]
    async fn forbidden_is_403() {
        let error = ApiError::Forbidden {
            code: "forbidden",
            message: "Admins only.".into(),
        };
        assert_envelope(error, 403, "forbidden").await;
    }

    #[actix_web::test]
    async fn not_found_is_404() {
        let body = assert_envelope(ApiError::not_found("Wallet"), 404, "not_found").await;
        assert_eq!(body["message"], "Wallet not found.");
    }

    #[actix_web::test]
    async fn conflict_is_409() {
        let error = ApiError::Conflict {
            code: "email_taken",
            message: "That email is registered.".into(),
        };
        assert_envelope(error, 409, "email_taken").await;
    }

    #[actix_web::test]
    async fn payload_too_large_is_413() {
        let body = assert_envelope(
            ApiError::PayloadTooLarge { limit: 10 },
            413,
            "payload_too_large",
        )
        .await;
        assert!(body["message"].as_str().unwrap().contains("10 bytes"));
    }

    #[actix_web::test]
    async fn unsupported_media_type_is_415() {
        let error = ApiError::UnsupportedMediaType("application/json".into());
        assert_envelope(error, 415, "unsupported_media_type").await;
    }

    #[actix_web::test]
    async fn validation_is_422_with_field_errors() {
        let body = assert_envelope(
            ApiError::invalid_field("amount", "must be greater than 0"),
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(body["errors"]["amount"][0], "must be greater than 0");
    }

    #[actix_web::test]
    async fn too_many_requests_is_429_with_retry_after() {
        let error = ApiError::TooManyRequests {
            code: "rate_limited",
            message: "Slow down.".into(),
            retry_after_secs: 42,
        };
        let (status, body, headers) = render(error).await;
        assert_eq!(status, 429);
        assert_eq!(body["code"], "rate_limited");
        assert_eq!(headers.get(header::RETRY_AFTER).unwrap(), "42");
    }

    #[actix_web::test]
    async fn database_unavailable_is_503_and_hides_the_cause() {
        let error = ApiError::DatabaseUnavailable("connection refused at 10.0.0.5".into());
        let body = assert_envelope(error, 503, "database_unavailable").await;
        assert!(!body.to_string().contains("10.0.0.5"));
    }

    #[actix_web::test]
    async fn internal_is_500_and_hides_the_cause() {
        let body = assert_envelope(
            ApiError::internal("relation \"secrets\" does not exist"),
            500,
            "internal_error",
        )
        .await;
        assert!(!body.to_string().contains("secrets"));
    }

    #[test]
    fn diesel_errors_map_to_statuses() {
        assert_eq!(
            ApiError::from(DieselError::NotFound).status_code(),
            StatusCode::NOT_FOUND
        );
        let unique = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key".to_string()),
        );
        assert_eq!(ApiError::from(unique).status_code(), StatusCode::CONFLICT);
        let closed = DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("closed".to_string()),
        );
        assert_eq!(
            ApiError::from(closed).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let shutdown = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("terminating connection due to administrator command".to_string()),
        );
        assert_eq!(
            ApiError::from(shutdown).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let timeout = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("canceling statement due to statement timeout".to_string()),
        );
        assert_eq!(
            ApiError::from(timeout).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            ApiError::from(DieselError::RollbackTransaction).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn validator_errors_are_flattened() {
        use validator::Validate;
        #[derive(Validate)]
        struct Line {
            #[validate(length(min = 1))]
            note: String,
        }
        #[derive(Validate)]
        struct Input {
            #[validate(range(min = 1))]
            count: i32,
            #[validate(nested)]
            lines: Vec<Line>,
            #[validate(length(max = 1))]
            tags: Vec<String>,
        }
        let input = Input {
            count: 0,
            tags: vec!["a".into(), "b".into()],
            lines: vec![
                Line { note: "ok".into() },
                Line {
                    note: String::new(),
                },
            ],
        };
        let ApiError::Validation(fields) = ApiError::from(input.validate().unwrap_err()) else {
            panic!("expected validation error");
        };
        assert_eq!(fields["count"], vec!["must be at least 1"]);
        assert_eq!(
            fields["lines[1].note"],
            vec!["must be at least 1 characters long"]
        );
        assert_eq!(fields["tags"], vec!["must be at most 1 items"]);
    }
}
