//! `/api/v1/transactions` and `/api/v1/expenses`: one implementation, two scopes. `/expenses`
//! is the same resource narrowed to `type = expense` (the seeds' clients use that name).

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{Days, NaiveDate, Utc};
use diesel::PgConnection;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::dto::*;
use crate::auth::AuthUser;
use crate::db::notifications::{self, BudgetsToCheck, NewSpending};
use crate::db::transactions::{self, Filter, NewTransaction, Sort, Split, TransactionChangeset};
use crate::db::{self, categories, users, wallets};
use crate::domain::ledger::{CategoryKind, TransactionType};
use crate::domain::money::Money;
use crate::domain::transaction::{shape_errors, Draft, SplitDraft};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Envelope, Page, ValidatedJson};
use crate::ml::service as ml_service;
use crate::routes::users::dto::Deleted;
use crate::startup::AppState;

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

    fn admits(self, transaction_type: &str) -> bool {
        self == Scope::All || transaction_type == TransactionType::Expense.as_str()
    }
}

fn invalid_query(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_query",
        message: message.into(),
    }
}

/// "Today" where the user lives.
pub(crate) fn today_for(conn: &mut PgConnection, user_id: Uuid) -> Result<NaiveDate, ApiError> {
    Ok(today_in(
        users::find(conn, user_id)?
            .as_ref()
            .map_or("UTC", |u| u.timezone.as_str()),
    ))
}

/// "Today" in an IANA time zone (UTC for one that does not parse).
pub(crate) fn today_in(timezone: &str) -> NaiveDate {
    let zone = timezone.parse::<chrono_tz::Tz>().unwrap_or(chrono_tz::UTC);
    Utc::now().with_timezone(&zone).date_naive()
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

/// The listing filters of a query (shared by the list and the CSV export), and `days` still to
/// be turned into dates in the user's time zone.
pub(super) fn filter_from(
    query: TransactionListQuery,
    scope: Scope,
) -> Result<(Filter, Option<u32>), ApiError> {
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
    };
    Ok((filter, days))
}

/// Resolves `days` and checks that filtered wallets and categories are the caller's.
pub(super) fn prepare_filter(
    conn: &mut PgConnection,
    user_id: Uuid,
    filter: &mut Filter,
    days: Option<u32>,
) -> Result<(), ApiError> {
    if let Some(days) = days {
        let today = today_for(conn, user_id)?;
        filter.from = today.checked_sub_days(Days::new(u64::from(days) - 1));
        filter.to = Some(today);
    }
    if let Some(category) = filter.category_id {
        categories::find(conn, user_id, category)?
            .ok_or_else(|| ApiError::not_found("Category"))?;
    }
    if let Some(wallet) = filter.wallet_id {
        wallets::find(conn, user_id, wallet)?.ok_or_else(|| ApiError::not_found("Wallet"))?;
    }
    Ok(())
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
    caller: AuthUser,
    query: TransactionListQuery,
    scope: Scope,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let sort = sort_from(query.sort.as_deref())?;
    let (mut filter, days) = filter_from(query, scope)?;
    let (rows, total) = db::run(&state.pool, move |conn| {
        prepare_filter(conn, caller.id, &mut filter, days)?;
        let rows = transactions::list(conn, caller.id, &filter, sort, page.limit(), page.offset())?;
        let total = transactions::total(
            conn,
            caller.id,
            &filter,
            rows.len(),
            page.limit(),
            page.offset(),
        )?;
        Ok::<_, ApiError>((rows, total))
    })
    .await?;
    let data: Vec<TransactionResponse> = rows.into_iter().map(TransactionResponse::from).collect();
    Ok(Envelope::new(data).with_meta(page.meta(total)).ok())
}

/// Checks the rows a draft points at: wallets and categories must be the caller's (404
/// otherwise, as for any other user's row), of the right kind, in one currency. Returns the
/// currency.
/// An archived wallet keeps its history but takes no new money: only a row already in it
/// (`kept`: the wallets an edited row uses) may stay there.
pub(crate) fn ensure_open(
    field: &str,
    wallet: &wallets::Wallet,
    kept: &[Uuid],
) -> Result<(), ApiError> {
    if wallet.archived && !kept.contains(&wallet.id) {
        return Err(ApiError::invalid_field(
            field,
            "is an archived wallet: unarchive it to record money in it",
        ));
    }
    Ok(())
}

pub(crate) fn check_references(
    conn: &mut PgConnection,
    user_id: Uuid,
    draft: &Draft,
    currency: Option<&str>,
    kept: &[Uuid],
) -> Result<String, ApiError> {
    let open = |field: &str, wallet: &wallets::Wallet| ensure_open(field, wallet, kept);
    let wallet = wallets::find(conn, user_id, draft.wallet_id)?
        .ok_or_else(|| ApiError::not_found("Wallet"))?;
    open("wallet_id", &wallet)?;
    if let Some(currency) = currency {
        if currency != wallet.currency {
            return Err(ApiError::invalid_field(
                "currency",
                format!("must be the wallet's currency ({})", wallet.currency),
            ));
        }
    }
    if let Some(to_id) = draft.to_wallet_id {
        let to = wallets::find(conn, user_id, to_id)?
            .ok_or_else(|| ApiError::not_found("Destination wallet"))?;
        open("to_wallet_id", &to)?;
        if to.currency != wallet.currency {
            return Err(ApiError::invalid_field(
                "to_wallet_id",
                "must hold the same currency as wallet_id (conversion is not supported yet)",
            ));
        }
    }
    let wanted = draft.transaction_type.category_kind();
    let check_kind = |field: &str, kind: &str| -> Result<(), ApiError> {
        match wanted {
            Some(wanted) if CategoryKind::parse(kind) != Some(wanted) => Err(
                ApiError::invalid_field(field, format!("must be an {} category", wanted.as_str())),
            ),
            _ => Ok(()),
        }
    };
    if let Some(category_id) = draft.category_id {
        let category = categories::find(conn, user_id, category_id)?
            .ok_or_else(|| ApiError::not_found("Category"))?;
        check_kind("category_id", &category.kind)?;
    }
    for (index, split) in draft.splits.iter().enumerate() {
        let category = categories::find(conn, user_id, split.category_id)?
            .ok_or_else(|| ApiError::not_found("Split category"))?;
        check_kind(&format!("splits[{index}].category_id"), &category.kind)?;
    }
    Ok(wallet.currency)
}

/// What follows new spending, in the same database transaction: alerts of the budgets it moves.
pub(super) fn after_write(
    conn: &mut PgConnection,
    user_id: Uuid,
    spending: &NewSpending,
) -> Result<(), ApiError> {
    if spending.categories.is_empty() {
        return Ok(());
    }
    let today = today_for(conn, user_id)?;
    notifications::check_budgets(conn, user_id, today, BudgetsToCheck::MovedBy(spending))?;
    Ok(())
}

/// The expense lines a transaction as stored adds (none for income and transfers).
fn spending_of(draft: &Draft, date: NaiveDate) -> NewSpending {
    let mut spending = NewSpending::default();
    if draft.transaction_type == TransactionType::Expense {
        spending.add(
            date,
            draft
                .category_id
                .into_iter()
                .chain(draft.splits.iter().map(|s| s.category_id)),
        );
    }
    spending
}

fn split_drafts(splits: Option<Vec<SplitRequest>>) -> Vec<SplitDraft> {
    splits
        .unwrap_or_default()
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

fn split_rows(splits: &[SplitDraft]) -> Vec<Split> {
    splits
        .iter()
        .map(|s| Split {
            category_id: s.category_id,
            amount: s.amount,
            note: s.note.clone(),
        })
        .collect()
}

pub(crate) fn clean_tags(tags: Vec<String>) -> Vec<Option<String>> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_owned();
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out.into_iter().map(Some).collect()
}

pub(crate) fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

pub(crate) fn ensure_shape(draft: &Draft) -> Result<(), ApiError> {
    let errors = shape_errors(draft);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

async fn create(
    state: web::Data<AppState>,
    caller: AuthUser,
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
    let mut draft = Draft {
        transaction_type,
        amount: body.amount.0,
        category_id: body.category_id,
        wallet_id: body.wallet_id,
        to_wallet_id: body.to_wallet_id,
        splits: split_drafts(body.splits),
    };
    let description = body.description.unwrap_or_default().trim().to_owned();
    let merchant = non_empty(body.merchant);
    let auto = body.auto_categorize.unwrap_or(false)
        && draft.category_id.is_none()
        && draft.splits.is_empty();
    let wanted_kind = transaction_type.category_kind().filter(|_| auto);
    if wanted_kind.is_none() {
        ensure_shape(&draft)?;
    }
    let view = db::run(&state.pool, move |conn| {
        db::user_transaction::<_, ApiError, _>(conn, caller.id, |conn| {
            let mut applied = None;
            if let Some(kind) = wanted_kind {
                match ml_service::auto_categorize(
                    conn,
                    caller.id,
                    &description,
                    merchant.as_deref(),
                    draft.amount,
                    kind.as_str(),
                )? {
                    Ok(chosen) => {
                        draft.category_id = Some(chosen.category_id);
                        applied = Some(chosen);
                    }
                    Err(suggestions) => {
                        let best = suggestions.first().map_or(String::new(), |s| {
                            format!(" (best: {} at {:.0} %)", s.name, s.probability * 100.0)
                        });
                        return Err(ApiError::invalid_field(
                            "category_id",
                            format!("is required: no suggestion is confident enough{best}"),
                        ));
                    }
                }
                ensure_shape(&draft)?;
            }
            let currency =
                check_references(conn, caller.id, &draft, body.currency.as_deref(), &[])?;
            let date = match body.date {
                Some(date) => date,
                None => today_for(conn, caller.id)?,
            };
            // Judged before the insert, which takes the user's write lock until commit.
            let unusual = if draft.transaction_type == TransactionType::Expense {
                let category = match draft.category_id {
                    Some(category_id) => categories::find(conn, caller.id, category_id)?
                        .map(|c| (category_id, c.name)),
                    None => None,
                };
                ml_service::assess_unusual(
                    conn,
                    caller.id,
                    &currency,
                    date,
                    draft.amount,
                    category.as_ref().map(|(id, name)| (*id, name.as_str())),
                    merchant.as_deref(),
                )?
            } else {
                None
            };
            let id = transactions::insert(
                conn,
                &NewTransaction {
                    user_id: caller.id,
                    transaction_type: draft.transaction_type.as_str().to_owned(),
                    amount: draft.amount,
                    currency: currency.clone(),
                    date,
                    description: description.clone(),
                    merchant: merchant.clone(),
                    notes: non_empty(body.notes),
                    category_id: draft.category_id,
                    wallet_id: draft.wallet_id,
                    to_wallet_id: draft.to_wallet_id,
                    tags: clean_tags(body.tags.unwrap_or_default()),
                    import_hash: None,
                    category_source: if applied.is_some() { "ml" } else { "user" }.to_owned(),
                    category_confidence: applied
                        .as_ref()
                        .and_then(|a| Decimal::from_f64(a.probability)),
                },
                &split_rows(&draft.splits),
            )?;
            // The suggestion log learns what became of its suggestion. A suggestion the client
            // names must be one made for the caller (the whole write rolls back otherwise).
            if let Some(named) = body.suggestion_id {
                let found = db::ml::resolve_suggestion(
                    conn,
                    caller.id,
                    Some(named),
                    id,
                    draft.category_id,
                )?;
                if found == 0 {
                    return Err(ApiError::not_found("Suggestion"));
                }
            }
            if let Some(applied) = &applied {
                db::ml::resolve_suggestion(
                    conn,
                    caller.id,
                    Some(applied.suggestion_id),
                    id,
                    draft.category_id,
                )?;
            }
            if let Some(finding) = &unusual {
                ml_service::record_unusual(
                    conn,
                    caller.id,
                    id,
                    &currency,
                    date,
                    draft.amount,
                    finding,
                )?;
            }
            after_write(conn, caller.id, &spending_of(&draft, date))?;
            transactions::find_view(conn, caller.id, id)?
                .ok_or_else(|| ApiError::internal("a new transaction vanished"))
        })
    })
    .await?;
    let location = format!("{}/{}", scope.base(), view.id);
    Ok(Envelope::new(TransactionResponse::from(view)).created(&location))
}

async fn get(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: Uuid,
    scope: Scope,
) -> ApiResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        transactions::find_view(conn, caller.id, id)
    })
    .await?
    .filter(|view| scope.admits(&view.transaction_type))
    .ok_or_else(|| ApiError::not_found(scope.noun()))?;
    Ok(Envelope::new(TransactionResponse::from(view)).ok())
}

async fn update(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: Uuid,
    body: UpdateTransactionRequest,
    scope: Scope,
) -> ApiResult<HttpResponse> {
    let view = db::run(&state.pool, move |conn| {
        db::user_transaction::<_, ApiError, _>(conn, caller.id, |conn| {
            let (current, current_splits) = transactions::find(conn, caller.id, id)?
                .filter(|(row, _)| scope.admits(&row.transaction_type))
                .ok_or_else(|| ApiError::not_found(scope.noun()))?;
            let current_type = TransactionType::parse(&current.transaction_type)
                .unwrap_or(TransactionType::Expense);
            let transaction_type = body.transaction_type.unwrap_or(current_type);
            if scope == Scope::Expenses && transaction_type != TransactionType::Expense {
                return Err(ApiError::invalid_field(
                    "type",
                    "must stay expense here (use /transactions)",
                ));
            }
            // A field the new state cannot have goes unless the request sets it: a category
            // replaces splits (and splits a category), a transfer drops the category and
            // splits, a non-transfer drops the receiving wallet.
            // Setting the category (or splits) makes it the user's, never to be overwritten.
            let user_categorized = body.category_id.is_some() || body.splits.is_some();
            let splits = match (body.splits, &body.category_id) {
                (Some(splits), _) => split_drafts(Some(splits)),
                (None, Some(Some(_))) => Vec::new(),
                (None, _) if transaction_type == TransactionType::Transfer => Vec::new(),
                (None, _) => current_splits
                    .into_iter()
                    .map(|s| SplitDraft {
                        category_id: s.category_id,
                        amount: s.amount,
                        note: s.note,
                    })
                    .collect(),
            };
            let category_id = match body.category_id {
                Some(category) => category,
                None if !splits.is_empty() => None,
                None if transaction_type == TransactionType::Transfer => None,
                None => current.category_id,
            };
            let to_wallet_id = match body.to_wallet_id {
                Some(to) => to,
                None if transaction_type != TransactionType::Transfer => None,
                None => current.to_wallet_id,
            };
            let draft = Draft {
                transaction_type,
                amount: body.amount.map_or(current.amount, |m| m.0),
                category_id,
                wallet_id: body.wallet_id.unwrap_or(current.wallet_id),
                to_wallet_id,
                splits,
            };
            ensure_shape(&draft)?;
            let kept: Vec<Uuid> = [Some(current.wallet_id), current.to_wallet_id]
                .into_iter()
                .flatten()
                .collect();
            let currency =
                check_references(conn, caller.id, &draft, body.currency.as_deref(), &kept)?;
            let date = body.date.unwrap_or(current.date);
            transactions::update(
                conn,
                caller.id,
                id,
                &TransactionChangeset {
                    transaction_type: draft.transaction_type.as_str().to_owned(),
                    amount: draft.amount,
                    currency,
                    date,
                    description: body
                        .description
                        .map_or(current.description, |d| d.trim().to_owned()),
                    merchant: body.merchant.map_or(current.merchant, non_empty),
                    notes: body.notes.map_or(current.notes, non_empty),
                    category_id: draft.category_id,
                    wallet_id: draft.wallet_id,
                    to_wallet_id: draft.to_wallet_id,
                    tags: body.tags.map_or(current.tags, clean_tags),
                    category_source: if user_categorized {
                        "user".to_owned()
                    } else {
                        current.category_source
                    },
                    category_confidence: if user_categorized {
                        None
                    } else {
                        current.category_confidence
                    },
                },
                &split_rows(&draft.splits),
            )?;
            if user_categorized {
                // The user's final choice for a suggested category is what the log keeps.
                db::ml::resolve_suggestion(conn, caller.id, None, id, draft.category_id)?;
            }
            after_write(conn, caller.id, &spending_of(&draft, date))?;
            transactions::find_view(conn, caller.id, id)?
                .ok_or_else(|| ApiError::not_found(scope.noun()))
        })
    })
    .await?;
    Ok(Envelope::new(TransactionResponse::from(view)).ok())
}

async fn remove(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: Uuid,
    scope: Scope,
) -> ApiResult<HttpResponse> {
    db::run(&state.pool, move |conn| {
        db::user_transaction::<_, ApiError, _>(conn, caller.id, |conn| {
            transactions::find(conn, caller.id, id)?
                .filter(|(row, _)| scope.admits(&row.transaction_type))
                .ok_or_else(|| ApiError::not_found(scope.noun()))?;
            // Less spending crosses no budget threshold: no check.
            transactions::delete(conn, caller.id, id)?;
            Ok(())
        })
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
    caller: AuthUser,
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
        (status = 201, description = "The new transaction", body = Envelope<TransactionResponse>),
        (status = 404, description = "A wallet or category is not the caller's", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/transactions")]
pub async fn create_transaction(
    state: web::Data<AppState>,
    caller: AuthUser,
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
    responses((status = 200, description = "The transaction", body = Envelope<TransactionResponse>)),
    security(("bearer_auth" = []))
)]
#[get("/transactions/{id}")]
pub async fn get_transaction(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    get(state, caller, id.into_inner(), Scope::All).await
}

/// Change a transaction; the result is checked by the same rules as a new one.
#[utoipa::path(
    tag = "transactions",
    operation_id = "update_transaction",
    summary = "Update a transaction",
    params(("id" = Uuid, Path, description = "Transaction id")),
    request_body = UpdateTransactionRequest,
    responses((status = 200, description = "The updated transaction", body = Envelope<TransactionResponse>)),
    security(("bearer_auth" = []))
)]
#[patch("/transactions/{id}")]
pub async fn update_transaction(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateTransactionRequest>,
) -> ApiResult<HttpResponse> {
    update(
        state,
        caller,
        id.into_inner(),
        body.into_inner(),
        Scope::All,
    )
    .await
}

/// Delete a transaction (a tombstone tells syncing clients).
#[utoipa::path(
    tag = "transactions",
    operation_id = "delete_transaction",
    summary = "Delete a transaction",
    params(("id" = Uuid, Path, description = "Transaction id")),
    responses((status = 200, description = "Deleted", body = Envelope<Deleted>)),
    security(("bearer_auth" = []))
)]
#[delete("/transactions/{id}")]
pub async fn delete_transaction(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    remove(state, caller, id.into_inner(), Scope::All).await
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
    caller: AuthUser,
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
        (status = 201, description = "The new expense", body = Envelope<TransactionResponse>),
        (status = 404, description = "A wallet or category is not the caller's", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/expenses")]
pub async fn create_expense(
    state: web::Data<AppState>,
    caller: AuthUser,
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
    responses((status = 200, description = "The expense", body = Envelope<TransactionResponse>)),
    security(("bearer_auth" = []))
)]
#[get("/expenses/{id}")]
pub async fn get_expense(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    get(state, caller, id.into_inner(), Scope::Expenses).await
}

/// Change an expense (it stays an expense).
#[utoipa::path(
    tag = "expenses",
    operation_id = "update_expense",
    summary = "Update an expense",
    params(("id" = Uuid, Path, description = "Expense id")),
    request_body = UpdateTransactionRequest,
    responses((status = 200, description = "The updated expense", body = Envelope<TransactionResponse>)),
    security(("bearer_auth" = []))
)]
#[patch("/expenses/{id}")]
pub async fn update_expense(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateTransactionRequest>,
) -> ApiResult<HttpResponse> {
    update(
        state,
        caller,
        id.into_inner(),
        body.into_inner(),
        Scope::Expenses,
    )
    .await
}

/// Delete an expense.
#[utoipa::path(
    tag = "expenses",
    operation_id = "delete_expense",
    summary = "Delete an expense",
    params(("id" = Uuid, Path, description = "Expense id")),
    responses((status = 200, description = "Deleted", body = Envelope<Deleted>)),
    security(("bearer_auth" = []))
)]
#[delete("/expenses/{id}")]
pub async fn delete_expense(
    state: web::Data<AppState>,
    caller: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    remove(state, caller, id.into_inner(), Scope::Expenses).await
}
