//! `/api/v1/scenarios`: what-if simulations, and saved scenarios re-run on every read. The
//! work is in `services::scenarios`.

use actix_web::{delete, get, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::dto::Deleted;
use crate::error::{ApiResult, ErrorBody};
use crate::http::pagination::Page;
use crate::http::{Envelope, ValidatedJson};
use crate::services::scenarios;
use crate::state::AppState;

/// Simulate the ledger's months ahead under some changes: projected balance per wallet and in
/// total at each month's end, with an 80 % interval, and each budget's outcome. Nothing is
/// written (a viewer may simulate too).
#[utoipa::path(
    tag = "scenarios",
    operation_id = "simulate_scenario",
    summary = "Simulate a what-if scenario",
    request_body = SimulateRequest,
    responses(
        (status = 200, description = "The projection", body = Envelope<SimulationResponse>),
        (status = 404, description = "`not_found`: a wallet, recurring transaction, bill or budget the ledger does not have", body = ErrorBody),
        (status = 422, description = "`validation_failed`: months outside 1–120, a start before this month, an amount of 0 or less, a date before today, more than 50 changes, an archived wallet, two changes naming one bill, recurring transaction or budget, a description over 500 characters or with control characters, figures beyond the largest amount (15 digits before the point)", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/scenarios/simulate")]
pub async fn simulate_scenario(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<SimulateRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let result = db::run(&state.pool, move |conn| {
        scenarios::simulate(conn, &caller, &body)
    })
    .await?;
    Ok(Envelope::new(result).ok())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScenarioListQuery {
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
}

/// The ledger's saved scenarios, newest first (without results: read one to run it).
#[utoipa::path(
    tag = "scenarios",
    operation_id = "list_scenarios",
    summary = "List saved scenarios",
    params(ScenarioListQuery),
    responses(
        (status = 200, description = "The scenarios", body = Envelope<Vec<ScenarioResponse>>),
        (status = 400, description = "`invalid_query`: a bad page", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/scenarios")]
pub async fn list_scenarios(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ScenarioListQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = Page::new(query.page, query.per_page)?;
    let (rows, total) = db::run(&state.pool, move |conn| {
        scenarios::list(conn, &caller, page.limit(), page.offset())
    })
    .await?;
    let rows: Vec<ScenarioResponse> = rows
        .into_iter()
        .map(|(s, scenario)| ScenarioResponse {
            id: s.id,
            name: s.name,
            scenario,
            created_at: s.created_at,
            result: None,
        })
        .collect();
    Ok(Envelope::new(rows).with_meta(page.meta(total)).ok())
}

/// Save a scenario (it is simulated first, so only one that runs is saved).
#[utoipa::path(
    tag = "scenarios",
    operation_id = "save_scenario",
    summary = "Save a scenario",
    request_body = SaveScenarioRequest,
    responses(
        (status = 201, description = "The scenario and its simulation", body = Envelope<ScenarioResponse>),
        (status = 404, description = "`not_found`: as on simulate", body = ErrorBody),
        (status = 409, description = "`scenario_limit`: the ledger has 100 scenarios", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a blank name, or as on simulate", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/scenarios")]
pub async fn save_scenario(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<SaveScenarioRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let (saved, result) = db::run(&state.pool, move |conn| {
        scenarios::save(conn, &caller, &body.name, &body.scenario)
    })
    .await?;
    let location = format!("/api/v1/scenarios/{}", saved.id);
    let scenario = scenarios::request_of(&saved)?;
    Ok(Envelope::new(ScenarioResponse {
        id: saved.id,
        name: saved.name,
        scenario,
        created_at: saved.created_at,
        result: Some(result),
    })
    .created(&location))
}

/// A saved scenario, simulated again against today's figures (a start month that has passed
/// becomes this month).
#[utoipa::path(
    tag = "scenarios",
    operation_id = "get_scenario",
    summary = "Get and re-run a saved scenario",
    params(("id" = Uuid, Path, description = "Scenario id")),
    responses(
        (status = 200, description = "The scenario and its simulation", body = Envelope<ScenarioResponse>),
        (status = 404, description = "`not_found`: no such scenario (a change naming what was deleted since, or a wallet archived since, is left out and said so in `assumptions`)", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/scenarios/{id}")]
pub async fn get_scenario(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (saved, scenario, result) =
        db::run(&state.pool, move |conn| scenarios::get(conn, &caller, id)).await?;
    Ok(Envelope::new(ScenarioResponse {
        id: saved.id,
        name: saved.name,
        scenario,
        created_at: saved.created_at,
        result: Some(result?),
    })
    .ok())
}

#[utoipa::path(
    tag = "scenarios",
    operation_id = "delete_scenario",
    summary = "Delete a saved scenario",
    params(("id" = Uuid, Path, description = "Scenario id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/scenarios/{id}")]
pub async fn delete_scenario(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| {
        scenarios::delete(conn, &caller, id)
    })
    .await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}
