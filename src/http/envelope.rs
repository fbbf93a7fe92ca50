//! The success envelope: `{"status":"success","message":...,"data":...,"meta":...}`.

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::ToSchema;

/// Every successful JSON answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always `success`.
    #[schema(example = "success")]
    pub status: &'static str,
    /// A short human-readable note, when there is something to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub data: T,
    /// Pagination, on lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<PageMeta>,
}

/// Where a page sits in the whole list. `total_items` is always the true count.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema, PartialEq, Eq)]
pub struct PageMeta {
    #[schema(example = 1)]
    pub page: i64,
    #[schema(example = 50)]
    pub per_page: i64,
    #[schema(example = 1234)]
    pub total_items: i64,
    #[schema(example = 25)]
    pub total_pages: i64,
}

impl<T: Serialize> Envelope<T> {
    pub fn new(data: T) -> Self {
        Envelope {
            status: "success",
            message: None,
            data,
            meta: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    pub fn with_meta(mut self, meta: PageMeta) -> Self {
        self.meta = Some(meta);
        self
    }

    /// 201 Created with a `Location`, serialized into a buffer of `capacity` bytes made at once
    /// (a large answer, whose size the caller can tell: no copies through doubling buffers).
    pub fn created_sized(self, location: &str, capacity: usize) -> HttpResponse {
        let mut body = Vec::with_capacity(capacity);
        if let Err(error) = serde_json::to_writer(&mut body, &self) {
            log::error!("cannot serialize a response: {error}");
            return HttpResponse::InternalServerError().finish();
        }
        drop(self);
        HttpResponse::Created()
            .insert_header((header::LOCATION, location))
            .content_type("application/json")
            .body(body)
    }

    /// 200 OK.
    pub fn ok(self) -> HttpResponse {
        HttpResponse::Ok().json(self)
    }

    /// 200 OK with the resource's version in an `ETag` header.
    pub fn ok_tagged(self, etag: &str) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((actix_web::http::header::ETAG, etag))
            .json(self)
    }

    /// 201 Created with a `Location` header.
    pub fn created(self, location: &str) -> HttpResponse {
        HttpResponse::Created()
            .insert_header((header::LOCATION, location))
            .json(self)
    }

    /// 202 Accepted (the work goes on in the background), with where to follow it.
    pub fn accepted(self, location: &str) -> HttpResponse {
        HttpResponse::Accepted()
            .insert_header((header::LOCATION, location))
            .json(self)
    }
}

/// A file in a request or response body (a PDF, a workbook, a bank statement): bytes, which the
/// spec shows as `type: string, format: binary`.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBody(pub Vec<u8>);
