use actix_web::{get, web, HttpResponse};

use super::dto::{HealthStatus, ReadyStatus};
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::Envelope;
use crate::state::AppState;

/// Liveness: answers 200 while the process runs, without touching the database.
#[utoipa::path(
    tag = "health",
    operation_id = "health",
    summary = "Liveness probe",
    responses((status = 200, description = "The process is running", body = Envelope<HealthStatus>)),
    security(())
)]
#[get("/health")]
pub async fn health() -> HttpResponse {
    Envelope::new(HealthStatus {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
    .ok()
}

/// Readiness: 200 only when the database answers a query, 503 `database_unavailable` otherwise.
#[utoipa::path(
    tag = "health",
    operation_id = "ready",
    summary = "Readiness probe (database reachable)",
    responses(
        (status = 200, description = "The database answers", body = Envelope<ReadyStatus>),
        (status = 503, description = "The database is unavailable", body = ErrorBody)
    ),
    security(())
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let status = db::run(&state.pool, db::health::status)
        .await
        .map_err(|error| match error {
            ApiError::DatabaseUnavailable(_) => error,
            other => ApiError::DatabaseUnavailable(other.to_string()),
        })?;
    Ok(Envelope::new(ReadyStatus {
        status: "ready",
        database: "up",
        schema_version: status.schema_version,
        installation_id: status.installation_id,
    })
    .ok())
}
