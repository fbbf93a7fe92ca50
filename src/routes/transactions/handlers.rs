//! `/api/v1/transactions` and `/api/v1/expenses`: one implementation, two scopes. `/expenses`
//! is the same resource narrowed to `type = expense` (the seeds' clients use that name).

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::db::transactions::{Filter, Sort};
use crate::domain::ledger::TransactionType;
use crate::domain::money::Money;
use crate::domain::transaction::{Draft, SplitDraft};
use crate::domain::version;
use crate::dto::Deleted;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::Conditions;
use crate::http::{Envelope, Page, ValidatedJson};
use crate::services::ledger::{self, Admits, NewRequest, Patch, Target, Tax};
use crate::services::transactions::{self as reading, ListFilter};
use crate::state::AppState;

/// Which transactions a route serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Expenses,
}

impl Scope {
    fn noun(self) -> &'static str {
        match self {
            Scope::All => "Transaction",
            Scope::Expenses => "Expense",
        }
    }

    fn base(self) -> &'static str {
        match self {
            Scope::All => "/api/v1/transactions",
            Scope::Expenses => "/api/v1/expenses",
        }
    }

    fn admits(self) -> Admits {
        match self {
            Scope::All => |_| true,
            Scope::Expenses => |t| t == TransactionType::Expense,
        }
    }

    /// What a change through this route may touch, at the version the client read.
    fn target(self, conditions: &Conditions) -> Target<'_> {
        Target {
            admits: self.admits(),
            noun: self.noun(),
            expected: conditions.if_match.as_ref(),
        }
    }
}

fn invalid_query(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_query",
        message: message.into(),
    }
}

fn parse_amount(
    raw: Option<String>,
    name: &str,
) -> Result<Option<rust_decimal::Decimal>, ApiError> {
    raw.map(|raw| {
        raw.parse::<Money>()
            .map(|m| m.0)
            .map_err(|e| invalid_query(format!("`{name}` {e}.")))
    })
    .transpose()
}

/// The listing filters of a query (shared by the list and the CSV export).
pub(super) fn filter_from(
    query: TransactionListQuery,
    scope: Scope,
) -> Result<ListFilter, ApiError> {
    if scope == Scope::Expenses
        && query
            .transaction_type
            .is_some_and(|t| t != TransactionType::Expense)
    {
        return Err(invalid_query(
            "`/expenses` lists expenses only; use /transactions for other types.",
        ));
    }
    if query.days.is_some() && (query.from.is_some() || query.to.is_some()) {
        return Err(invalid_query("Use either `days` or `from`/`to`, not both."));
    }
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from > to {
            return Err(invalid_query("`from` must not be after `to`."));
        }
    }
    let days = match query.days {
        Some(0) => return Err(invalid_query("`days` must be at least 1.")),
        Some(days) if days > 36_600 => return Err(invalid_query("`days` must be at most 36600.")),
        other => other,
    };
    let filter = Filter {
        transaction_type: match scope {
            Scope::Expenses => Some(TransactionType::Expense.as_str().to_owned()),
            Scope::All => query.transaction_type.map(|t| t.as_str().to_owned()),
        },
        category_id: query.category_id,
        wallet_id: query.wallet_id,
        from: query.from,
        to: query.to,
        min_amount: parse_amount(query.min_amount, "min_amount")?,
        max_amount: parse_amount(query.max_amount, "max_amount")?,
        q: query
            .q
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty()),
        tag: query.tag.filter(|t| !t.is_empty()),
        updated_since: query.updated_since,
        status: query.status.map(|s| s.as_str().to_owned()),
        import_batch_id: query.import_id,
    };
    Ok(ListFilter { filter, days })
}

pub(super) fn sort_from(raw: Option<&str>) -> Result<Sort, ApiError> {
    match raw {
        None => Ok(Sort::DateDesc),
        Some(raw) => Sort::parse(raw).ok_or_else(|| {
            invalid_query(
                "`sort` must be one of date, -date, amount, -amount, created_at, -created_at.",
            )
        }),
    }
}

async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: TransactionListQuery,
    scope: Scope,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let sort = sort_from(query.sort.as_deref())?;
    let filter = filter_from(query, scope)?;
    let (rows, total) = db::run(&state.pool, move |conn| {
        reading::page(conn, &caller, filter, sort, page.limit(), page.offset())
    })
    .await?;
    let data: Vec<TransactionResponse> = rows.into_iter().map(TransactionResponse::from).collect();
    Ok(Envelope::new(data).with_meta(page.meta(total)).ok())
}

fn split_drafts(splits: Vec<SplitRequest>) -> Vec<SplitDraft> {
    splits
        .into_iter()
        .map(|s| SplitDraft {
            category_id: s.category_id,
            amount: s.amount.0,
            note: s
                .note
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
        })
        .collect()
}

async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: CreateTransactionRequest,
    scope: Scope,
) -> ApiResult<HttpResponse> {
    let transaction_type = match (scope, body.transaction_type) {
        (Scope::Expenses, None | Some(TransactionType::Expense)) => TransactionType::Expense,
        (Scope::Expenses, Some(_)) => {
            return Err(ApiError::invalid_field(
                "type",
                "must be expense here (use /transactions)",
            ))
        }
        (Scope::All, Some(t)) => t,
        (Scope::All, None) => return Err(ApiError::invalid_field("type", "is required")),
    };
    let request = NewRequest {
        draft: Draft {
            transaction_type,
            amount: body.amount.0,
            category_id: body.category_id,
            wallet_id: body.wallet_id,
            to_wallet_id: body.to_wallet_id,
            splits: split_drafts(body.splits.unwrap_or_default()),
        },
        currency: body.currency,
        date: body.date,
        description: body.description.unwrap_or_default(),
        merchant: body.merchant,
        notes: body.notes,
        tags: body.tags.unwrap_or_default(),
        auto_categorize: body.auto_categorize.unwrap_or(false),
        suggestion_id: body.suggestion_id,
        tax: Tax {
            rate: body.tax_rate.map(|r| r.0),
            deductible: body.tax_deductible.unwrap_or(false),
        },
        allow_duplicate: body.allow_duplicate.unwrap_or(false),
    };
    let view = db::run(&state.pool, move |conn| {
        ledger::create(conn, &caller, request)
    })
    .await?;
    let location = format!("{}/{}", scope.base(), view.id);
    let etag = version::etag(view.updated_at);
    let mut response = Envelope::new(TransactionResponse::from(view)).created(&location);
    response.headers_mut().insert(
        header::ETAG,
        header::HeaderValue::from_str(&etag).map_err(ApiError::internal)?,
    );
    Ok(response)
}

async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: Uuid,
    scope: Scope,
) -> ApiResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| reading::get(conn, &caller, id))
        .await?
        .filter(|view| TransactionType::parse(&view.transaction_type).is_some_and(scope.admits()))
        .ok_or_else(|| ApiError::not_found(scope.noun()))?;
    // The row's version: what `If-Match` names. Not a cache validator (no 304): the answer also
    // carries its wallet's and categories' names, which change without the row.
    let etag = version::etag(view.updated_at);
    Ok(Envelope::new(TransactionResponse::from(view)).ok_tagged(&etag))
}

async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: Uuid,
    body: UpdateTransactionRequest,
    (scope, conditions): (Scope, Conditions),
) -> ApiResult<HttpResponse> {
    let patch = Patch {
        transaction_type: body.transaction_type,
        amount: body.amount.map(|m| m.0),
        currency: body.currency,
        date: body.date,
        description: body.description,
        merchant: body.merchant,
        notes: body.notes,
        category_id: body.category_id,
        wallet_id: body.wallet_id,
        to_wallet_id: body.to_wallet_id,
        tags: body.tags,
        splits: body.splits.map(split_drafts),
        tax_rate: body.tax_rate.map(|r| r.map(|r| r.0)),
        tax_deductible: body.tax_deductible,
        category_source: None,
    };
    let view = db::run(&state.pool, move |conn| {
        ledger::update(conn, &caller, id, patch, scope.target(&conditions))
    })
    .await?;
    let etag = version::etag(view.updated_at);
    Ok(Envelope::new(TransactionResponse::from(view)).ok_tagged(&etag))
}

async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    id: Uuid,
    scope: Scope,
    conditions: Conditions,
) -> ApiResult<HttpResponse> {
    db::run(&state.pool, move |conn| {
        ledger::remove(conn, &caller, id, scope.target(&conditions))
    })
    .await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

/// The caller's transactions, newest first, with filters.
#[utoipa::path(
    tag = "transactions",
    operation_id = "list_transactions",
    summary = "List transactions",
    params(TransactionListQuery),
    responses((status = 200, description = "A page of transactions", body = Envelope<Vec<TransactionResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/transactions")]
pub async fn list_transactions(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<TransactionListQuery>,
) -> ApiResult<HttpResponse> {
    list(state, caller, query.into_inner(), Scope::All).await
}

/// Record an expense, an income, or a transfer between two of the caller's wallets.
#[utoipa::path(
    tag = "transactions",
    operation_id = "create_transaction",
    summary = "Create a transaction",
    request_body = CreateTransactionRequest,
    responses(
        (status = 201, description = "The new transaction", body = Envelope<TransactionResponse>,
            headers(("ETag" = String, description = "The transaction's version, for `If-Match`"))),
        (status = 404, description = "A wallet or category is not the caller's", body = ErrorBody),
        (status = 409, description = "`possible_duplicate`: an expense or income that looks like one an import recorded (same wallet, type and amount within 3 days; `errors.duplicate_of` names it); send `allow_duplicate: true` to record it as well", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/transactions")]
pub async fn create_transaction(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<CreateTransactionRequest>,
) -> ApiResult<HttpResponse> {
    create(state, caller, body.into_inner(), Scope::All).await
}

/// One transaction.
#[utoipa::path(
    tag = "transactions",
    operation_id = "get_transaction",
    summary = "Get a transaction",
    params(("id" = Uuid, Path, description = "Transaction id")),
    responses(
        (status = 200, description = "The transaction", body = Envelope<TransactionResponse>,
            headers(("ETag" = String, description = "The transaction's version, for `If-Match`"))),
    ),
    security(("bearer_auth" = []))
)]
#[get("/transactions/{id}")]
pub async fn get_transaction(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    get(state, caller, id.into_inner(), Scope::All).await
}

/// Change a transaction; the result is checked by the same rules as a new one.
#[utoipa::path(
    tag = "transactions",
    operation_id = "update_transaction",
    summary = "Update a transaction",
    params(("id" = Uuid, Path, description = "Transaction id"), ("If-Match" = Option<String>, Header, description = "Change only the version read: the `ETag` of the last `GET` (or write); another version is 412 `precondition_failed`")),
    request_body = UpdateTransactionRequest,
    responses(
        (status = 200, description = "The updated transaction", body = Envelope<TransactionResponse>,
            headers(("ETag" = String, description = "The transaction's new version"))),
        (status = 400, description = "`invalid_precondition`: an `If-Match` that is no list of entity tags", body = ErrorBody),
        (status = 412, description = "`precondition_failed`: the transaction changed since the `If-Match` version (the `ETag` header has the current one)", body = ErrorBody, headers(("ETag" = String, description = "The transaction's current version"))),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/transactions/{id}")]
pub async fn update_transaction(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateTransactionRequest>,
    conditions: Conditions,
) -> ApiResult<HttpResponse> {
    update(
        state,
        caller,
        id.into_inner(),
        body.into_inner(),
        (Scope::All, conditions),
    )
    .await
}

/// Delete a transaction (a tombstone tells syncing clients).
#[utoipa::path(
    tag = "transactions",
    operation_id = "delete_transaction",
    summary = "Delete a transaction",
    params(("id" = Uuid, Path, description = "Transaction id"), ("If-Match" = Option<String>, Header, description = "Change only the version read: the `ETag` of the last `GET` (or write); another version is 412 `precondition_failed`")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 400, description = "`invalid_precondition`: an `If-Match` that is no list of entity tags", body = ErrorBody),
        (status = 412, description = "`precondition_failed`: the transaction changed since the `If-Match` version (the `ETag` header has the current one)", body = ErrorBody, headers(("ETag" = String, description = "The transaction's current version"))),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/transactions/{id}")]
pub async fn delete_transaction(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    conditions: Conditions,
) -> ApiResult<HttpResponse> {
    remove(state, caller, id.into_inner(), Scope::All, conditions).await
}

/// The caller's expenses (transactions of type `expense`), newest first, with filters.
#[utoipa::path(
    tag = "expenses",
    operation_id = "list_expenses",
    summary = "List expenses",
    params(TransactionListQuery),
    responses((status = 200, description = "A page of expenses", body = Envelope<Vec<TransactionResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/expenses")]
pub async fn list_expenses(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<TransactionListQuery>,
) -> ApiResult<HttpResponse> {
    list(state, caller, query.into_inner(), Scope::Expenses).await
}

/// Record an expense (`type` may be left out).
#[utoipa::path(
    tag = "expenses",
    operation_id = "create_expense",
    summary = "Create an expense",
    request_body = CreateTransactionRequest,
    responses(
        (status = 201, description = "The new expense", body = Envelope<TransactionResponse>,
            headers(("ETag" = String, description = "The expense's version, for `If-Match`"))),
        (status = 404, description = "A wallet or category is not the caller's", body = ErrorBody),
        (status = 409, description = "`possible_duplicate`: an expense or income that looks like one an import recorded (same wallet, type and amount within 3 days; `errors.duplicate_of` names it); send `allow_duplicate: true` to record it as well", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/expenses")]
pub async fn create_expense(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<CreateTransactionRequest>,
) -> ApiResult<HttpResponse> {
    create(state, caller, body.into_inner(), Scope::Expenses).await
}

/// One expense.
#[utoipa::path(
    tag = "expenses",
    operation_id = "get_expense",
    summary = "Get an expense",
    params(("id" = Uuid, Path, description = "Expense id")),
    responses(
        (status = 200, description = "The expense", body = Envelope<TransactionResponse>,
            headers(("ETag" = String, description = "The expense's version, for `If-Match`"))),
    ),
    security(("bearer_auth" = []))
)]
#[get("/expenses/{id}")]
pub async fn get_expense(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    get(state, caller, id.into_inner(), Scope::Expenses).await
}

/// Change an expense (it stays an expense).
#[utoipa::path(
    tag = "expenses",
    operation_id = "update_expense",
    summary = "Update an expense",
    params(("id" = Uuid, Path, description = "Expense id"), ("If-Match" = Option<String>, Header, description = "Change only the version read: the `ETag` of the last `GET` (or write); another version is 412 `precondition_failed`")),
    request_body = UpdateTransactionRequest,
    responses(
        (status = 200, description = "The updated expense", body = Envelope<TransactionResponse>,
            headers(("ETag" = String, description = "The expense's new version"))),
        (status = 400, description = "`invalid_precondition`: an `If-Match` that is no list of entity tags", body = ErrorBody),
        (status = 412, description = "`precondition_failed`: the expense changed since the `If-Match` version (the `ETag` header has the current one)", body = ErrorBody, headers(("ETag" = String, description = "The expense's current version"))),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/expenses/{id}")]
pub async fn update_expense(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateTransactionRequest>,
    conditions: Conditions,
) -> ApiResult<HttpResponse> {
    update(
        state,
        caller,
        id.into_inner(),
        body.into_inner(),
        (Scope::Expenses, conditions),
    )
    .await
}

/// Delete an expense.
#[utoipa::path(
    tag = "expenses",
    operation_id = "delete_expense",
    summary = "Delete an expense",
    params(("id" = Uuid, Path, description = "Expense id"), ("If-Match" = Option<String>, Header, description = "Change only the version read: the `ETag` of the last `GET` (or write); another version is 412 `precondition_failed`")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 400, description = "`invalid_precondition`: an `If-Match` that is no list of entity tags", body = ErrorBody),
        (status = 412, description = "`precondition_failed`: the expense changed since the `If-Match` version (the `ETag` header has the current one)", body = ErrorBody, headers(("ETag" = String, description = "The expense's current version"))),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/expenses/{id}")]
pub async fn delete_expense(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    conditions: Conditions,
) -> ApiResult<HttpResponse> {
    remove(state, caller, id.into_inner(), Scope::Expenses, conditions).await
}
