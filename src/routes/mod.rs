//! HTTP resources: one folder per resource with `handlers.rs` (thin: extract, call `db`/`domain`,
//! answer) and `dto.rs` (request/response types with validator and utoipa derives).

pub mod health;

use actix_web::web;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every route of the API. The server mounts it, and the OpenAPI spec is generated from it, so
/// the two cannot disagree.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::handlers::health)
        .service(health::handlers::ready)
        .service(scope::scope("/api/v1").configure(api_v1));
}

fn api_v1(cfg: &mut ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(crate::openapi::serve_spec));
}
