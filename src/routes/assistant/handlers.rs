//! `/api/v1/assistant`: questions in plain English or Vietnamese answered from the ledger's own
//! figures, the log of questions and answers, and feedback. The work is in
//! `services::assistant`.

use actix_web::{get, post, web, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::error::{ApiResult, ErrorBody};
use crate::http::pagination::Page;
use crate::http::{Envelope, ValidatedJson};
use crate::services::assistant;
use crate::state::AppState;

/// Ask a question: spending by category, merchant, wallet or period; budget status, what is
/// left and which budget is closest to its limit; biggest and unusual expenses; two periods
/// compared; income, net and savings rate; balances; next month's forecast; upcoming bills;
/// recurring payments; savings goals; "can I afford X by DATE?" (answered by a simulation).
/// Every number in `answer` is in `data`, with the query behind it. A question it cannot
/// answer gets intent `unknown` and examples of what it can. `conversation_id` (from an
/// earlier answer) carries context: "and last month?". Nothing of the ledger is changed; the
/// question and answer are logged for the asker.
#[utoipa::path(
    tag = "assistant",
    operation_id = "ask_assistant",
    summary = "Ask a question about the ledger",
    request_body = AskRequest,
    responses(
        (status = 200, description = "The answer", body = Envelope<AnswerResponse>),
        (status = 404, description = "`not_found`: no such conversation of the caller's in this ledger", body = ErrorBody),
        (status = 422, description = "`validation_failed`: an empty question, one over 500 characters, control characters, an unknown locale", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/assistant/ask")]
pub async fn ask_assistant(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<AskRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let answer = db::run(&state.pool, move |conn| assistant::ask(conn, &caller, body)).await?;
    Ok(Envelope::new(answer).ok())
}

/// The caller's questions and answers in this ledger, newest first.
#[utoipa::path(
    tag = "assistant",
    operation_id = "list_answers",
    summary = "List asked questions and their answers",
    params(AnswersQuery),
    responses(
        (status = 200, description = "The log", body = Envelope<Vec<LoggedAnswer>>),
        (status = 400, description = "`invalid_query`: a bad page or conversation id", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation of the caller's", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/assistant/answers")]
pub async fn list_answers(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AnswersQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = Page::new(query.page, query.per_page)?;
    let conversation = query.conversation_id;
    let (rows, total) = db::run(&state.pool, move |conn| {
        assistant::answers(conn, &caller, conversation, page.limit(), page.offset())
    })
    .await?;
    let rows: Vec<LoggedAnswer> = rows.into_iter().map(Into::into).collect();
    Ok(Envelope::new(rows).with_meta(page.meta(total)).ok())
}

/// Rate an answer (again, to change the rating): kept with it in the log.
#[utoipa::path(
    tag = "assistant",
    operation_id = "answer_feedback",
    summary = "Give feedback on an answer",
    params(("id" = Uuid, Path, description = "The answer's `answer_id`")),
    request_body = FeedbackRequest,
    responses(
        (status = 200, description = "The answer with its feedback", body = Envelope<LoggedAnswer>),
        (status = 404, description = "`not_found`: no such answer of the caller's", body = ErrorBody),
        (status = 422, description = "`validation_failed`: an unknown rating, a comment over 1,000 characters", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/assistant/answers/{id}/feedback")]
pub async fn answer_feedback(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<FeedbackRequest>,
) -> ApiResult<HttpResponse> {
    let (id, body) = (id.into_inner(), body.into_inner());
    let row = db::run(&state.pool, move |conn| {
        assistant::feedback(conn, &caller, id, body)
    })
    .await?;
    Ok(Envelope::new(LoggedAnswer::from(row)).ok())
}
