//! `/api/v1/sync`: delta sync for offline clients.

use actix_web::{get, web, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db::{self, bills, budgets, categories, recurring, sync, transactions, wallets};
use crate::dto::bills::BillResponse;
use crate::dto::budgets::BudgetResponse;
use crate::dto::categories::CategoryResponse;
use crate::dto::recurring::RecurringResponse;
use crate::dto::transactions::TransactionResponse;
use crate::dto::wallets::WalletResponse;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::Envelope;
use crate::state::AppState;

/// Everything of the caller's that was created, changed or deleted after `since`.
#[utoipa::path(
    tag = "sync",
    operation_id = "sync",
    summary = "Changes since a cursor (delta sync)",
    params(SyncQuery),
    responses(
        (status = 200, description = "Changes and the next cursor", body = Envelope<SyncResponse>),
        (status = 400, description = "`invalid_query`: a malformed cursor or limit; `invalid_cursor`: a cursor ahead of every change (sync afresh)", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/sync")]
pub async fn sync_changes(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SyncQuery>,
) -> ApiResult<HttpResponse> {
    let invalid = |message: &str| ApiError::BadRequest {
        code: "invalid_query",
        message: message.into(),
    };
    let since = match query.since.as_deref() {
        None | Some("") => 0,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| invalid("`since` must be a cursor from an earlier /sync answer."))?,
    };
    let limit = query.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(invalid("`limit` must be between 1 and 1000."));
    }
    let response = db::run(&state.pool, move |conn| {
        // A cursor beyond every change handed out (kept across a restore of an older database,
        // or made up) would be echoed back forever, and every later change missed.
        if since > sync::latest_change(conn)? {
            return Err(ApiError::BadRequest {
                code: "invalid_cursor",
                message: "This cursor is ahead of every change here (from another or a \
                          restored database?): sync afresh, without `since`."
                    .into(),
            });
        }
        let mut changes = sync::changes_since(conn, caller.ledger.id, since, limit + 1)?;
        let has_more = changes.len() as i64 > limit;
        changes.truncate(limit as usize);
        let cursor = changes.last().map_or(since, |c| c.change_seq);
        let today = caller.today();
        let ids = |kind: &str| -> Vec<Uuid> {
            changes
                .iter()
                .filter(|c| c.kind == kind)
                .map(|c| c.id)
                .collect()
        };
        let deleted = changes
            .iter()
            .filter_map(|c| {
                c.kind.strip_prefix("deleted:").map(|entity| Tombstone {
                    entity: entity.to_owned(),
                    id: c.id,
                })
            })
            .collect();
        Ok::<_, ApiError>(SyncResponse {
            wallets: wallets::with_balance_by_ids(conn, caller.ledger.id, &ids("wallet"))?
                .into_iter()
                .map(WalletResponse::from)
                .collect(),
            categories: categories::by_ids(conn, caller.ledger.id, &ids("category"))?
                .into_iter()
                .map(CategoryResponse::from)
                .collect(),
            transactions: transactions::views_by_ids(conn, caller.ledger.id, &ids("transaction"))?
                .into_iter()
                .map(TransactionResponse::from)
                .collect(),
            budgets: {
                let rows = budgets::by_ids(conn, caller.ledger.id, &ids("budget"))?;
                budgets::evaluate(conn, caller.ledger.id, rows, today)?
                    .into_iter()
                    .map(BudgetResponse::from)
                    .collect()
            },
            bills: bills::by_ids(conn, caller.ledger.id, &ids("bill"))?
                .into_iter()
                .map(|b| BillResponse::new(b, today))
                .collect(),
            recurring: recurring::by_ids(conn, caller.ledger.id, &ids("recurring"))?
                .into_iter()
                .map(RecurringResponse::from)
                .collect(),
            deleted,
            cursor: cursor.to_string(),
            has_more,
        })
    })
    .await?;
    Ok(Envelope::new(response).ok())
}
