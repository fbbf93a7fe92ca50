//! `/api/v1/wallets`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::db::wallets::{self, NewWallet, WalletChangeset};
use crate::dto::Deleted;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Envelope, Page, ValidatedJson};
use crate::state::AppState;

fn wallet_in_use(message: &str) -> ApiError {
    ApiError::Conflict {
        code: "wallet_in_use",
        message: message.into(),
    }
}

/// The caller's wallets with their balances, oldest first.
#[utoipa::path(
    tag = "wallets",
    operation_id = "list_wallets",
    summary = "List wallets",
    params(WalletListQuery),
    responses((status = 200, description = "A page of wallets", body = Envelope<Vec<WalletResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/wallets")]
pub async fn list_wallets(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<WalletListQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let archived = query.archived;
    let (rows, total) = db::run(&state.pool, move |conn| {
        let rows = wallets::list(
            conn,
            caller.ledger.id,
            archived,
            page.limit(),
            page.offset(),
        )?;
        let total = match rows.first() {
            Some(row) => row.total_count,
            None => wallets::count(conn, caller.ledger.id, archived)?,
        };
        Ok::<_, ApiError>((rows, total))
    })
    .await?;
    let data: Vec<WalletResponse> = rows.into_iter().map(WalletResponse::from).collect();
    Ok(Envelope::new(data).with_meta(page.meta(total)).ok())
}

/// Create a wallet.
#[utoipa::path(
    tag = "wallets",
    operation_id = "create_wallet",
    summary = "Create a wallet",
    request_body = CreateWalletRequest,
    responses((status = 201, description = "The new wallet", body = Envelope<WalletResponse>)),
    security(("bearer_auth" = []))
)]
#[post("/wallets")]
pub async fn create_wallet(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<CreateWalletRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let wallet = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            let currency = body.currency.unwrap_or_else(|| caller.currency.to_string());
            let created = wallets::insert(
                conn,
                &NewWallet {
                    ledger_id: caller.ledger.id,
                    name: body.name.trim(),
                    wallet_type: body.wallet_type.as_str(),
                    currency: &currency,
                    opening_balance: body.opening_balance.unwrap_or_default().0,
                    archived: body.archived.unwrap_or(false),
                },
            )?;
            wallets::find_with_balance(conn, caller.ledger.id, created.id)?
                .ok_or_else(|| ApiError::internal("a new wallet vanished"))
        })
    })
    .await?;
    let location = format!("/api/v1/wallets/{}", wallet.id);
    Ok(Envelope::new(WalletResponse::from(wallet)).created(&location))
}

/// One wallet with its balance.
#[utoipa::path(
    tag = "wallets",
    operation_id = "get_wallet",
    summary = "Get a wallet",
    params(("id" = Uuid, Path, description = "Wallet id")),
    responses((status = 200, description = "The wallet", body = Envelope<WalletResponse>)),
    security(("bearer_auth" = []))
)]
#[get("/wallets/{id}")]
pub async fn get_wallet(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let wallet = db::run(&state.pool, move |conn| {
        wallets::find_with_balance(conn, caller.ledger.id, id)
    })
    .await?
    .ok_or_else(|| ApiError::not_found("Wallet"))?;
    Ok(Envelope::new(WalletResponse::from(wallet)).ok())
}

/// Rename, retype, archive, or change the opening balance. The currency changes only while the
/// wallet has no transactions.
#[utoipa::path(
    tag = "wallets",
    operation_id = "update_wallet",
    summary = "Update a wallet",
    params(("id" = Uuid, Path, description = "Wallet id")),
    request_body = UpdateWalletRequest,
    responses(
        (status = 200, description = "The updated wallet", body = Envelope<WalletResponse>),
        (status = 409, description = "`wallet_in_use`: currency change on a wallet that transactions, bills, recurring transactions, rules or savings goals use", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/wallets/{id}")]
pub async fn update_wallet(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateWalletRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let wallet = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            let current = wallets::find(conn, caller.ledger.id, id)?.ok_or_else(|| ApiError::not_found("Wallet"))?;
            let currency = body.currency.filter(|c| *c != current.currency);
            if let Some(by) = currency
                .as_ref()
                .map(|_| wallets::in_use(conn, caller.ledger.id, id))
                .transpose()?
                .flatten()
            {
                return Err(wallet_in_use(&format!(
                    "The currency of a wallet that {by} use cannot change; create a new wallet instead."
                )));
            }
            let changes = WalletChangeset {
                name: body.name.map(|n| n.trim().to_owned()),
                wallet_type: body.wallet_type.map(|t| t.as_str().to_owned()),
                currency,
                opening_balance: body.opening_balance.map(|m| m.0),
                archived: body.archived,
            };
            if changes.name.is_some()
                || changes.wallet_type.is_some()
                || changes.currency.is_some()
                || changes.opening_balance.is_some()
                || changes.archived.is_some()
            {
                wallets::update(conn, caller.ledger.id, id, &changes)?;
            }
            wallets::find_with_balance(conn, caller.ledger.id, id)?.ok_or_else(|| ApiError::not_found("Wallet"))
        })
    })
    .await?;
    Ok(Envelope::new(WalletResponse::from(wallet)).ok())
}

/// Delete a wallet that nothing uses: no transactions, bills, recurring transactions, rules or
/// savings goals (archive it otherwise).
#[utoipa::path(
    tag = "wallets",
    operation_id = "delete_wallet",
    summary = "Delete a wallet",
    params(("id" = Uuid, Path, description = "Wallet id")),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 409, description = "`wallet_in_use`: transactions, bills, recurring transactions, rules or savings goals use it (the message says which); archive it instead", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/wallets/{id}")]
pub async fn delete_wallet(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            wallets::find(conn, caller.ledger.id, id)?.ok_or_else(|| ApiError::not_found("Wallet"))?;
            if let Some(by) = wallets::in_use(conn, caller.ledger.id, id)? {
                return Err(wallet_in_use(&format!(
                    "This wallet cannot be deleted: {by} use it. Archive it instead (PATCH archived: true), \
                     or change or delete them first."
                )));
            }
            wallets::delete(conn, caller.ledger.id, id)?;
            Ok(())
        })
    })
    .await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}
