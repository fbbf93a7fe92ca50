use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The process is up.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    pub status: &'static str,
    #[schema(example = "0.1.0")]
    pub version: &'static str,
}

/// The database answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyStatus {
    #[schema(example = "ready")]
    pub status: &'static str,
    #[schema(example = "up")]
    pub database: &'static str,
    /// Version of the newest applied migration.
    #[schema(example = "20261121000001")]
    pub schema_version: Option<String>,
    /// Identifies this installation in logs and support requests.
    pub installation_id: Option<Uuid>,
}
