//! `/api/v1/bills`: bills, paying them, upcoming ones and payment history.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{Datelike, Days};

use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::db::bills::{self, BillFields};
use crate::domain::period::{next_occurrence, Frequency};
use crate::dto::transactions::TransactionResponse;
use crate::dto::Deleted;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Envelope, Page, PageQuery, ValidatedJson};
use crate::services::bills::{check, not_long_ago, PayOptions};
use crate::services::{self, ledger};
use crate::state::AppState;

fn not_found() -> ApiError {
    ApiError::not_found("Bill")
}

/// The caller's bills, soonest due first.
#[utoipa::path(
    tag = "bills",
    operation_id = "list_bills",
    summary = "List bills",
    params(PageQuery),
    responses((status = 200, description = "A page of bills", body = Envelope<Vec<BillResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/bills")]
pub async fn list_bills(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = Page::new(query.page, query.per_page)?;
    let (data, total) = db::run(&state.pool, move |conn| {
        let (rows, total) = bills::list(conn, caller.ledger.id, page.limit(), page.offset())?;
        let today = caller.today();
        Ok::<_, ApiError>((
            rows.into_iter()
                .map(|b| BillResponse::new(b, today))
                .collect::<Vec<_>>(),
            total,
        ))
    })
    .await?;
    Ok(Envelope::new(data).with_meta(page.meta(total)).ok())
}

/// Create a bill.
#[utoipa::path(
    tag = "bills",
    operation_id = "create_bill",
    summary = "Create a bill",
    request_body = CreateBillRequest,
    responses(
        (status = 201, description = "The new bill", body = Envelope<BillResponse>),
        (status = 404, description = "The category or wallet is not the caller's", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/bills")]
pub async fn create_bill(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<CreateBillRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let bill = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            let currency = check(
                conn,
                caller.ledger.id,
                body.category_id,
                body.wallet_id,
                body.currency.as_deref(),
                &[],
            )?;
            not_long_ago(caller.today(), body.next_due_date, "next_due_date")?;
            let bill = bills::insert(
                conn,
                caller.ledger.id,
                &BillFields {
                    name: body.name.trim().to_owned(),
                    amount: body.amount.0,
                    currency,
                    category_id: body.category_id,
                    wallet_id: body.wallet_id,
                    frequency: Frequency::from(body.frequency).as_str().to_owned(),
                    next_due_date: body.next_due_date,
                    due_day: body.next_due_date.day() as i16,
                    reminder_days_before: body.reminder_days_before.unwrap_or(3),
                    notes: body
                        .notes
                        .map(|n| n.trim().to_owned())
                        .filter(|n| !n.is_empty()),
                    autopay: body.autopay.unwrap_or(false),
                },
            )?;
            Ok::<_, ApiError>(BillResponse::new(bill, caller.today()))
        })
    })
    .await?;
    let location = format!("/api/v1/bills/{}", bill.id);
    Ok(Envelope::new(bill).created(&location))
}

/// Open bills due within `days` (30 by default), overdue ones first.
#[utoipa::path(
    tag = "bills",
    operation_id = "upcoming_bills",
    summary = "Upcoming (and overdue) bills",
    params(UpcomingQuery),
    responses((status = 200, description = "Bills, soonest due first", body = Envelope<Vec<BillResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/bills/upcoming")]
pub async fn upcoming_bills(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<UpcomingQuery>,
) -> ApiResult<HttpResponse> {
    let days = query.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::BadRequest {
            code: "invalid_query",
            message: "`days` must be between 1 and 366.".into(),
        });
    }
    let data = db::run(&state.pool, move |conn| {
        let today = caller.today();
        let until = today
            .checked_add_days(Days::new(u64::from(days)))
            .unwrap_or(today);
        let rows = bills::upcoming(conn, caller.ledger.id, until)?;
        Ok::<_, ApiError>(
            rows.into_iter()
                .map(|b| BillResponse::new(b, today))
                .collect::<Vec<_>>(),
        )
    })
    .await?;
    Ok(Envelope::new(data).ok())
}

/// One bill.
#[utoipa::path(
    tag = "bills",
    operation_id = "get_bill",
    summary = "Get a bill",
    params(("id" = Uuid, Path, description = "Bill id")),
    responses((status = 200, description = "The bill", body = Envelope<BillResponse>)),
    security(("bearer_auth" = []))
)]
#[get("/bills/{id}")]
pub async fn get_bill(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let bill = db::run(&state.pool, move |conn| {
        let bill = bills::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
        Ok::<_, ApiError>(BillResponse::new(bill, caller.today()))
    })
    .await?;
    Ok(Envelope::new(bill).ok())
}

/// Change a bill. A new `next_due_date` also sets the day of month it recurs on.
#[utoipa::path(
    tag = "bills",
    operation_id = "update_bill",
    summary = "Update a bill",
    params(("id" = Uuid, Path, description = "Bill id")),
    request_body = UpdateBillRequest,
    responses((status = 200, description = "The updated bill", body = Envelope<BillResponse>)),
    security(("bearer_auth" = []))
)]
#[patch("/bills/{id}")]
pub async fn update_bill(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateBillRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let bill = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            let current =
                bills::find_for_update(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
            let category_id = body.category_id.unwrap_or(current.category_id);
            let wallet_id = body.wallet_id.unwrap_or(current.wallet_id);
            // Moved to another wallet, the bill keeps its currency: a wallet in another one is
            // refused (conversion is not supported), never 5 USD silently made 5 EUR.
            let kept_currency =
                (wallet_id != current.wallet_id).then_some(current.currency.as_str());
            let currency = check(
                conn,
                caller.ledger.id,
                category_id,
                wallet_id,
                kept_currency,
                &[current.wallet_id],
            )?;
            let frequency = body.frequency.map_or(current.frequency(), Frequency::from);
            let frequency_changes = frequency != current.frequency();
            let mut next_due_date = body.next_due_date.unwrap_or(current.next_due_date);
            let due_changes = next_due_date != current.next_due_date;
            if due_changes {
                not_long_ago(caller.today(), next_due_date, "next_due_date")?;
                if bills::payments(conn, caller.ledger.id, id)?
                    .iter()
                    .any(|p| p.due_date == next_due_date)
                {
                    return Err(ApiError::invalid_field(
                        "next_due_date",
                        "this due date is already paid",
                    ));
                }
            }
            // A paid one-off bill made recurring is open again, from the occurrence after the
            // paid one (unless the client names another date); one moved to a date not paid
            // (checked above) is open on that date.
            let reopens =
                current.paid_at.is_some() && (frequency != Frequency::Once || due_changes);
            if reopens && !due_changes {
                next_due_date = next_occurrence(
                    frequency,
                    current.next_due_date,
                    current.next_due_date.day(),
                )
                .ok_or_else(|| {
                    ApiError::invalid_field("frequency", "no date follows the paid one")
                })?;
            }
            let bill = bills::update(
                conn,
                caller.ledger.id,
                id,
                &BillFields {
                    name: body.name.map_or(current.name, |n| n.trim().to_owned()),
                    amount: body.amount.map_or(current.amount, |a| a.0),
                    currency,
                    category_id,
                    wallet_id,
                    frequency: frequency.as_str().to_owned(),
                    next_due_date,
                    // A new due date re-anchors the day of month the bill recurs on; a new
                    // rhythm keeps the day of the date it starts from.
                    due_day: if due_changes {
                        next_due_date.day() as i16
                    } else if frequency_changes {
                        current.next_due_date.day() as i16
                    } else {
                        current.due_day
                    },
                    reminder_days_before: body
                        .reminder_days_before
                        .unwrap_or(current.reminder_days_before),
                    notes: body.notes.unwrap_or(current.notes),
                    autopay: body.autopay.unwrap_or(current.autopay),
                },
            )?;
            let bill = if reopens {
                bills::reopen(conn, caller.ledger.id, id)?
            } else {
                bill
            };
            Ok::<_, ApiError>(BillResponse::new(bill, caller.today()))
        })
    })
    .await?;
    Ok(Envelope::new(bill).ok())
}

/// Delete a bill and its payment history (the expenses it created stay).
#[utoipa::path(
    tag = "bills",
    operation_id = "delete_bill",
    summary = "Delete a bill",
    params(("id" = Uuid, Path, description = "Bill id")),
    responses((status = 200, description = "Deleted", body = Envelope<Deleted>)),
    security(("bearer_auth" = []))
)]
#[delete("/bills/{id}")]
pub async fn delete_bill(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    // The row and its tombstone together.
    let deleted = db::run(&state.pool, move |conn| {
        db::ledger_transaction(conn, caller.ledger.id, |conn| {
            bills::delete(conn, caller.ledger.id, id)
        })
    })
    .await?;
    if deleted == 0 {
        return Err(not_found());
    }
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

/// Stop a bill: it is no longer due or reminded.
#[utoipa::path(
    tag = "bills",
    operation_id = "cancel_bill",
    summary = "Cancel a bill",
    params(("id" = Uuid, Path, description = "Bill id")),
    responses((status = 200, description = "The cancelled bill", body = Envelope<BillResponse>)),
    security(("bearer_auth" = []))
)]
#[post("/bills/{id}/cancel")]
pub async fn cancel_bill(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    // Under the ledger's lock, taken before the bill's row: a cancel racing an edit or a
    // payment of the same bill queues behind it instead of deadlocking with it.
    let bill = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            bills::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
            let bill = bills::cancel(conn, caller.ledger.id, id)?;
            Ok(BillResponse::new(bill, caller.today()))
        })
    })
    .await?;
    Ok(Envelope::new(bill).ok())
}

/// Pay the bill's current due date, in one database transaction: the payment is recorded, an
/// expense is created in the bill's category and wallet, and a recurring bill moves to its
/// next due date. Paying the same due date twice is 409.
#[utoipa::path(
    tag = "bills",
    operation_id = "pay_bill",
    summary = "Pay a bill",
    params(("id" = Uuid, Path, description = "Bill id")),
    request_body = PayBillRequest,
    responses(
        (status = 200, description = "The bill and the expense recorded for it", body = Envelope<PayBillResponse>),
        (status = 409, description = "`bill_already_paid` or `bill_cancelled`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/bills/{id}/pay")]
pub async fn pay_bill(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<PayBillRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let options = PayOptions {
        due_date: body.due_date,
        paid_on: body.paid_on.unwrap_or(caller.today()),
        amount: body.amount.map(|a| a.0),
        wallet_id: body.wallet_id,
        paid_by: Some(caller.id),
    };
    let (bill, transaction) = db::run(&state.pool, move |conn| {
        let (bill, transaction_id, spending) =
            db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
                let bill =
                    bills::find_for_update(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
                services::bills::pay(conn, &bill, &options)
            })?;
        ledger::after_commit(conn, &caller, &spending)?;
        let transaction = services::transactions::get(conn, &caller, transaction_id)?
            .ok_or_else(|| ApiError::internal("the bill's expense vanished"))?;
        Ok::<_, ApiError>((bill, transaction))
    })
    .await?;
    let response = PayBillResponse {
        bill: BillResponse::new(bill, caller.today()),
        transaction: TransactionResponse::from(transaction),
    };
    Ok(Envelope::new(response).ok())
}

/// Payments of a bill, newest due date first.
#[utoipa::path(
    tag = "bills",
    operation_id = "bill_payments",
    summary = "Payment history of a bill",
    params(("id" = Uuid, Path, description = "Bill id"), PageQuery),
    responses((status = 200, description = "A page of payments", body = Envelope<Vec<PaymentResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/bills/{id}/payments")]
pub async fn bill_payments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let id = id.into_inner();
    let rows = db::run(&state.pool, move |conn| {
        bills::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
        bills::payments(conn, caller.ledger.id, id).map_err(ApiError::from)
    })
    .await?;
    let (rows, meta) = page.cut(rows);
    let data: Vec<PaymentResponse> = rows.into_iter().map(PaymentResponse::from).collect();
    Ok(Envelope::new(data).with_meta(meta).ok())
}
