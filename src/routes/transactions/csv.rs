//! `GET /transactions/export` and `POST /transactions/import`: transactions as CSV, in one
//! format both ways, so an export imports back to the same rows (transfers and splits too).
//! Wallets and categories go by name: a category whose name is not unique by its full path
//! (`Food & Dining > Groceries`), a wallet whose name is not unique by its id.

use std::collections::HashMap;

use actix_web::{get, post, web, HttpResponse};
use diesel::PgConnection;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::dto::*;
use super::handlers::{after_write, clean_tags, filter_from, prepare_filter, sort_from, Scope};
use crate::auth::AuthUser;
use crate::db::categories::Category;
use crate::db::notifications::NewSpending;
use crate::db::transactions::{self, NewTransaction, Split, TransactionView};
use crate::db::wallets::Wallet;
use crate::db::{self, categories, wallets};
use crate::domain::csv_import::{self as domain_csv, ImportRow, NameIndex, EXPORT_HEADER};
use crate::domain::ledger::{CategoryKind, TransactionType};
use crate::domain::money::Money;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::Envelope;
use crate::ml::categorizer as ml_categorizer;
use crate::ml::service::{self as ml_service, UserCategorizer};
use crate::startup::AppState;

/// The names a file uses for the caller's wallets and categories, both ways.
struct Names {
    /// Export labels: the name, or the path (categories) / id (wallets) where the name is
    /// shared.
    wallet_labels: HashMap<Uuid, String>,
    category_labels: HashMap<Uuid, String>,
    wallets: NameIndex<Uuid>,
    /// Per kind: full paths (each names one category) and names (which two may share).
    expense_paths: HashMap<String, Uuid>,
    income_paths: HashMap<String, Uuid>,
    expense_categories: NameIndex<Uuid>,
    income_categories: NameIndex<Uuid>,
}

impl Names {
    fn new(wallet_rows: &[Wallet], category_rows: &[Category]) -> Names {
        let mut wallets = NameIndex::default();
        for wallet in wallet_rows {
            wallets.insert(&wallet.name, wallet.id);
            wallets.insert(&wallet.id.to_string(), wallet.id);
        }
        let wallet_labels = wallet_rows
            .iter()
            .map(|w| {
                let label = if wallets.is_unique(&w.name) {
                    w.name.clone()
                } else {
                    w.id.to_string()
                };
                (w.id, label)
            })
            .collect();

        let by_id: HashMap<Uuid, &Category> = category_rows.iter().map(|c| (c.id, c)).collect();
        let path = |category: &Category| {
            let mut parts = vec![category.name.as_str()];
            let mut parent = category.parent_id;
            // Bounded by the table's size, so a damaged tree cannot loop forever.
            while let Some(id) = parent.filter(|_| parts.len() <= by_id.len()) {
                let Some(up) = by_id.get(&id) else { break };
                parts.push(up.name.as_str());
                parent = up.parent_id;
            }
            parts.reverse();
            parts.join(" > ")
        };
        let mut any_kind = NameIndex::default();
        let (mut expense_paths, mut income_paths) = (HashMap::new(), HashMap::new());
        let mut expense_categories = NameIndex::default();
        let mut income_categories = NameIndex::default();
        for category in category_rows {
            any_kind.insert(&category.name, category.id);
            let (paths, names) = match CategoryKind::parse(&category.kind) {
                Some(CategoryKind::Income) => (&mut income_paths, &mut income_categories),
                _ => (&mut expense_paths, &mut expense_categories),
            };
            paths.insert(domain_csv::name_key(&path(category)), category.id);
            names.insert(&category.name, category.id);
        }
        let category_labels = category_rows
            .iter()
            .map(|c| {
                let label = if any_kind.is_unique(&c.name) {
                    c.name.clone()
                } else {
                    path(c)
                };
                (c.id, label)
            })
            .collect();
        Names {
            wallet_labels,
            category_labels,
            wallets,
            expense_paths,
            income_paths,
            expense_categories,
            income_categories,
        }
    }

    /// A category by its full path (a top-level category's path is its name), else by its name
    /// when only one category has it.
    fn category(&self, name: &str, kind: CategoryKind) -> Result<Uuid, String> {
        let (paths, names, what) = match kind {
            CategoryKind::Expense => (
                &self.expense_paths,
                &self.expense_categories,
                "expense category",
            ),
            CategoryKind::Income => (
                &self.income_paths,
                &self.income_categories,
                "income category",
            ),
        };
        match paths.get(&domain_csv::name_key(name)) {
            Some(id) => Ok(*id),
            None => names.find(name, what),
        }
    }

    fn category_label(&self, id: Option<Uuid>) -> &str {
        id.and_then(|id| self.category_labels.get(&id))
            .map_or("", String::as_str)
    }

    fn wallet_label(&self, id: Option<Uuid>) -> &str {
        id.and_then(|id| self.wallet_labels.get(&id))
            .map_or("", String::as_str)
    }
}

/// One exported line.
fn export_record(row: &TransactionView, names: &Names) -> [String; EXPORT_HEADER.len()] {
    let shares: Vec<(Uuid, Decimal, Option<&str>)> = row
        .splits
        .as_array()
        .map(|splits| {
            splits
                .iter()
                .filter_map(|split| {
                    let id = split.get("category_id")?.as_str()?.parse().ok()?;
                    let amount = split.get("amount")?.to_string().parse().ok()?;
                    let note = split.get("note").and_then(|n| n.as_str());
                    Some((id, amount, note))
                })
                .collect()
        })
        .unwrap_or_default();
    let splits = domain_csv::format_splits(
        shares
            .iter()
            .map(|(id, amount, note)| (names.category_label(Some(*id)), *amount, *note)),
    );
    domain_csv::export_line([
        row.date.to_string(),
        row.transaction_type.clone(),
        Money(row.amount).to_string(),
        row.currency.clone(),
        row.description.clone(),
        names.category_label(row.category_id).to_owned(),
        splits,
        row.merchant.clone().unwrap_or_default(),
        row.notes.clone().unwrap_or_default(),
        names.wallet_label(Some(row.wallet_id)).to_owned(),
        names.wallet_label(row.to_wallet_id).to_owned(),
        domain_csv::format_tags(row.tags.iter().flatten().map(String::as_str)),
    ])
}

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
#[utoipa::path(
    tag = "transactions",
    operation_id = "export_transactions",
    summary = "Export transactions as CSV",
    params(ExportQuery),
    responses((status = 200, description = "CSV file", content_type = "text/csv", body = String)),
    security(("bearer_auth" = []))
)]
#[get("/transactions/export")]
pub async fn export_transactions(
    state: web::Data<AppState>,
    caller: AuthUser,
    query: web::Query<ExportQuery>,
) -> ApiResult<HttpResponse> {
    let query = TransactionListQuery::from(query.into_inner());
    let sort = sort_from(query.sort.as_deref())?;
    let (mut filter, days) = filter_from(query, Scope::All)?;
    let csv = db::run(&state.pool, move |conn| {
        // One snapshot for every chunk: rows written meanwhile neither repeat nor go missing.
        conn.build_transaction()
            .repeatable_read()
            .read_only()
            .run::<_, ApiError, _>(|conn| {
                prepare_filter(conn, caller.id, &mut filter, days)?;
                let names = Names::new(
                    &wallets::all(conn, caller.id)?,
                    &categories::all(conn, caller.id)?,
                );
                let mut writer = csv::Writer::from_writer(Vec::new());
                let csv_error =
                    |e: csv::Error| ApiError::internal(format!("cannot write CSV: {e}"));
                writer.write_record(EXPORT_HEADER).map_err(csv_error)?;
                transactions::for_each_page(conn, caller.id, &filter, sort, 1000, |rows| {
                    for row in rows {
                        writer
                            .write_record(export_record(row, &names))
                            .map_err(csv_error)?;
                    }
                    Ok(())
                })?;
                writer
                    .into_inner()
                    .map_err(|e| ApiError::internal(format!("cannot finish CSV: {e}")))
            })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            "attachment; filename=\"transactions.csv\"",
        ))
        .body(csv))
}

/// What one good line becomes.
struct Resolved {
    wallet: Uuid,
    to_wallet: Option<Uuid>,
    currency: String,
    category_id: Option<Uuid>,
    splits: Vec<Split>,
    suggestion: Option<ImportSuggestion>,
}

/// Finds a line's wallets and categories, or says what is wrong with it.
fn resolve(
    row: &ImportRow,
    names: &Names,
    wallet_rows: &HashMap<Uuid, &Wallet>,
    default_wallet: Option<Uuid>,
    suggester: Option<&UserCategorizer>,
    category_names: &HashMap<Uuid, (String, CategoryKind)>,
) -> Result<Resolved, String> {
    // New money never moves into or out of an archived wallet.
    let open = |id: Uuid| match wallet_rows.get(&id) {
        Some(wallet) if wallet.archived => Err(format!(
            "wallet `{}` is archived; unarchive it to import into it",
            wallet.name
        )),
        _ => Ok(id),
    };
    let wallet = match row.wallet.as_deref() {
        Some(name) => names.wallets.find(name, "wallet")?,
        None => default_wallet.ok_or(
            "no wallet: add a `wallet` column or import with ?wallet_id=", // the query's
        )?,
    };
    let wallet = open(wallet)?;
    let currency = wallet_rows
        .get(&wallet)
        .map(|w| w.currency.clone())
        .unwrap_or_default();
    if let Some(given) = row.currency.as_deref() {
        if given != currency {
            return Err(format!(
                "the currency {given} is not the wallet's ({currency}); conversion is not supported"
            ));
        }
    }
    let to_wallet = match row.to_wallet.as_deref() {
        Some(name) => {
            let to = open(names.wallets.find(name, "wallet")?)?;
            if to == wallet {
                return Err("a transfer needs two different wallets".into());
            }
            if wallet_rows.get(&to).map(|w| w.currency.as_str()) != Some(currency.as_str()) {
                return Err("a transfer's wallets must hold one currency".into());
            }
            Some(to)
        }
        None => None,
    };
    let Some(kind) = row.transaction_type.category_kind() else {
        return Ok(Resolved {
            wallet,
            to_wallet,
            currency,
            category_id: None,
            splits: Vec::new(),
            suggestion: None,
        });
    };
    if !row.splits.is_empty() {
        let splits = row
            .splits
            .iter()
            .map(|split| {
                Ok(Split {
                    category_id: names.category(&split.category, kind)?,
                    amount: split.amount,
                    note: split.note.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        return Ok(Resolved {
            wallet,
            to_wallet,
            currency,
            category_id: None,
            splits,
            suggestion: None,
        });
    }
    let (category_id, suggestion) = match (row.category.as_deref(), suggester) {
        (Some(name), _) => (names.category(name, kind)?, None),
        (None, None) => return Err("the category is empty".into()),
        (None, Some(model)) => {
            let best = model
                .model
                .suggest(
                    &row.description,
                    row.merchant.as_deref(),
                    row.amount.to_f64(),
                    &|label| {
                        model
                            .labels
                            .get(label as usize)
                            .and_then(|id| category_names.get(id))
                            .is_some_and(|(_, k)| *k == kind)
                    },
                )
                .into_iter()
                .next()
                .filter(|(_, p)| *p >= ml_categorizer::AUTO_APPLY_THRESHOLD)
                .and_then(|(label, p)| Some((*model.labels.get(label as usize)?, p)));
            let Some((id, p)) = best else {
                return Err("the category is empty and no suggestion is confident enough".into());
            };
            let suggestion = ImportSuggestion {
                line: row.line,
                category_id: id,
                name: category_names
                    .get(&id)
                    .map(|(name, _)| name.clone())
                    .unwrap_or_default(),
                probability: (p * 10_000.0).floor() / 10_000.0,
            };
            (id, Some(suggestion))
        }
    };
    Ok(Resolved {
        wallet,
        to_wallet,
        currency,
        category_id: Some(category_id),
        splits: Vec::new(),
        suggestion,
    })
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
    caller: AuthUser,
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
    let report = db::run(&state.pool, move |conn| {
        db::user_transaction::<_, ApiError, _>(conn, caller.id, |conn| {
            import_rows(conn, caller.id, default_wallet, rows, failures)
        })
    })
    .await?;
    Ok(Envelope::new(report).ok())
}

fn import_rows(
    conn: &mut PgConnection,
    user_id: Uuid,
    default_wallet: Option<Uuid>,
    rows: Vec<ImportRow>,
    mut failures: Vec<domain_csv::LineError>,
) -> Result<ImportReport, ApiError> {
    if let Some(id) = default_wallet {
        wallets::find(conn, user_id, id)?.ok_or_else(|| ApiError::not_found("Wallet"))?;
    }
    let wallet_rows = wallets::all(conn, user_id)?;
    let category_rows = categories::all(conn, user_id)?;
    let names = Names::new(&wallet_rows, &category_rows);
    let wallets_by_id: HashMap<Uuid, &Wallet> = wallet_rows.iter().map(|w| (w.id, w)).collect();
    let category_names: HashMap<Uuid, (String, CategoryKind)> = category_rows
        .iter()
        .filter_map(|c| Some((c.id, (c.name.clone(), CategoryKind::parse(&c.kind)?))))
        .collect();
    // Lines without a category get the best suggestion when it is confident enough.
    let suggester = if rows.iter().any(|r| {
        r.category.is_none() && r.splits.is_empty() && r.transaction_type.category_kind().is_some()
    }) {
        Some(ml_service::categorizer_for(conn, user_id)?)
    } else {
        None
    };

    let mut resolved = Vec::new();
    for row in rows {
        match resolve(
            &row,
            &names,
            &wallets_by_id,
            default_wallet,
            suggester.as_ref(),
            &category_names,
        ) {
            Ok(found) => resolved.push((row, found)),
            Err(message) => failures.push(domain_csv::LineError {
                line: row.line,
                message,
            }),
        }
    }
    let (good_rows, found): (Vec<ImportRow>, Vec<Resolved>) = resolved.into_iter().unzip();
    let keys: Vec<(String, Option<String>)> = found
        .iter()
        .map(|f| (f.wallet.to_string(), f.to_wallet.map(|w| w.to_string())))
        .collect();
    let hashes = domain_csv::import_hashes(&good_rows, &keys);
    let mut suggestions = Vec::new();
    let mut inserts = Vec::new();
    for ((row, found), hash) in good_rows.into_iter().zip(found).zip(hashes) {
        let confidence = found
            .suggestion
            .as_ref()
            .and_then(|s| Decimal::from_f64(s.probability));
        let source = if found.suggestion.is_some() {
            "ml"
        } else {
            "user"
        };
        suggestions.push(found.suggestion);
        inserts.push((
            NewTransaction {
                user_id,
                transaction_type: row.transaction_type.as_str().to_owned(),
                amount: row.amount,
                currency: found.currency,
                date: row.date,
                description: row.description,
                merchant: row.merchant,
                notes: row.notes,
                category_id: found.category_id,
                wallet_id: found.wallet,
                to_wallet_id: found.to_wallet,
                tags: clean_tags(row.tags),
                import_hash: Some(hash),
                category_source: source.to_owned(),
                category_confidence: confidence,
            },
            found.splits,
        ));
    }
    let created = transactions::insert_imported(conn, &inserts)?;
    // What follows concerns the lines created, not those skipped as duplicates.
    let mut categorized = Vec::new();
    let mut spending = NewSpending::default();
    for ((row, splits), suggestion) in inserts.iter().zip(suggestions) {
        if !row
            .import_hash
            .as_ref()
            .is_some_and(|hash| created.contains(hash))
        {
            continue;
        }
        if row.transaction_type == TransactionType::Expense.as_str() {
            spending.add(
                row.date,
                row.category_id
                    .into_iter()
                    .chain(splits.iter().map(|s| s.category_id)),
            );
        }
        categorized.extend(suggestion);
    }
    if !created.is_empty() {
        after_write(conn, user_id, &spending)?;
    }
    failures.sort_by_key(|f| f.line);
    Ok(ImportReport {
        created: created.len(),
        duplicates: inserts.len() - created.len(),
        categorized,
        failed: failures
            .into_iter()
            .map(|f| ImportFailure {
                line: f.line,
                message: f.message,
            })
            .collect(),
    })
}
