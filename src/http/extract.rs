//! Request extractors whose every failure is an [`ApiError`] in the envelope.

use std::ops::Deref;
use std::rc::Rc;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header;
use actix_web::web::{self, BytesMut};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::{ApiError, FieldErrors};

/// Largest JSON body accepted, shared by every extractor (`FINAI_JSON_LIMIT_BYTES`).
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

impl Default for BodyLimit {
    fn default() -> Self {
        BodyLimit(1024 * 1024)
    }
}

/// A request's caller being admitted (the token checked, the account and membership read).
/// Actix extracts a handler's arguments together, so a body that fails at once would answer
/// before the caller is refused: a ledger's viewer sending a bad body would hear 422, not that
/// they may not write. The caller's extractor opens an admission; a body that fails waits for
/// it to be decided, and a refused caller's 401 or 403 goes first.
#[derive(Clone, Default)]
pub struct Admission(Rc<tokio::sync::Notify>);

impl Admission {
    /// Opens the request's admission; decided when the returned guard is dropped.
    pub fn open(req: &HttpRequest) -> AdmissionGuard {
        let admission = Admission::default();
        req.extensions_mut().insert(admission.clone());
        AdmissionGuard(admission)
    }

    /// Waits until the request's admission, if one is open, is decided.
    async fn decided(admission: Option<Admission>) {
        if let Some(admission) = admission {
            admission.0.notified().await;
        }
    }
}

/// Decides an [`Admission`] when dropped, however the caller's extraction ends.
pub struct AdmissionGuard(Admission);

impl Drop for AdmissionGuard {
    fn drop(&mut self) {
        // One waiter at most (the body); a permit waits for it if it is not waiting yet.
        self.0 .0.notify_one();
    }
}

/// A JSON body that parsed and passed its `validator` rules.
///
/// Failures: wrong content type 415, too large 413, broken JSON 400 `malformed_json`, wrong
/// types / missing or unknown fields / rule violations 422 `validation_failed` with the field.
#[derive(Debug)]
pub struct ValidatedJson<T>(pub T);

impl<T> ValidatedJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for ValidatedJson<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidatedJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().copied().unwrap_or_default().0;
        let checks = check_json_content_type(req).and_then(|()| check_declared_length(req, limit));
        let payload = payload.take();
        let admission = req.extensions().get::<Admission>().cloned();
        Box::pin(async move {
            let body = async {
                checks?;
                let body = read_body(payload, limit).await?;
                let value: T = parse_json(&body)?;
                value.validate()?;
                Ok(ValidatedJson(value))
            };
            let body = body.await;
            if body.is_err() {
                Admission::decided(admission).await;
            }
            body
        })
    }
}

/// Like [`ValidatedJson`], but also accepts `application/x-www-form-urlencoded` (HTML login forms).
#[derive(Debug)]
pub struct JsonOrForm<T>(pub T);

impl<T> JsonOrForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for JsonOrForm<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .starts_with("application/x-www-form-urlencoded")
            });
        if !is_form {
            let json = ValidatedJson::<T>::from_request(req, payload);
            return Box::pin(async move { json.await.map(|json| JsonOrForm(json.0)) });
        }
        let limit = req.app_data::<BodyLimit>().copied().unwrap_or_default().0;
        let declared = check_declared_length(req, limit);
        let payload = payload.take();
        Box::pin(async move {
            declared?;
            let body = read_body(payload, limit).await?;
            let value: T = serde_urlencoded::from_bytes(&body).map_err(|e| {
                let mut errors = FieldErrors::new();
                let message = e.to_string();
                errors.insert(field_of(".", &message), vec![message]);
                ApiError::Validation(errors)
            })?;
            value.validate()?;
            Ok(JsonOrForm(value))
        })
    }
}

pub fn check_json_content_type(req: &HttpRequest) -> Result<(), ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false);
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType("application/json".into()))
    }
}

fn check_declared_length(req: &HttpRequest, limit: usize) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(length) if length > limit => Err(ApiError::PayloadTooLarge { limit }),
        _ => Ok(()),
    }
}

/// Reads the whole body, stopping as soon as it passes `limit`.
pub async fn read_body(payload: Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    read_body_sized(payload, limit, 0).await
}

/// [`read_body`] into a buffer made `expected` bytes long at once (a large upload's
/// `Content-Length`, within the limit), so a 15 MiB file is not copied through buffers of
/// doubling size.
async fn read_body_sized(
    mut payload: Payload,
    limit: usize,
    expected: usize,
) -> Result<web::Bytes, ApiError> {
    let mut body = BytesMut::with_capacity(expected);
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest {
            code: "invalid_body",
            message: format!("The request body could not be read: {e}."),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A file upload: the request body itself, or, for `multipart/form-data` (a browser's form), the
/// part named `file`. At most `limit` bytes either way, the form's other parts counted in; they
/// are read past, never kept.
pub async fn read_file(
    req: &actix_web::HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<(web::Bytes, Option<String>), ApiError> {
    read_upload(req, payload, limit)
        .await
        .map(|upload| (upload.bytes, upload.part_type))
}

/// An uploaded file, with what its form part said of it.
pub struct Upload {
    pub bytes: web::Bytes,
    /// The form part's content type (never trusted for what the file is).
    pub part_type: Option<String>,
    /// The form part's file name.
    pub file_name: Option<String>,
}

/// [`read_file`], keeping the form part's file name too.
pub async fn read_upload(
    req: &actix_web::HttpRequest,
    payload: Payload,
    limit: usize,
) -> Result<Upload, ApiError> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.starts_with("multipart/form-data") {
        let expected = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n <= limit)
            .unwrap_or(0);
        return Ok(Upload {
            bytes: read_body_sized(payload, limit, expected).await?,
            part_type: None,
            file_name: None,
        });
    }
    let bad = |e: actix_multipart::MultipartError| ApiError::BadRequest {
        code: "invalid_body",
        message: format!("The multipart body could not be read: {e}."),
    };
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut read = 0usize;
    while let Some(part) = parts.next().await {
        let mut part = part.map_err(bad)?;
        let is_file = part.name() == Some("file");
        let part_type = part.content_type().map(|m| m.essence_str().to_owned());
        let file_name = part
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut body = BytesMut::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(bad)?;
            read += chunk.len();
            if read > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            if is_file {
                body.extend_from_slice(&chunk);
            }
        }
        if is_file {
            return Ok(Upload {
                bytes: body.freeze(),
                part_type,
                file_name,
            });
        }
    }
    Err(ApiError::invalid_field(
        "file",
        "the multipart body has no file part (name it `file`)",
    ))
}

/// Parses JSON, telling syntax errors (400) from shape errors (422, with the field's path).
/// Text with NUL characters is refused (PostgreSQL cannot store it).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Err(ApiError::invalid_field(
            "body",
            "text must not contain NUL characters (\\u0000)",
        ));
    }
    // Every body is an object: serde would also read a struct from an array of its fields in
    // order (`["Cash", "cash", "USD", 0, false]`), which no schema of the spec allows.
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => ApiError::invalid_field("body", "must be a JSON object"),
                Err(error) => json_error(".".into(), error),
            },
        );
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| json_error(e.path().to_string(), e.into_inner()))?;
    deserializer.end().map_err(|e| json_error(".".into(), e))?;
    Ok(value)
}

fn json_error(path: String, error: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::MalformedJson(error.to_string())
        }
        Category::Data => {
            let message = strip_position(&error.to_string());
            let field = field_of(&path, &message);
            let mut errors = FieldErrors::new();
            errors.insert(field, vec![message]);
            ApiError::Validation(errors)
        }
    }
}

/// serde_json appends " at line 1 column 17": the field name says more to a client.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// The field a shape error is about. For a missing or unknown field serde reports the parent's
/// path and names the field in the message.
fn field_of(path: &str, message: &str) -> String {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    let parent = if path == "." { "" } else { path };
    match (named, parent) {
        // serde_path_to_error already tracks an unknown key as the path's last segment.
        (Some(field), parent) if parent == field || parent.ends_with(&format!(".{field}")) => {
            parent.to_owned()
        }
        (Some(field), "") => field.to_owned(),
        (Some(field), parent) => format!("{parent}.{field}"),
        (None, "") => "body".to_owned(),
        (None, parent) => parent.to_owned(),
    }
}

/// Error handlers for actix's own extractors, so they answer in the envelope too.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|error, _req| {
            match error {
                JsonPayloadError::ContentType => {
                    ApiError::UnsupportedMediaType("application/json".into())
                }
                JsonPayloadError::Overflow { limit }
                | JsonPayloadError::OverflowKnownLength { limit, .. } => {
                    ApiError::PayloadTooLarge { limit }
                }
                JsonPayloadError::Deserialize(e) => json_error(".".into(), e),
                other => ApiError::BadRequest {
                    code: "invalid_body",
                    message: format!("The request body could not be read: {other}."),
                },
            }
            .into()
        })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error: QueryPayloadError, _req| {
        ApiError::BadRequest {
            code: "invalid_query",
            message: format!("Invalid query string: {}.", error_detail(&error)),
        }
        .into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error: PathError, _req| {
        let PathError::Deserialize(detail) = &error else {
            return ApiError::BadRequest {
                code: "invalid_path_parameter",
                message: "Invalid path parameter.".into(),
            }
            .into();
        };
        ApiError::BadRequest {
            code: "invalid_path_parameter",
            message: format!("Invalid path parameter: {detail}."),
        }
        .into()
    })
}

fn error_detail(error: &QueryPayloadError) -> String {
    match error {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        amount: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Input {
        name: String,
        lines: Vec<Line>,
    }

    fn fields(error: ApiError) -> FieldErrors {
        match error {
            ApiError::Validation(fields) => fields,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_malformed_json() {
        for body in [
            &b"{"[..],
            b"",
            b"{\"name\": }",
            br#"{"name":"a","lines":[]} x"#,
            b"\xff\xfe",
            b"[1,",
            b"nul",
        ] {
            let error = parse_json::<Input>(body).unwrap_err();
            assert_eq!(error.code(), "malformed_json", "{body:?}");
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let missing = fields(parse_json::<Input>(br#"{"lines": []}"#).unwrap_err());

        assert!(missing["name"][0].contains("missing field"));

        let wrong_type = fields(parse_json::<Input>(br#"{"name": 5, "lines": []}"#).unwrap_err());

        assert!(wrong_type["name"][0].contains("invalid type"));

        let nested = fields(
            parse_json::<Input>(br#"{"name": "a", "lines": [{"amount": -1}]}"#).unwrap_err(),
        );
        assert!(nested.contains_key("lines[0].amount"), "{nested:?}");

        let unknown =
            fields(parse_json::<Input>(br#"{"name": "a", "lines": [], "x": 1}"#).unwrap_err());
        assert!(unknown["x"][0].contains("unknown field"));

        for body in [&br#""just a string""#[..], br#" ["a", []]"#, b"5", b"null"] {
            let not_object = fields(parse_json::<Input>(body).unwrap_err());
            assert_eq!(not_object["body"], ["must be a JSON object"], "{body:?}");
        }
    }
}

/// The `If-Match` header of a request, read as a list of entity tags; a header that is no
/// such list is 400 `invalid_precondition`.
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    pub if_match: Option<crate::domain::version::Tags>,
}

impl FromRequest for Conditions {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let read = |name: header::HeaderName| -> Result<_, ApiError> {
            let Some(value) = req.headers().get(&name) else {
                return Ok(None);
            };
            value
                .to_str()
                .ok()
                .and_then(crate::domain::version::Tags::parse)
                .map(Some)
                .ok_or_else(|| ApiError::BadRequest {
                    code: "invalid_precondition",
                    message: format!(
                        "{name} must be * or a list of quoted entity tags, as an ETag header \
                         gives them (\"1765000000123456\")."
                    ),
                })
        };
        std::future::ready((|| {
            Ok(Conditions {
                if_match: read(header::IF_MATCH)?,
            })
        })())
    }
}
