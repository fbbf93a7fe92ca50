//! `/api/v1/goals`: savings goals with their progress and pace. The work is in
//! `services::goals`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::dto::Deleted;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{Envelope, ValidatedJson};
use crate::services::goals;
use crate::state::AppState;

/// The ledger's goals, oldest first, each with its progress as of today.
#[utoipa::path(
    tag = "goals",
    operation_id = "list_goals",
    summary = "List savings goals",
    responses((status = 200, description = "The goals", body = Envelope<Vec<GoalResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/goals")]
pub async fn list_goals(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let rows = db::run(&state.pool, move |conn| goals::list(conn, &caller)).await?;
    let rows: Vec<GoalResponse> = rows
        .into_iter()
        .map(|(goal, progress)| GoalResponse::new(goal, progress))
        .collect();
    Ok(Envelope::new(rows).ok())
}

/// Create a savings goal. With `wallet_id` the wallet's balance is what is saved; without,
/// contributions are recorded with `POST /goals/{id}/contributions`. A notification (and its
/// `notification` event) goes out when the goal is reached or falls behind its date.
#[utoipa::path(
    tag = "goals",
    operation_id = "create_goal",
    summary = "Create a savings goal",
    request_body = CreateGoalRequest,
    responses(
        (status = 201, description = "The goal", body = Envelope<GoalResponse>),
        (status = 404, description = "`not_found`: no such wallet", body = ErrorBody),
        (status = 409, description = "`goal_limit`: the ledger has 100 goals", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a blank name, a target of 0, a date not after today, a currency other than the wallet's", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/goals")]
pub async fn create_goal(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<CreateGoalRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let (goal, progress) =
        db::run(&state.pool, move |conn| goals::create(conn, &caller, body)).await?;
    let location = format!("/api/v1/goals/{}", goal.id);
    Ok(Envelope::new(GoalResponse::new(goal, progress)).created(&location))
}

#[utoipa::path(
    tag = "goals",
    operation_id = "get_goal",
    summary = "Get a savings goal",
    params(("id" = Uuid, Path, description = "Goal id")),
    responses(
        (status = 200, description = "The goal", body = Envelope<GoalResponse>),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/goals/{id}")]
pub async fn get_goal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let (goal, progress) = db::run(&state.pool, move |conn| goals::get(conn, &caller, id)).await?;
    Ok(Envelope::new(GoalResponse::new(goal, progress)).ok())
}

#[utoipa::path(
    tag = "goals",
    operation_id = "update_goal",
    summary = "Update a savings goal",
    params(("id" = Uuid, Path, description = "Goal id")),
    request_body = UpdateGoalRequest,
    responses(
        (status = 200, description = "The goal", body = Envelope<GoalResponse>),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: as on create", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/goals/{id}")]
pub async fn update_goal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateGoalRequest>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let (goal, progress) = db::run(&state.pool, move |conn| {
        goals::update(conn, &caller, id, body)
    })
    .await?;
    Ok(Envelope::new(GoalResponse::new(goal, progress)).ok())
}

/// Delete a goal and its contributions (a linked wallet is untouched).
#[utoipa::path(
    tag = "goals",
    operation_id = "delete_goal",
    summary = "Delete a savings goal",
    params(("id" = Uuid, Path, description = "Goal id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/goals/{id}")]
pub async fn delete_goal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| goals::delete(conn, &caller, id)).await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

/// A goal's contributions, newest first.
#[utoipa::path(
    tag = "goals",
    operation_id = "list_contributions",
    summary = "List a goal's contributions",
    params(("id" = Uuid, Path, description = "Goal id")),
    responses(
        (status = 200, description = "The contributions", body = Envelope<Vec<ContributionResponse>>),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/goals/{id}/contributions")]
pub async fn list_contributions(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let rows = db::run(&state.pool, move |conn| {
        goals::contributions(conn, &caller, id)
    })
    .await?;
    let rows: Vec<ContributionResponse> = rows.into_iter().map(Into::into).collect();
    Ok(Envelope::new(rows).ok())
}

/// Record money put towards (or, with `withdrawal`, taken from) a goal that does not track a
/// wallet.
#[utoipa::path(
    tag = "goals",
    operation_id = "add_contribution",
    summary = "Add a contribution to a goal",
    params(("id" = Uuid, Path, description = "Goal id")),
    request_body = CreateContributionRequest,
    responses(
        (status = 201, description = "The contribution and the goal after it", body = Envelope<ContributionAdded>),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`goal_tracks_wallet`: the goal counts a wallet's balance; `contribution_limit`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: an amount of 0 or less, a date in the future, a withdrawal of more than is saved, a contribution taking what is saved beyond the largest amount (15 digits before the point)", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/goals/{id}/contributions")]
pub async fn add_contribution(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<CreateContributionRequest>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let (contribution, goal, progress) = db::run(&state.pool, move |conn| {
        goals::contribute(conn, &caller, id, body)
    })
    .await?;
    let location = format!("/api/v1/goals/{id}/contributions");
    Ok(Envelope::new(ContributionAdded {
        contribution: contribution.into(),
        goal: GoalResponse::new(goal, progress),
    })
    .created(&location))
}
