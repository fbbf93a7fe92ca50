//! `GET /transactions/export` and `POST /transactions/import`: transactions as CSV, in one
//! format both ways, so an export imports back to the same rows (transfers and splits too).
//! The work is in `services::csv`.

use actix_web::{get, post, web, HttpResponse};

use super::dto::*;
use super::handlers::{filter_from, sort_from, Scope};
use crate::auth::Caller;
use crate::db;
use crate::domain::csv_import as domain_csv;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Envelope, FileBody};
use crate::services;
use crate::state::AppState;

/// The same filters as the list, as a CSV file (header row included) that
/// `POST /transactions/import` reads back to the same rows, transfers and splits included.
///
/// Columns: `date, type, amount, currency, description, category, splits, merchant, notes,
/// wallet, to_wallet, tags`. A split transaction has an empty category and `splits` such as
/// `Groceries=30.00; Household=20.00=for the party` (`category=amount`, then `=note` when the
/// share has one). Inside a tag or a share, `\\`, `\;` and `\=` stand for those characters. A
/// text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (which a
/// spreadsheet would run as a formula) gets a `'` before it. A category whose name is shared is
/// written as its path (`Food & Dining > Groceries`), a wallet whose name is shared as its id.
/// The file is one consistent snapshot, however many rows it has.
///
/// With `format=xlsx`, the same columns as an Excel workbook: the date a date cell (in the
/// locale's date format), the amount a number in its currency's format, text as text (no
/// formula guard needed), a frozen header; one sheet, or one per wallet with `sheets=wallet`.
/// `POST /imports` reads it back.
#[utoipa::path(
    tag = "transactions",
    operation_id = "export_transactions",
    summary = "Export transactions as CSV or xlsx",
    params(ExportQuery),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/csv"),
            (FileBody = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "`invalid_query`: a bad filter or sort", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `locale` is not a language tag", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[get("/transactions/export")]
pub async fn export_transactions(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let format = query.format.unwrap_or_default();
    let per_wallet = query.sheets == Some(ExportSheets::Wallet);
    let locale = query.locale.clone();
    let query = TransactionListQuery::from(query);
    let sort = sort_from(query.sort.as_deref())?;
    let filter = filter_from(query, Scope::All)?;
    let file = db::run(&state.pool, move |conn| {
        let mut sink: Box<dyn services::csv::ExportSink> = match format {
            ExportFormat::Csv => Box::new(services::csv::CsvSink::new()),
            ExportFormat::Xlsx => Box::new(services::exports::XlsxSink::new(
                per_wallet,
                caller.currency.as_str(),
                services::exports::locale_of(conn, &caller, locale.as_deref())?,
            )),
        };
        services::csv::export(conn, &caller, filter, sort, sink.as_mut())
    })
    .await?;
    let (content_type, name) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "transactions.csv"),
        ExportFormat::Xlsx => (crate::export::xlsx::CONTENT_TYPE, "transactions.xlsx"),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(file))
}

/// Import a CSV file (`text/csv`, up to 10 MiB).
///
/// Columns by name, any order and case: `date` (YYYY-MM-DD or MM/DD/YYYY), `amount` (signed:
/// negative is an expense unless a `type` column says expense/income/transfer or debit/credit),
/// `description`, and optionally `type`, `category` (your category's name, or its path
/// `Parent > Child` where the name is shared), `splits` (`Groceries=30; Household=20=party`:
/// `category=amount` or `category=amount=note`, adding up to the amount), `merchant`, `notes`,
/// `tags` (separated by `;`), `wallet` (a wallet's name or id; else `wallet_id`), `to_wallet`
/// (a transfer's receiving wallet), `currency` (must be the wallet's). Inside a tag or a share,
/// `\\`, `\;` and `\=` stand for those characters; one `'` before a text cell starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return is taken off. The export's format. The JSON
/// API's length limits apply (description, merchant, notes, tags, split notes), and an archived
/// wallet takes no lines. Importing the same file twice creates nothing the second time;
/// identical purchases within one file are all kept. Lines without a category get a confident
/// suggestion (listed when the line is created). Bad lines are reported and never stop the good
/// ones, which are stored together. Imported history is not scored for unusual spending.
#[utoipa::path(
    tag = "transactions",
    operation_id = "import_transactions",
    summary = "Import transactions from CSV",
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv",
        example = "date,amount,description,category\n2026-03-01,-12.50,Coffee beans,Cafe\n"),
    responses(
        (status = 200, description = "What was created, skipped as duplicate, or refused per line", body = Envelope<ImportReport>),
        (status = 404, description = "`not_found`: no such wallet", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/transactions/import")]
pub async fn import_transactions(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !["text/csv", "application/csv", "text/plain"]
        .iter()
        .any(|t| content_type.starts_with(t))
    {
        return Err(ApiError::UnsupportedMediaType("text/csv".into()));
    }
    let body =
        crate::http::extract::read_body(payload.into_inner(), crate::http::idempotency::MAX_BODY)
            .await?;
    let (rows, failures) =
        domain_csv::parse(&body).map_err(|m| ApiError::invalid_field("file", m))?;
    let default_wallet = query.wallet_id;
    let outcome = db::run(&state.pool, move |conn| {
        services::csv::import(
            conn,
            &caller,
            default_wallet,
            rows,
            failures,
            None,
            &mut |_| {},
        )
    })
    .await?;
    Ok(Envelope::new(ImportReport::from(outcome)).ok())
}
