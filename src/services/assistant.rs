//! The assistant: a question in English or Vietnamese is classified (`ml::intent`), its
//! periods, amounts and names are read against the ledger's own categories, merchants, wallets
//! and goals (`domain::question`), and the answer is computed from the same figures reports,
//! budgets, forecasts, insights, goals and scenarios use. Every number in an answer is in its
//! `data`, with the query that produced it; a question it cannot answer gets the questions it
//! can. Every question, answer and feedback is logged.

use std::sync::{Arc, LazyLock, Mutex};

use chrono::{Datelike, Days, Months, NaiveDate};
use diesel::PgConnection;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use super::cache::LedgerCache;
use super::caller::Caller;
use crate::db::assistant::{self as store, AnswerRow, Filter, MerchantName, NewAnswer};
use crate::db::{self, bills, budgets, categories, goals as goal_rows, wallets};
use crate::domain::currency::minor_units;
use crate::domain::money::Money;
use crate::domain::period::{next_occurrence, Frequency};
use crate::domain::question::{
    self, AverageUnit, Entities, Name, NameKind, Period, Unclear, UnclearReason,
};
use crate::dto::assistant::{
    AnswerResponse, AskRequest, AssistantEntities, DateRange, FeedbackRequest, Locale, NamedRef,
};
use crate::dto::scenarios::{ScenarioChange, SimulateRequest, SimulatedFlow};
use crate::error::ApiError;
use crate::ml::intent::{self, IntentModel};

/// Below this probability the top intent is not trusted: the answer says what it can answer.
const CONFIDENCE_FLOOR: f64 = 0.25;
/// Below this share of features the corpus has seen, the question is in another script or
/// about something else entirely.
const KNOWN_SHARE_FLOOR: f64 = 0.3;
/// Merchants a question is matched against: the ledger's most frequent of the last 400 days.
const MERCHANTS_READ: i64 = 300;

static MODEL: LazyLock<Result<IntentModel, String>> =
    LazyLock::new(|| IntentModel::train(intent::TRAINING_CORPUS));

/// Trains the intent classifier now rather than on the first question (at start-up).
pub fn warm_up() {
    if let Err(error) = &*MODEL {
        log::error!("the assistant's intent classifier did not train: {error}");
    }
}

/// The merchant names of a ledger as read at a data version.
struct KeptMerchants {
    version: i64,
    names: Arc<Vec<MerchantName>>,
}

/// The ledger's frequent merchants: reading them is the one costly query of a question (about
/// 300 ms over 1,000,000 transactions), so they are read in full once a day and then topped up
/// with the names of the transactions written since (one index range of the sync index). A
/// name whose transactions were all deleted stays until the next day: asking about it answers
/// 0, which is true.
static MERCHANTS: LazyLock<LedgerCache<Mutex<KeptMerchants>>> = LazyLock::new(LedgerCache::default);

fn merchants(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    today: NaiveDate,
) -> Result<Arc<Vec<MerchantName>>, ApiError> {
    let version = db::ml::data_version(conn, ledger_id)?;
    let since = today.checked_sub_days(Days::new(400)).unwrap_or(today);
    let kept = MERCHANTS.get_or_read(ledger_id, today.to_string(), || {
        let names = store::frequent_merchants(conn, ledger_id, since, 0, MERCHANTS_READ)?;
        Ok(Mutex::new(KeptMerchants {
            version,
            names: Arc::new(names),
        }))
    })?;
    let mut kept = kept
        .lock()
        .map_err(|_| ApiError::internal("merchant names poisoned"))?;
    if kept.version < version {
        let written =
            store::frequent_merchants(conn, ledger_id, since, kept.version, MERCHANTS_READ)?;
        let mut names = kept.names.as_ref().clone();
        for name in written {
            if !names
                .iter()
                .any(|n| n.name.to_lowercase() == name.name.to_lowercase())
            {
                names.push(name);
            }
        }
        *kept = KeptMerchants {
            version,
            names: Arc::new(names),
        };
    }
    Ok(kept.names.clone())
}

/// What a question can name in this ledger.
struct LedgerNames {
    names: Vec<Name>,
    categories: Vec<categories::Category>,
    wallets: Vec<wallets::Wallet>,
    goals: Vec<goal_rows::Goal>,
    budgets: Vec<budgets::BudgetRow>,
    merchants: Arc<Vec<MerchantName>>,
}

impl LedgerNames {
    fn load(conn: &mut PgConnection, caller: &Caller) -> Result<LedgerNames, ApiError> {
        let ledger = caller.ledger.id;
        let categories = categories::all(conn, ledger)?;
        let wallets = wallets::all(conn, ledger)?;
        let goals = goal_rows::all(conn, ledger)?;
        let budgets = budgets::all(conn, ledger)?;
        let merchants = merchants(conn, ledger, caller.today())?;
        let lists: [(NameKind, Vec<&str>); 5] = [
            (
                NameKind::Category,
                categories.iter().map(|c| c.name.as_str()).collect(),
            ),
            (
                NameKind::Wallet,
                wallets.iter().map(|w| w.name.as_str()).collect(),
            ),
            (
                NameKind::Goal,
                goals.iter().map(|g| g.name.as_str()).collect(),
            ),
            (
                NameKind::Merchant,
                merchants.iter().map(|m| m.name.as_str()).collect(),
            ),
            (
                NameKind::Budget,
                budgets.iter().map(|b| b.name.as_str()).collect(),
            ),
        ];
        let names = lists
            .into_iter()
            .flat_map(|(kind, list)| {
                list.into_iter().enumerate().map(move |(index, name)| Name {
                    kind,
                    name: name.to_owned(),
                    index,
                })
            })
            .collect();
        Ok(LedgerNames {
            names,
            categories,
            wallets,
            goals,
            budgets,
            merchants,
        })
    }

    /// A merchant named in the question (or carried from the conversation), as the filter
    /// reads it.
    fn merchant(&self, name: &str) -> MerchantName {
        self.merchants
            .iter()
            .find(|m| m.name.to_lowercase() == name.to_lowercase())
            .cloned()
            .unwrap_or_else(|| MerchantName {
                name: name.to_owned(),
                is_merchant: true,
            })
    }

    /// The rows the names found refer to.
    fn resolve(&self, found: &Entities) -> AssistantEntities {
        let named = |id: Uuid, name: &str| NamedRef {
            id,
            name: name.to_owned(),
        };
        AssistantEntities {
            category: found
                .category
                .as_ref()
                .and_then(|f| self.categories.get(f.index))
                .map(|c| named(c.id, &c.name)),
            merchant: found
                .merchant
                .as_ref()
                .and_then(|f| self.merchants.get(f.index))
                .map(|m| m.name.clone()),
            wallet: found
                .wallet
                .as_ref()
                .and_then(|f| self.wallets.get(f.index))
                .map(|w| named(w.id, &w.name)),
            goal: found
                .goal
                .as_ref()
                .and_then(|f| self.goals.get(f.index))
                .map(|g| named(g.id, &g.name)),
            budget: found
                .budget
                .as_ref()
                .and_then(|f| self.budgets.get(f.index))
                .map(|b| named(b.id, &b.name)),
            period: found.period.map(range),
            compare: found.compare.map(range),
            amount: found.amount.map(Money),
            date: found.date,
            top: found.top,
            average: found.average,
        }
    }
}

fn range(p: Period) -> DateRange {
    DateRange {
        from: p.from,
        to: p.to,
    }
}

fn period_of(r: DateRange) -> Period {
    Period {
        from: r.from,
        to: r.to,
    }
}

/// A follow-up keeps the previous question's entities and replaces what it names anew.
fn carry_over(previous: AssistantEntities, new: AssistantEntities) -> AssistantEntities {
    let subject_named = new.category.is_some() || new.merchant.is_some();
    let subject_named = subject_named || new.budget.is_some();
    AssistantEntities {
        category: if subject_named {
            new.category
        } else {
            previous.category
        },
        merchant: if subject_named {
            new.merchant
        } else {
            previous.merchant
        },
        wallet: new.wallet.or(previous.wallet),
        goal: new.goal.or(previous.goal),
        budget: if subject_named || new.budget.is_some() {
            new.budget
        } else {
            previous.budget
        },
        period: new.period.or(previous.period),
        compare: if new.period.is_some() {
            new.compare
        } else {
            previous.compare
        },
        amount: new.amount.or(previous.amount),
        date: new.date.or(previous.date),
        top: new.top.or(previous.top),
        average: new.average.or(previous.average),
    }
}

/// The question's language: Vietnamese when more of its words are Vietnamese (by their
/// letters, or common words written without accents) than English ("how much is left in my
/// ăn uống budget?" is English that names a Vietnamese category).
fn detect_locale(question: &str) -> Locale {
    const VIETNAMESE_LETTERS: &str =
        "ăâđêôơưàáạảãằắặẳẵầấậẩẫèéẹẻẽềếệểễìíịỉĩòóọỏõồốộổỗờớợởỡùúụủũừứựửữỳýỵỷỹ";
    const VIETNAMESE: &[&str] = &[
        "toi", "minh", "bao", "nhieu", "thang", "tuan", "khong", "ko", "cua", "chi", "tieu",
        "ngan", "sach", "con", "nay", "truoc", "tien", "bn", "duoc", "nam", "hom", "vi", "thu",
        "nhap", "muc", "co", "khoan", "dc", "xai", "mua", "sao", "la", "gi", "nao", "het", "qua",
        "roi", "the", "cho", "va", "voi", "se", "du", "bi", "nhung", "cac",
    ];
    const ENGLISH: &[&str] = &[
        "how", "much", "what", "which", "is", "are", "was", "my", "the", "i", "did", "do", "spend",
        "spent", "on", "in", "at", "left", "budget", "month", "week", "year", "last", "this",
        "next", "can", "afford", "much", "many", "me", "show", "and", "of", "to", "for", "have",
        "am", "track", "with", "income", "balance", "bills", "goal", "save", "saved",
    ];
    let (mut vi, mut en) = (0, 0);
    for word in question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let lower = word.to_lowercase();
        if lower.chars().any(|c| VIETNAMESE_LETTERS.contains(c)) {
            vi += 1;
        } else if ENGLISH.contains(&lower.as_str()) {
            en += 1;
        } else if VIETNAMESE.contains(&lower.as_str()) {
            vi += 1;
        }
    }
    if vi > en {
        Locale::Vi
    } else {
        Locale::En
    }
}

/// An answer being composed.
struct Reply {
    text: String,
    data: Value,
    follow_ups: Vec<String>,
}

fn say(locale: Locale, en: String, vi: String) -> String {
    match locale {
        Locale::En => en,
        Locale::Vi => vi,
    }
}

/// An amount as the answer writes it: grouped thousands, the currency's decimals.
pub fn amount(value: Decimal, currency: &str, locale: Locale) -> String {
    let places = minor_units(currency).min(4);
    let rounded =
        value.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let negative = rounded.is_sign_negative() && !rounded.is_zero();
    let text = format!("{:.*}", places as usize, rounded.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let (group, point) = match locale {
        Locale::En => (',', '.'),
        Locale::Vi => ('.', ','),
    };
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let sign = if negative { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{grouped} {currency}")
    } else {
        format!("{sign}{grouped}{point}{fraction} {currency}")
    }
}

fn percent(value: Decimal, locale: Locale) -> String {
    let text = value.round_dp(1).normalize().to_string();
    match locale {
        Locale::En => format!("{text}%"),
        Locale::Vi => format!("{}%", text.replace('.', ",")),
    }
}

/// "this month", "last month", "June 2026", or the dates.
fn describe(period: Period, today: NaiveDate, locale: Locale) -> String {
    let this_month = Period::month_of(today);
    let last_month = Period::month_of(this_month.from.pred_opt().unwrap_or(today));
    let is_month = period.from.day() == 1 && Period::month_of(period.from) == period;
    match locale {
        Locale::En if period == this_month => "this month".into(),
        Locale::En if period == last_month => "last month".into(),
        Locale::En if period.from == today && period.to == today => "today".into(),
        Locale::En if is_month => format!("in {}", period.from.format("%B %Y")),
        Locale::En => format!("from {} to {}", period.from, period.to),
        Locale::Vi if period == this_month => "tháng này".into(),
        Locale::Vi if period == last_month => "tháng trước".into(),
        Locale::Vi if period.from == today && period.to == today => "hôm nay".into(),
        Locale::Vi if is_month => format!("tháng {}/{}", period.from.month(), period.from.year()),
        Locale::Vi => format!("từ {} đến {}", period.from, period.to),
    }
}

fn period_json(p: Period) -> Value {
    json!({"from": p.from, "to": p.to})
}

/// Answers a question.
pub fn ask(
    conn: &mut PgConnection,
    caller: &Caller,
    body: AskRequest,
) -> Result<AnswerResponse, ApiError> {
    let question: String = body.question.trim().to_owned();
    let locale = body.locale.unwrap_or_else(|| detect_locale(&question));
    let today = caller.today();
    let previous = match body.conversation_id {
        Some(id) => Some(
            store::last_in_conversation(conn, caller.ledger.id, caller.id, id)?
                .ok_or_else(|| ApiError::not_found("Conversation"))?,
        ),
        None => None,
    };
    let conversation_id = body.conversation_id.unwrap_or_else(Uuid::new_v4);
    let model = MODEL
        .as_ref()
        .map_err(|e| ApiError::internal(format!("intent classifier: {e}")))?;
    let ranked = model.classify(&question);
    let (mut intent, confidence) = ranked
        .first()
        .map_or(("out_of_scope".to_owned(), 0.0), |(i, p)| {
            ((*i).to_owned(), *p)
        });

    let ledger = LedgerNames::load(conn, caller)?;
    let mut found = question::extract(
        &question,
        &ledger.names,
        today,
        intent::looks_ahead(&intent),
    );
    let mut entities = ledger.resolve(&found);
    if intent == "follow_up" {
        match previous
            .as_ref()
            .filter(|p| !matches!(p.intent.as_str(), "unknown" | "unknown_name"))
        {
            Some(previous) => {
                intent = previous.intent.clone();
                // A follow-up is read as the question it continues: after "can I afford 500 by
                // March?", the bare number of "and 5000?" is the new amount.
                if intent::looks_ahead(&intent) {
                    found = question::extract(&question, &ledger.names, today, true);
                    // "and April?" after a forecast names the month asked for now, which the
                    // previous question's month must not override.
                    if intent == "forecast" {
                        question::settle(&mut found, &intent, today);
                    }
                    entities = ledger.resolve(&found);
                }
                let before: AssistantEntities =
                    serde_json::from_value(previous.entities.clone()).unwrap_or_default();
                entities = carry_over(before, entities);
                found.period = entities.period.map(period_of);
                found.compare = entities.compare.map(period_of);
                found.date = entities.date;
                found.amount = entities.amount.map(|m| m.0);
            }
            None => intent = "unknown".into(),
        }
    }
    if intent == "out_of_scope"
        || confidence < CONFIDENCE_FLOOR
        || model.known_share(&question) < KNOWN_SHARE_FLOOR
    {
        intent = "unknown".into();
    }
    // A question about a category or merchant the ledger does not have ("how much on
    // yachts?") is told so, with the closest category, never answered for all spending.
    if matches!(
        intent.as_str(),
        "spending" | "compare_periods" | "biggest_expenses" | "budget_status" | "budget_remaining"
    ) && entities.category.is_none()
        && entities.merchant.is_none()
        && entities.budget.is_none()
        && found.unknown.is_some()
    {
        intent = "unknown_name".into();
    }
    question::settle(&mut found, &intent, today);
    // A "forecast" of a period that is over ("chi tiêu tháng 11 là bao nhiêu" asked in
    // December, "the forecast for March 2026") asks what was spent then, not for next month's
    // forecast; the answer says the period is over.
    let past_forecast = intent == "forecast"
        && found
            .period
            .is_some_and(|p| p.to < Period::month_of(today).from);
    if past_forecast {
        intent = "spending".into();
    }
    entities.period = found.period.map(range);
    entities.compare = found.compare.map(range);
    entities.date = found.date;

    let mut reply = match &found.unclear {
        Some(unclear) if intent != "unknown" => ask_back(locale, unclear),
        _ => compose(conn, caller, locale, &intent, &entities, &found, &ledger)?,
    };
    if past_forecast && found.unclear.is_none() {
        reply.text = say(
            locale,
            format!(
                "That period is over, so this is what was spent, not a forecast. {}",
                reply.text
            ),
            format!(
                "Khoảng thời gian đó đã qua, nên đây là số đã chi, không phải dự báo. {}",
                reply.text
            ),
        );
        if let Some(data) = reply.data.as_object_mut() {
            data.insert("past_period".into(), Value::Bool(true));
        }
    }
    let row = store::insert_answer(
        conn,
        &NewAnswer {
            ledger_id: caller.ledger.id,
            user_id: caller.id,
            conversation_id,
            question: question.clone(),
            locale: locale.as_str().to_owned(),
            intent: intent.clone(),
            confidence: confidence as f32,
            entities: serde_json::to_value(&entities).unwrap_or(Value::Null),
            data: reply.data.clone(),
            answer: reply.text.clone(),
        },
    )?;
    Ok(AnswerResponse {
        answer: reply.text,
        intent,
        confidence: (confidence * 1000.0).round() / 1000.0,
        entities,
        data: reply.data,
        follow_ups: reply.follow_ups,
        locale,
        conversation_id,
        answer_id: row.id,
    })
}

pub fn feedback(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    body: FeedbackRequest,
) -> Result<AnswerRow, ApiError> {
    let comment = body
        .comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    store::set_feedback(
        conn,
        caller.ledger.id,
        caller.id,
        id,
        body.rating.as_str(),
        comment.as_deref(),
    )?
    .ok_or_else(|| ApiError::not_found("Answer"))
}

pub fn answers(
    conn: &mut PgConnection,
    caller: &Caller,
    conversation_id: Option<Uuid>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AnswerRow>, i64), ApiError> {
    let (rows, total) = store::list_answers(
        conn,
        caller.ledger.id,
        caller.id,
        conversation_id,
        limit,
        offset,
    )?;
    // A conversation is never empty: none of the caller's is one they do not have.
    if conversation_id.is_some() && total == 0 {
        return Err(ApiError::not_found("Conversation"));
    }
    Ok((rows, total))
}

fn examples(locale: Locale) -> Vec<String> {
    match locale {
        Locale::En => vec![
            "How much did I spend on food last month?".into(),
            "Am I on track with my groceries budget?".into(),
            "Which budget am I closest to exceeding?".into(),
            "What are my bills for the next 30 days?".into(),
            "Can I afford 2,000 by December?".into(),
        ],
        Locale::Vi => vec![
            "Tháng trước tôi tiêu bao nhiêu cho ăn uống?".into(),
            "Ngân sách ăn uống của tôi có ổn không?".into(),
            "Ngân sách nào sắp vượt nhất?".into(),
            "Tháng này có hóa đơn nào sắp đến hạn?".into(),
            "Tôi có đủ tiền mua xe 20 triệu vào tháng 12 không?".into(),
        ],
    }
}

fn compose(
    conn: &mut PgConnection,
    caller: &Caller,
    locale: Locale,
    intent: &str,
    entities: &AssistantEntities,
    found: &Entities,
    ledger: &LedgerNames,
) -> Result<Reply, ApiError> {
    let today = caller.today();
    // A question about one wallet is answered in that wallet's currency (a VND wallet of a USD
    // ledger spends dong, which a sum in dollars would leave out).
    // A currency the question names ("groceries in EUR") is the one answered in.
    let currency = entities
        .wallet
        .as_ref()
        .and_then(|named| ledger.wallets.iter().find(|w| w.id == named.id))
        .map(|w| w.currency.clone())
        .or_else(|| found.currency.clone())
        .unwrap_or_else(|| caller.currency.to_string());
    let this_month = Period::month_of(today);
    let period = entities.period.map(period_of).unwrap_or(this_month);

    let filter = |kind: &'static str, period: Period| Filter {
        ledger_id: caller.ledger.id,
        currency: currency.clone(),
        from: period.from,
        to: period.to,
        kind,
        category_id: entities.category.as_ref().map(|c| c.id),
        merchant: entities.merchant.as_deref().map(|m| ledger.merchant(m)),
        wallet_id: entities.wallet.as_ref().map(|w| w.id),
    };
    let query = |kind: &str, period: Period| {
        json!({
            "type": kind,
            "period": period_json(period),
            "currency": currency,
            "category": entities.category,
            "merchant": entities.merchant,
            "wallet": entities.wallet,
        })
    };
    let subject = |locale: Locale| -> String {
        let mut parts = Vec::new();
        if let Some(c) = &entities.category {
            parts.push(say(
                locale,
                format!("on {}", c.name),
                format!("cho {}", c.name),
            ));
        }
        if let Some(m) = &entities.merchant {
            parts.push(say(locale, format!("at {m}"), format!("tại {m}")));
        }
        if let Some(w) = &entities.wallet {
            parts.push(say(
                locale,
                format!("from {}", w.name),
                format!("từ ví {}", w.name),
            ));
        }
        parts.join(" ")
    };
    let when = describe(period, today, locale);

    match intent {
        "unknown_name" => {
            let unknown = found.unknown.as_deref().unwrap_or_default();
            Ok(no_such_name(locale, unknown, &ledger.names))
        }
        "spending" | "income" => {
            let kind = if intent == "income" {
                "income"
            } else {
                "expense"
            };
            // "average monthly spending", "per week", "trung bình mỗi tháng": the total of the
            // whole months (weeks, days) behind, or of those within the period named, divided
            // by how many they are; none before the ledger's history begins.
            let averaged = match entities.average {
                Some(per) => {
                    let first = db::scenarios::first_day(conn, caller.ledger.id, &currency)?;
                    let named = entities.period.map(period_of);
                    Some((per, question::average_window(per, named, today, first)))
                }
                None => None,
            };
            let window = averaged.and_then(|(per, w)| w.map(|(p, n)| (per, p, n)));
            let period = window.map_or(period, |(_, p, _)| p);
            let when = describe(period, today, locale);
            let per_unit = |value: Decimal, currency: &str| match window {
                Some((_, _, n)) => (value / Decimal::from(n)).round_dp_with_strategy(
                    minor_units(currency).min(4),
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                ),
                None => value,
            };
            let mut total = store::total(conn, &filter(kind, period))?;
            // "groceries and restaurants": each named category's total, added (the same
            // currency); "food excluding groceries": less what of it is groceries.
            let category_of = |f: &question::Found| ledger.categories.get(f.index);
            let mut also_names = Vec::new();
            if entities.category.is_some() {
                for c in found.also.iter().filter_map(category_of) {
                    let mut f = filter(kind, period);
                    f.category_id = Some(c.id);
                    let t = store::total(conn, &f)?;
                    total.amount += t.amount;
                    total.transactions += t.transactions;
                    also_names.push(c.name.clone());
                }
            }
            let excluded = found.excluded.as_ref().and_then(category_of);
            if let Some(c) = excluded {
                let within = entities
                    .category
                    .as_ref()
                    .is_none_or(|outer| is_within(&ledger.categories, c.id, outer.id));
                if within {
                    let mut f = filter(kind, period);
                    f.category_id = Some(c.id);
                    let t = store::total(conn, &f)?;
                    total.amount -= t.amount;
                    total.transactions = (total.transactions - t.transactions).max(0);
                }
            }
            let figure = amount(total.amount, &currency, locale);
            let mut what = subject(locale);
            if !also_names.is_empty() {
                let joined = also_names.join(", ");
                what = what.replacen(
                    &entities
                        .category
                        .as_ref()
                        .map(|c| c.name.clone())
                        .unwrap_or_default(),
                    &format!(
                        "{}{}{joined}",
                        entities
                            .category
                            .as_ref()
                            .map(|c| c.name.as_str())
                            .unwrap_or_default(),
                        say(locale, " and ".into(), " và ".into())
                    ),
                    1,
                );
            }
            if let Some(c) = excluded {
                let gap = if what.is_empty() { "" } else { " " };
                what = say(
                    locale,
                    format!("{what}{gap}excluding {}", c.name),
                    format!("{what}{gap}không tính {}", c.name),
                );
            }
            // Reports never add up currencies without converting them, and neither does an
            // answer; but money in the ledger's other currencies is named, never dropped
            // silently (a 40 EUR expense of a USD ledger).
            let mut others: Vec<(String, store::Total)> = Vec::new();
            if entities.wallet.is_none() && found.currency.is_none() {
                let mut currencies: Vec<&str> = ledger
                    .wallets
                    .iter()
                    .map(|w| w.currency.as_str())
                    .filter(|c| *c != currency)
                    .collect();
                currencies.sort_unstable();
                currencies.dedup();
                for other in currencies {
                    let mut f = filter(kind, period);
                    f.currency = other.to_owned();
                    let t = store::total(conn, &f)?;
                    if t.transactions > 0 {
                        others.push((other.to_owned(), t));
                    }
                }
            }
            let also = if others.is_empty() {
                String::new()
            } else {
                let each: Vec<String> = others
                    .iter()
                    .map(|(c, t)| {
                        let figure = amount(t.amount, c, locale);
                        let transactions = say(
                            locale,
                            format!(
                                "{} transaction{}",
                                t.transactions,
                                if t.transactions == 1 { "" } else { "s" }
                            ),
                            format!("{} giao dịch", t.transactions),
                        );
                        match window {
                            Some((per, _, _)) => {
                                let average = amount(per_unit(t.amount, c), c, locale);
                                let (unit, _) = unit_words(per, locale);
                                say(
                                    locale,
                                    format!("{average} a {unit} ({figure} in {transactions})"),
                                    format!("{average} mỗi {unit} ({figure} qua {transactions})"),
                                )
                            }
                            None => say(
                                locale,
                                format!("{figure} in {transactions}"),
                                format!("{figure} qua {transactions}"),
                            ),
                        }
                    })
                    .collect();
                say(
                    locale,
                    format!(
                        " Also {} in other currencies, not converted into {currency}.",
                        each.join(" and ")
                    ),
                    format!(
                        " Ngoài ra còn {} bằng tiền tệ khác, không quy đổi sang {currency}.",
                        each.join(" và ")
                    ),
                )
            };
            let gap = if what.is_empty() { "" } else { " " };
            let text = match window {
                Some((per, span, count)) => {
                    let average = amount(per_unit(total.amount, &currency), &currency, locale);
                    let (unit, units) = unit_words(per, locale);
                    let units = if count == 1 { unit } else { units };
                    // Fewer than asked for: the ledger's history is shorter.
                    let short = entities.period.is_none() && count < per.default_count();
                    let (from, to) = (span.from, span.to);
                    match (kind, locale) {
                        ("expense", Locale::En) => format!(
                            "On average you spent {average}{gap}{what} a {unit} over {count} whole {units} ({from} to {to}{}): {figure} in all, in {} transaction{}.",
                            if short { ", all your history so far" } else { "" },
                            total.transactions,
                            if total.transactions == 1 { "" } else { "s" }
                        ),
                        ("expense", Locale::Vi) => format!(
                            "Trung bình bạn chi {average}{gap}{what} mỗi {unit} trong {count} {units} trọn vẹn (từ {from} đến {to}{}): tổng {figure}, qua {} giao dịch.",
                            if short { ", toàn bộ lịch sử hiện có" } else { "" },
                            total.transactions
                        ),
                        (_, Locale::En) => format!(
                            "On average your income{gap}{what} was {average} a {unit} over {count} whole {units} ({from} to {to}{}): {figure} in all, in {} transaction{}.",
                            if short { ", all your history so far" } else { "" },
                            total.transactions,
                            if total.transactions == 1 { "" } else { "s" }
                        ),
                        (_, Locale::Vi) => format!(
                            "Thu nhập trung bình{gap}{what} của bạn là {average} mỗi {unit} trong {count} {units} trọn vẹn (từ {from} đến {to}{}): tổng {figure}, qua {} giao dịch.",
                            if short { ", toàn bộ lịch sử hiện có" } else { "" },
                            total.transactions
                        ),
                    }
                }
                None => {
                    // An average asked of no whole period ("this month", or no history yet):
                    // the total, said to be one.
                    let note = match averaged {
                        Some((per, None)) => {
                            let (unit, _) = unit_words(per, locale);
                            say(
                                locale,
                                format!("There is no whole {unit} behind to average over, so this is the total. "),
                                format!("Chưa có {unit} trọn vẹn nào để tính trung bình, nên đây là tổng. "),
                            )
                        }
                        _ => String::new(),
                    };
                    let total_text = match (kind, locale) {
                        ("expense", Locale::En) => format!(
                            "You spent {figure}{}{} {when}, in {} transaction{}.",
                            if what.is_empty() { "" } else { " " },
                            what,
                            total.transactions,
                            if total.transactions == 1 { "" } else { "s" }
                        ),
                        ("expense", Locale::Vi) => format!(
                            "Bạn đã chi {figure}{}{} {when}, qua {} giao dịch.",
                            if what.is_empty() { "" } else { " " },
                            what,
                            total.transactions
                        ),
                        (_, Locale::En) => format!(
                            "Your income{}{} {when} was {figure}, in {} transaction{}.",
                            if what.is_empty() { "" } else { " " },
                            what,
                            total.transactions,
                            if total.transactions == 1 { "" } else { "s" }
                        ),
                        (_, Locale::Vi) => format!(
                            "Thu nhập{}{} {when} của bạn là {figure}, qua {} giao dịch.",
                            if what.is_empty() { "" } else { " " },
                            what,
                            total.transactions
                        ),
                    };
                    format!("{note}{total_text}")
                }
            };
            let mut data = json!({"query": query(kind, period), "also_categories": also_names, "excluding_category": excluded.map(|c| json!({"id": c.id, "name": c.name})),
                "total": Money(total.amount), "transactions": total.transactions,
                "other_currencies": others.iter().map(|(c, t)| {
                    let mut line = json!({"currency": c, "total": Money(t.amount), "transactions": t.transactions});
                    if window.is_some() {
                        line["average"] = json!(Money(per_unit(t.amount, c)));
                    }
                    line
                }).collect::<Vec<_>>()});
            // The average, what it is per and over how many: {"average": 126.84, "per":
            // "month", "months": 3}.
            if let Some((per, _)) = averaged {
                let (average, count) = match window {
                    Some((_, _, count)) => (Some(Money(per_unit(total.amount, &currency))), count),
                    None => (None, 0),
                };
                data["average"] = json!(average);
                data["per"] = json!(per);
                data[format!("{}s", per.as_str())] = json!(count);
            }
            Ok(Reply {
                text: format!("{text}{also}"),
                data,
                follow_ups: match locale {
                    Locale::En => vec![
                        "And last month?".into(),
                        "What were my biggest expenses this month?".into(),
                    ],
                    Locale::Vi => vec![
                        "Còn tháng trước?".into(),
                        "Những khoản chi lớn nhất tháng này?".into(),
                    ],
                },
            })
        }
        "compare_periods" => {
            let compare = entities
                .compare
                .map(period_of)
                .unwrap_or_else(|| period.previous());
            let now = store::total(conn, &filter("expense", period))?;
            let before = store::total(conn, &filter("expense", compare))?;
            let change = now.amount - before.amount;
            let change_pct = (!before.amount.is_zero())
                .then(|| (change * Decimal::ONE_HUNDRED / before.amount).round_dp(1));
            let (a, b) = (
                describe(period, today, locale),
                describe(compare, today, locale),
            );
            let (x, y) = (
                amount(now.amount, &currency, locale),
                amount(before.amount, &currency, locale),
            );
            let diff = amount(change.abs(), &currency, locale);
            let what = subject(locale);
            let pct = change_pct
                .map(|p| {
                    let sign = if p > Decimal::ZERO { "+" } else { "" };
                    format!(" ({sign}{})", percent(p, locale))
                })
                .unwrap_or_default();
            let gap = if what.is_empty() { "" } else { " " };
            let difference = match (change.cmp(&Decimal::ZERO), locale) {
                (std::cmp::Ordering::Equal, Locale::En) => "the same".to_owned(),
                (std::cmp::Ordering::Equal, Locale::Vi) => "bằng nhau".to_owned(),
                (std::cmp::Ordering::Greater, Locale::En) => format!("{diff} more"),
                (std::cmp::Ordering::Less, Locale::En) => format!("{diff} less"),
                (std::cmp::Ordering::Greater, Locale::Vi) => format!("nhiều hơn {diff}"),
                (std::cmp::Ordering::Less, Locale::Vi) => format!("ít hơn {diff}"),
            };
            let text = say(
                locale,
                format!("You spent {x}{gap}{what} {a} and {y} {b}: {difference}{pct}."),
                format!("Bạn đã chi {x}{gap}{what} {a} và {y} {b}: {difference}{pct}."),
            );
            Ok(Reply {
                text,
                data: json!({
                    "query": query("expense", period),
                    "compare_period": period_json(compare),
                    "total": Money(now.amount), "compare_total": Money(before.amount),
                    "change": Money(change), "change_pct": change_pct.map(Money),
                }),
                follow_ups: vec![],
            })
        }
        "net_savings" => {
            let mut f = filter("income", period);
            f.category_id = None;
            f.merchant = None;
            let income = store::total(conn, &f)?.amount;
            f.kind = "expense";
            let expense = store::total(conn, &f)?.amount;
            let net = income - expense;
            let rate =
                (income > Decimal::ZERO).then(|| (net * Decimal::ONE_HUNDRED / income).round_dp(1));
            let (i, e, n) = (
                amount(income, &currency, locale),
                amount(expense, &currency, locale),
                amount(net.abs(), &currency, locale),
            );
            let text = match locale {
                Locale::En => format!(
                    "{} you earned {i} and spent {e}: {} {n}{}.",
                    capitalise(&when),
                    if net >= Decimal::ZERO {
                        "you saved"
                    } else {
                        "you spent more than you earned by"
                    },
                    rate.map(|r| format!(", a savings rate of {}", percent(r, locale)))
                        .unwrap_or_default()
                ),
                Locale::Vi => format!(
                    "{} bạn kiếm được {i} và chi {e}: {} {n}{}.",
                    capitalise(&when),
                    if net >= Decimal::ZERO {
                        "bạn tiết kiệm được"
                    } else {
                        "bạn chi vượt thu nhập"
                    },
                    rate.map(|r| format!(", tỷ lệ tiết kiệm {}", percent(r, locale)))
                        .unwrap_or_default()
                ),
            };
            Ok(Reply {
                text,
                data: json!({"query": {"period": period_json(period), "currency": currency, "wallet": entities.wallet},
                             "income": Money(income), "expense": Money(expense), "net": Money(net), "savings_rate_pct": rate.map(Money)}),
                follow_ups: vec![],
            })
        }
        // "What were my top 3 categories last month?": categories, not single expenses.
        "biggest_expenses" if found.per_category && entities.category.is_none() => {
            let top = entities.top.unwrap_or(5).clamp(1, 20);
            let mut f = filter("expense", period);
            f.merchant = None;
            let lines = store::top_categories(conn, &f, i64::from(top))?;
            let listed: Vec<String> = lines
                .iter()
                .enumerate()
                .map(|(k, l)| {
                    format!(
                        "{}. {} {}",
                        k + 1,
                        l.name,
                        amount(l.amount, &currency, locale)
                    )
                })
                .collect();
            let text = if lines.is_empty() {
                say(
                    locale,
                    format!("You have no expenses {when}."),
                    format!("Bạn không có khoản chi nào {when}."),
                )
            } else {
                say(
                    locale,
                    format!(
                        "Your top {} categor{} {when}: {}.",
                        lines.len(),
                        if lines.len() == 1 { "y" } else { "ies" },
                        listed.join("; ")
                    ),
                    format!(
                        "{} danh mục chi nhiều nhất {when}: {}.",
                        lines.len(),
                        listed.join("; ")
                    ),
                )
            };
            Ok(Reply {
                text,
                data: json!({"query": query("expense", period), "top": top, "categories": lines.iter().map(|l| json!({
                    "id": l.id, "name": l.name, "amount": Money(l.amount)})).collect::<Vec<_>>()}),
                follow_ups: vec![],
            })
        }
        "biggest_expenses" => {
            let top = entities.top.unwrap_or(5).clamp(1, 20);
            let lines = store::largest(conn, &filter("expense", period), i64::from(top))?;
            if lines.is_empty() {
                return Ok(Reply {
                    text: say(
                        locale,
                        format!("You have no expenses {when}."),
                        format!("Bạn không có khoản chi nào {when}."),
                    ),
                    data: json!({"query": query("expense", period), "expenses": []}),
                    follow_ups: vec![],
                });
            }
            let listed: Vec<String> = lines
                .iter()
                .enumerate()
                .map(|(k, l)| {
                    format!(
                        "{}. {} {} ({})",
                        k + 1,
                        amount(l.amount, &currency, locale),
                        line_name(l, locale),
                        l.date
                    )
                })
                .collect();
            let text = say(
                locale,
                format!(
                    "Your {} biggest expense{} {when}: {}.",
                    lines.len(),
                    if lines.len() == 1 { "" } else { "s" },
                    listed.join("; ")
                ),
                format!(
                    "{} khoản chi lớn nhất {when}: {}.",
                    lines.len(),
                    listed.join("; ")
                ),
            );
            Ok(Reply {
                text,
                data: json!({"query": query("expense", period), "top": top, "expenses": lines.iter().map(|l| json!({
                    "id": l.id, "date": l.date, "amount": Money(l.amount), "description": l.description,
                    "merchant": l.merchant, "category": l.category})).collect::<Vec<_>>()}),
                follow_ups: vec![],
            })
        }
        "unusual" => {
            let period = entities.period.map(period_of).unwrap_or(Period {
                from: today.checked_sub_days(Days::new(29)).unwrap_or(today),
                to: today,
            });
            let when = describe(period, today, locale);
            let lines = store::unusual(conn, &filter("expense", period), 10)?;
            let listed: Vec<String> = lines
                .iter()
                .map(|l| {
                    format!(
                        "{} {} ({}{})",
                        amount(l.amount, &currency, locale),
                        line_name(l, locale),
                        l.date,
                        // The reason was written in English when the expense was judged: a
                        // Vietnamese answer leaves it to `data` rather than mix languages.
                        l.unusual_reason
                            .as_ref()
                            .filter(|_| matches!(locale, Locale::En))
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            let text = if lines.is_empty() {
                say(locale, format!("Nothing unusual {when}: no expense stood out against your history."), format!("Không có gì bất thường {when}: không khoản chi nào khác lạ so với lịch sử của bạn."))
            } else {
                say(
                    locale,
                    format!(
                        "{} unusual expense{} {when}: {}.",
                        lines.len(),
                        if lines.len() == 1 { "" } else { "s" },
                        listed.join("; ")
                    ),
                    format!(
                        "{} khoản chi bất thường {when}: {}.",
                        lines.len(),
                        listed.join("; ")
                    ),
                )
            };
            Ok(Reply {
                text,
                data: json!({"query": query("expense", period), "unusual": lines.iter().map(|l| json!({
                    "id": l.id, "date": l.date, "amount": Money(l.amount), "description": l.description,
                    "merchant": l.merchant, "reason": l.unusual_reason})).collect::<Vec<_>>()}),
                follow_ups: vec![],
            })
        }
        "balance" => {
            let all = wallets::list(conn, caller.ledger.id, Some(false), 1000, 0)?;
            let mut chosen: Vec<_> = match &entities.wallet {
                Some(w) => all.into_iter().filter(|x| x.id == w.id).collect(),
                None => all,
            };
            // "What was my balance at the end of last month?", "and last month?": the balance
            // as of the period's last day, from the wallets' opening balances and the
            // transactions until then; a period not over yet is today's.
            let as_of = entities
                .period
                .map(|p| p.to)
                .filter(|to| *to < today)
                .unwrap_or(today);
            if as_of < today {
                let then = wallets::balances_at(conn, caller.ledger.id, as_of)?;
                for w in &mut chosen {
                    w.balance = then
                        .iter()
                        .find(|b| b.id == w.id)
                        .map_or(w.opening_balance, |b| b.balance);
                }
            }
            let mut totals: Vec<(String, Decimal)> = Vec::new();
            for w in &chosen {
                match totals.iter_mut().find(|(c, _)| *c == w.currency) {
                    Some((_, t)) => *t += w.balance,
                    None => totals.push((w.currency.clone(), w.balance)),
                }
            }
            let listed: Vec<String> = chosen
                .iter()
                .map(|w| format!("{} {}", w.name, amount(w.balance, &w.currency, locale)))
                .collect();
            let sums: Vec<String> = totals.iter().map(|(c, t)| amount(*t, c, locale)).collect();
            let (en_when, vi_when) = if as_of < today {
                (
                    format!("At the end of {as_of}, "),
                    format!("Cuối ngày {as_of}, "),
                )
            } else {
                (String::new(), String::new())
            };
            let (held, con) = if as_of < today {
                ("held", "có")
            } else {
                ("holds", "còn")
            };
            let text = match (&entities.wallet, chosen.len()) {
                (_, 0) => say(
                    locale,
                    "You have no open wallets.".into(),
                    "Bạn chưa có ví nào đang dùng.".into(),
                ),
                (Some(w), _) => say(
                    locale,
                    capitalise(&format!(
                        "{en_when}your {} wallet {held} {}.",
                        w.name,
                        sums.join(", ")
                    )),
                    format!("{vi_when}ví {} của bạn {con} {}.", w.name, sums.join(", ")),
                ),
                (None, _) => say(
                    locale,
                    capitalise(&format!(
                        "{en_when}your wallets {} {} in all: {}.",
                        if as_of < today { "held" } else { "hold" },
                        sums.join(" and "),
                        listed.join("; ")
                    )),
                    capitalise(&format!(
                        "{vi_when}các ví của bạn có tổng cộng {}: {}.",
                        sums.join(" và "),
                        listed.join("; ")
                    )),
                ),
            };
            Ok(Reply {
                text,
                data: json!({"query": {"wallet": entities.wallet, "as_of": as_of},
                    "wallets": chosen.iter().map(|w| json!({"id": w.id, "name": w.name, "currency": w.currency, "balance": Money(w.balance)})).collect::<Vec<_>>(),
                    "totals": totals.iter().map(|(c, t)| json!({"currency": c, "balance": Money(*t)})).collect::<Vec<_>>()}),
                follow_ups: vec![],
            })
        }
        "forecast" => forecast(conn, caller, locale, entities, today, &currency),
        "budget_status" | "budget_remaining" | "budget_closest" => {
            budget_answer(conn, caller, locale, intent, entities, today, ledger)
        }
        "upcoming_bills" => {
            let until = entities
                .period
                .map(|p| p.to)
                .filter(|to| *to >= today)
                .unwrap_or_else(|| today.checked_add_days(Days::new(30)).unwrap_or(today));
            let due = bills::upcoming(conn, caller.ledger.id, until)?;
            // Each bill's due dates until then: a weekly bill falls due several times.
            let mut dates: Vec<Vec<NaiveDate>> = Vec::with_capacity(due.len());
            for b in &due {
                let frequency = super::caller::stored("frequency", &b.frequency, Frequency::parse)?;
                let mut each = vec![b.next_due_date];
                if frequency != Frequency::Once {
                    let anchor = b.due_day.max(1) as u32;
                    while let Some(next) = each
                        .last()
                        .and_then(|d| next_occurrence(frequency, *d, anchor))
                        .filter(|d| *d <= until && each.len() < 400)
                    {
                        each.push(next);
                    }
                }
                // A later due date paid already (its earlier one reopened) is not owed.
                let mut owed = Vec::with_capacity(each.len());
                for day in each {
                    if day == b.next_due_date || !bills::is_paid(conn, caller.ledger.id, b.id, day)?
                    {
                        owed.push(day);
                    }
                }
                dates.push(owed);
            }
            let mut totals: Vec<(String, Decimal)> = Vec::new();
            for (b, each) in due.iter().zip(&dates) {
                let owed = b.amount * Decimal::from(each.len());
                match totals.iter_mut().find(|(c, _)| *c == b.currency) {
                    Some((_, t)) => *t += owed,
                    None => totals.push((b.currency.clone(), owed)),
                }
            }
            let listed: Vec<String> = due
                .iter()
                .zip(&dates)
                .map(|(b, each)| {
                    format!(
                        "{} {} ({}{}{})",
                        b.name,
                        amount(b.amount, &b.currency, locale),
                        b.next_due_date,
                        if b.next_due_date < today {
                            say(locale, ", overdue".into(), ", quá hạn".into())
                        } else {
                            String::new()
                        },
                        if each.len() > 1 {
                            say(
                                locale,
                                format!(", {} times until then", each.len()),
                                format!(", {} lần đến lúc đó", each.len()),
                            )
                        } else {
                            String::new()
                        }
                    )
                })
                .collect();
            let sums: Vec<String> = totals.iter().map(|(c, t)| amount(*t, c, locale)).collect();
            let text = if due.is_empty() {
                say(
                    locale,
                    format!("No bills are due until {until}."),
                    format!("Không có hóa đơn nào đến hạn trước {until}."),
                )
            } else {
                say(
                    locale,
                    format!(
                        "{} bill{} due until {until}, {} in all: {}.",
                        due.len(),
                        if due.len() == 1 { " is" } else { "s are" },
                        sums.join(" and "),
                        listed.join("; ")
                    ),
                    format!(
                        "{} hóa đơn đến hạn trước {until}, tổng {}: {}.",
                        due.len(),
                        sums.join(" và "),
                        listed.join("; ")
                    ),
                )
            };
            Ok(Reply {
                text,
                data: json!({"query": {"until": until}, "totals": totals.iter().map(|(c, t)| json!({"currency": c, "amount": Money(*t)})).collect::<Vec<_>>(),
                    "bills": due.iter().zip(&dates).map(|(b, each)| json!({"id": b.id, "name": b.name, "amount": Money(b.amount), "currency": b.currency,
                        "due_date": b.next_due_date, "due_dates": each, "overdue": b.next_due_date < today})).collect::<Vec<_>>()}),
                follow_ups: vec![],
            })
        }
        "subscriptions" => {
            let found =
                super::insights::recurring_payments(conn, caller.ledger.id, &currency, today)?;
            let monthly: Decimal = found
                .iter()
                .map(|f| {
                    super::insights::monthly_equivalent(
                        f.recurrence.cadence,
                        f.recurrence.typical_amount,
                    )
                })
                .sum();
            let listed: Vec<String> = found
                .iter()
                .map(|f| {
                    format!(
                        "{} {} ({:?}, {} {})",
                        f.payee,
                        amount(f.recurrence.typical_amount, &currency, locale),
                        f.recurrence.cadence,
                        say(locale, "next".into(), "kỳ tới".into()),
                        f.recurrence.next_expected
                    )
                    .replace("(Weekly", "(weekly")
                    .replace("(Biweekly", "(biweekly")
                    .replace("(Monthly", "(monthly")
                    .replace("(Quarterly", "(quarterly")
                    .replace("(Yearly", "(yearly")
                })
                .collect();
            let total = amount(monthly, &currency, locale);
            let text = if found.is_empty() {
                say(
                    locale,
                    "I found no recurring payments in the last 400 days.".into(),
                    "Không thấy khoản thanh toán định kỳ nào trong 400 ngày qua.".into(),
                )
            } else {
                say(
                    locale,
                    format!(
                        "You have {} recurring payment{}, about {total} a month: {}.",
                        found.len(),
                        if found.len() == 1 { "" } else { "s" },
                        listed.join("; ")
                    ),
                    format!(
                        "Bạn có {} khoản thanh toán định kỳ, khoảng {total} mỗi tháng: {}.",
                        found.len(),
                        listed.join("; ")
                    ),
                )
            };
            Ok(Reply {
                text,
                data: json!({"query": {"currency": currency, "since": today.checked_sub_days(Days::new(400))}, "monthly_total": Money(monthly),
                    "payments": found.iter().map(|f| json!({"payee": f.payee, "cadence": f.recurrence.cadence, "typical_amount": Money(f.recurrence.typical_amount),
                        "monthly_equivalent": Money(super::insights::monthly_equivalent(f.recurrence.cadence, f.recurrence.typical_amount)),
                        "next_expected": f.recurrence.next_expected, "occurrences": f.recurrence.occurrences})).collect::<Vec<_>>()}),
                follow_ups: vec![],
            })
        }
        "goal_progress" => {
            let chosen: Vec<_> = match &entities.goal {
                Some(g) => ledger
                    .goals
                    .iter()
                    .filter(|x| x.id == g.id)
                    .cloned()
                    .collect(),
                None => ledger.goals.clone(),
            };
            if chosen.is_empty() {
                return Ok(Reply {
                    text: say(
                        locale,
                        "You have no savings goals yet: create one with POST /goals.".into(),
                        "Bạn chưa có mục tiêu tiết kiệm nào: tạo bằng POST /goals.".into(),
                    ),
                    data: json!({"goals": []}),
                    follow_ups: vec![],
                });
            }
            let mut lines = Vec::new();
            let mut data = Vec::new();
            for goal in &chosen {
                let p = super::goals::progress_of(conn, caller, goal)?;
                let status = match (p.status, locale) {
                    (crate::domain::goal::GoalStatus::Reached, Locale::En) => "reached".to_owned(),
                    (crate::domain::goal::GoalStatus::OnTrack, Locale::En) => "on track".to_owned(),
                    (crate::domain::goal::GoalStatus::Behind, Locale::En) => "behind".to_owned(),
                    (crate::domain::goal::GoalStatus::Reached, Locale::Vi) => "đã đạt".to_owned(),
                    (crate::domain::goal::GoalStatus::OnTrack, Locale::Vi) => {
                        "đúng tiến độ".to_owned()
                    }
                    (crate::domain::goal::GoalStatus::Behind, Locale::Vi) => {
                        "chậm tiến độ".to_owned()
                    }
                };
                let needed = p
                    .monthly_needed
                    .map(|m| {
                        say(
                            locale,
                            format!("; {} a month needed", amount(m, &goal.currency, locale)),
                            format!("; cần {} mỗi tháng", amount(m, &goal.currency, locale)),
                        )
                    })
                    .unwrap_or_default();
                lines.push(say(
                    locale,
                    format!(
                        "{}: {} of {} saved ({}), {status}{needed}",
                        goal.name,
                        amount(p.saved, &goal.currency, locale),
                        amount(goal.target_amount, &goal.currency, locale),
                        percent(p.percent, locale)
                    ),
                    format!(
                        "{}: đã tiết kiệm {} trên {} ({}), {status}{needed}",
                        goal.name,
                        amount(p.saved, &goal.currency, locale),
                        amount(goal.target_amount, &goal.currency, locale),
                        percent(p.percent, locale)
                    ),
                ));
                data.push(json!({"id": goal.id, "name": goal.name, "currency": goal.currency, "target_amount": Money(goal.target_amount),
                    "target_date": goal.target_date, "saved": Money(p.saved), "progress_pct": Money(p.percent), "monthly_pace": Money(p.monthly_pace),
                    "monthly_needed": p.monthly_needed.map(Money), "status": p.status}));
            }
            Ok(Reply {
                text: format!("{}.", lines.join("; ")),
                data: json!({"goals": data}),
                follow_ups: vec![],
            })
        }
        // The simulation adds up the ledger's own currency, whatever wallet the question named:
        // a price in another is said so, never projected as if it were in this one.
        "afford"
            if found
                .currency
                .as_deref()
                .is_some_and(|c| c != caller.currency.to_string()) =>
        {
            let named = found.currency.clone().unwrap_or_default();
            let ours = caller.currency.to_string();
            Ok(Reply {
                text: say(
                    locale,
                    format!("I can only project your wallets in {ours}, the ledger's currency, so I cannot answer for a price in {named}: ask with the price in {ours}."),
                    format!("Tôi chỉ dự tính được các ví bằng {ours}, tiền tệ của sổ, nên không trả lời được với giá bằng {named}: hãy hỏi với giá bằng {ours}."),
                ),
                data: json!({"unsupported_currency": named, "currency": ours}),
                follow_ups: vec![],
            })
        }
        "afford" => afford(
            conn,
            caller,
            locale,
            entities,
            today,
            &caller.currency.to_string(),
        ),
        _ => {
            let list = examples(locale);
            Ok(Reply {
                text: say(
                    locale,
                    format!(
                        "I can only answer questions about your own finances, such as: {}",
                        list.join(" · ")
                    ),
                    format!(
                        "Tôi chỉ trả lời được câu hỏi về tài chính của bạn, ví dụ: {}",
                        list.join(" · ")
                    ),
                ),
                data: json!({"examples": list}),
                follow_ups: list,
            })
        }
    }
}

/// A date or period that cannot be answered as written is asked back, never answered for
/// another period.
fn ask_back(locale: Locale, unclear: &Unclear) -> Reply {
    let words = &unclear.words;
    let (en, vi) = match unclear.reason {
        UnclearReason::NoSuchDate => (
            format!("\"{words}\" is no date I can read: which day or period do you mean? For example: \"last month\", \"2026-11-28\", \"from 1 to 15 October\"."),
            format!("\"{words}\" không phải ngày hợp lệ: bạn muốn hỏi ngày hay khoảng thời gian nào? Ví dụ: \"tháng trước\", \"2026-11-28\", \"từ ngày 1 đến ngày 15 tháng 10\"."),
        ),
        UnclearReason::EndsBeforeStart => (
            format!("\"{words}\" ends before it starts: which period do you mean? Name its first day, then its last, up to today."),
            format!("\"{words}\" kết thúc trước khi bắt đầu: bạn muốn hỏi khoảng thời gian nào? Hãy nêu ngày đầu rồi ngày cuối, đến hôm nay."),
        ),
        UnclearReason::Ambiguous => (
            format!("\"{words}\" could be day/month or month/day: write the date as 2026-11-28 or \"28 November 2026\"."),
            format!("\"{words}\" có thể là ngày/tháng hoặc tháng/ngày: hãy viết ngày như 2026-11-28 hoặc \"ngày 28 tháng 11 năm 2026\"."),
        ),
    };
    Reply {
        text: say(locale, en, vi),
        data: json!({"unclear": unclear}),
        follow_ups: vec![],
    }
}

/// Whether `id` is `outer` or one of its sub-categories.
fn is_within(all: &[categories::Category], id: Uuid, outer: Uuid) -> bool {
    let mut at = Some(id);
    for _ in 0..=all.len() {
        match at {
            Some(current) if current == outer => return true,
            Some(current) => {
                at = all
                    .iter()
                    .find(|c| c.id == current)
                    .and_then(|c| c.parent_id)
            }
            None => return false,
        }
    }
    false
}

/// A unit of an average as the answer names it: (one, several).
fn unit_words(per: AverageUnit, locale: Locale) -> (&'static str, &'static str) {
    match (per, locale) {
        (AverageUnit::Day, Locale::En) => ("day", "days"),
        (AverageUnit::Week, Locale::En) => ("week", "weeks"),
        (AverageUnit::Month, Locale::En) => ("month", "months"),
        (AverageUnit::Day, Locale::Vi) => ("ngày", "ngày"),
        (AverageUnit::Week, Locale::Vi) => ("tuần", "tuần"),
        (AverageUnit::Month, Locale::Vi) => ("tháng", "tháng"),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An expense as a list names it: its merchant, else its description, else its category
/// (never a blank).
fn line_name(line: &store::Line, locale: Locale) -> String {
    [
        &line.merchant,
        &Some(line.description.clone()),
        &line.category,
    ]
    .into_iter()
    .flatten()
    .map(|name| name.trim())
    .find(|name| !name.is_empty())
    .map(str::to_owned)
    .unwrap_or_else(|| say(locale, "uncategorised".into(), "chưa phân loại".into()))
}

/// "There is no category called yachts; the closest is Travel."
fn no_such_name(locale: Locale, unknown: &str, names: &[Name]) -> Reply {
    let category = question::closest(unknown, names, NameKind::Category).map(|n| n.name.clone());
    let text = match (&category, locale) {
        (Some(c), Locale::En) => format!(
            "You have no category or merchant called \"{unknown}\". The closest category is {c}."
        ),
        (None, Locale::En) => format!("You have no category or merchant called \"{unknown}\"."),
        (Some(c), Locale::Vi) => format!(
            "Bạn không có danh mục hay cửa hàng nào tên \"{unknown}\". Danh mục gần nhất là {c}."
        ),
        (None, Locale::Vi) => format!("Bạn không có danh mục hay cửa hàng nào tên \"{unknown}\"."),
    };
    let follow_ups = category
        .iter()
        .map(|c| {
            say(
                locale,
                format!("How much did I spend on {c} this month?"),
                format!("Tháng này tôi chi bao nhiêu cho {c}?"),
            )
        })
        .collect();
    Reply {
        text,
        data: json!({"unknown": unknown, "closest_category": category}),
        follow_ups,
    }
}

fn forecast(
    conn: &mut PgConnection,
    caller: &Caller,
    locale: Locale,
    entities: &AssistantEntities,
    today: NaiveDate,
    currency: &str,
) -> Result<Reply, ApiError> {
    use super::predictions::{self, Period as ForecastPeriod};
    let category = entities.category.as_ref().map(|c| c.id);
    let currency = predictions::ledger_currency(conn, caller.ledger.id)
        .unwrap_or_else(|_| currency.to_owned());
    // The month asked for (next month by default; a period begun before this month, such as
    // "this year", from this month), counted from this month, which is the forecast's first.
    let this_month = Period::month_of(today);
    let next = Period::month_of(this_month.to.succ_opt().unwrap_or(today));
    let target = entities
        .period
        .map(|p| Period::month_of(p.from.max(this_month.from)))
        .unwrap_or(next);
    let ahead = (i64::from(target.from.year()) - i64::from(today.year())) * 12
        + i64::from(target.from.month())
        - i64::from(today.month());
    let horizon = predictions::FORECAST_HORIZON;
    let Some(ahead) = usize::try_from(ahead).ok().filter(|a| *a < horizon) else {
        // Beyond what the forecast serves (its 12 months from this one): said so, never
        // answered for another month.
        let last = Period::month_of(
            this_month
                .from
                .checked_add_months(Months::new(horizon as u32 - 1))
                .unwrap_or(this_month.from),
        );
        let name = |p: Period| match locale {
            Locale::En => p.from.format("%B %Y").to_string(),
            Locale::Vi => format!("tháng {}/{}", p.from.month(), p.from.year()),
        };
        return Ok(Reply {
            text: say(
                locale,
                format!(
                    "{} is too far ahead to forecast: forecasts reach {horizon} months, from {} to {}.",
                    name(target),
                    name(this_month),
                    name(last)
                ),
                format!(
                    "{} còn quá xa để dự báo: dự báo chỉ đến {horizon} tháng, từ {} đến {}.",
                    capitalise(&name(target)),
                    name(this_month),
                    name(last)
                ),
            ),
            data: json!({"query": {"period": period_json(target), "category": entities.category, "currency": currency},
                "beyond_horizon": true, "horizon_months": horizon, "horizon": {"from": this_month.from, "to": last.to}}),
            follow_ups: vec![],
        });
    };
    let recent = predictions::forecasts_recent(conn, caller.ledger.id, today)?
        .series
        .into_iter()
        .find(|s| (s.period, s.category_id) == (ForecastPeriod::Month, category));
    let series = match recent {
        Some(series) => series,
        None => predictions::series_for(
            conn,
            caller.ledger.id,
            &currency,
            ForecastPeriod::Month,
            category,
            today,
            today,
        )?,
    };
    let rows = predictions::forecast_rows(&series, today, ahead + 1);
    let Some(row) = rows.get(ahead) else {
        return Err(ApiError::internal("forecast rows short"));
    };
    let month = describe(
        Period {
            from: row.period_start,
            to: row.period_end,
        },
        today,
        locale,
    );
    if row.method == crate::ml::forecast::Method::InsufficientHistory {
        return Ok(Reply {
            text: say(
                locale,
                format!("There is not enough history yet to forecast spending {month}: a forecast needs a few whole months of spending."),
                format!("Chưa đủ dữ liệu để dự báo chi tiêu {month}: cần vài tháng chi tiêu trọn vẹn."),
            ),
            data: json!({"query": {"period": {"from": row.period_start, "to": row.period_end}, "category": entities.category, "currency": currency},
                "method": row.method.as_str()}),
            follow_ups: vec![],
        });
    }
    let what = entities
        .category
        .as_ref()
        .map(|c| {
            say(
                locale,
                format!(" on {}", c.name),
                format!(" cho {}", c.name),
            )
        })
        .unwrap_or_default();
    let (x, low, high) = (
        amount(row.amount, &currency, locale),
        amount(row.lower, &currency, locale),
        amount(row.upper, &currency, locale),
    );
    let text = say(
        locale,
        format!("I expect you to spend about {x}{what} {month} (80% range {low} to {high}; method {}, confidence {}).", row.method.as_str(), row.confidence.as_str()),
        format!("Dự kiến bạn sẽ chi khoảng {x}{what} {month} (khoảng 80%: {low} đến {high}; phương pháp {}, độ tin cậy {}).", row.method.as_str(), row.confidence.as_str()),
    );
    Ok(Reply {
        text,
        data: json!({"query": {"period": {"from": row.period_start, "to": row.period_end}, "category": entities.category, "currency": currency},
            "amount": Money(row.amount), "lower": Money(row.lower), "upper": Money(row.upper), "method": row.method.as_str(), "confidence": row.confidence.as_str(),
            "months_ahead": ahead}),
        follow_ups: vec![],
    })
}

fn budget_answer(
    conn: &mut PgConnection,
    caller: &Caller,
    locale: Locale,
    intent: &str,
    entities: &AssistantEntities,
    today: NaiveDate,
    ledger: &LedgerNames,
) -> Result<Reply, ApiError> {
    let rows = ledger.budgets.clone();
    let rows: Vec<_> = match (&entities.budget, &entities.category) {
        _ if intent == "budget_closest" => rows,
        (Some(b), _) => rows.into_iter().filter(|r| r.id == b.id).collect(),
        (None, Some(c)) => rows
            .into_iter()
            .filter(|b| b.category_ids().contains(&c.id))
            .collect(),
        (None, None) => rows,
    };
    let evaluations: Vec<_> = super::budgets::evaluate_kept(conn, caller.ledger.id, rows, today)?
        .into_iter()
        .filter(|e| e.span.is_some())
        .collect();
    if evaluations.is_empty() {
        let text = match (&entities.category, locale) {
            (Some(c), Locale::En) => format!("You have no budget running for {}.", c.name),
            (Some(c), Locale::Vi) => format!("Bạn chưa có ngân sách nào cho {}.", c.name),
            (None, Locale::En) => "You have no budgets running.".into(),
            (None, Locale::Vi) => "Bạn chưa có ngân sách nào đang chạy.".into(),
        };
        return Ok(Reply {
            text,
            data: json!({"budgets": []}),
            follow_ups: vec![],
        });
    }
    struct Line {
        name: String,
        currency: String,
        spent: Decimal,
        limit: Decimal,
        remaining: Decimal,
        progress: Decimal,
        projected: Decimal,
        days_left: i64,
        end: NaiveDate,
        data: Value,
    }
    let mut lines: Vec<Line> = evaluations
        .into_iter()
        .filter_map(|e| {
            let span = e.span?;
            let elapsed = Decimal::from((today.min(span.end) - span.start).num_days() + 1);
            let projected = (e.spent * Decimal::from(span.days()) / elapsed).round_dp(2);
            let progress = if e.limit > Decimal::ZERO { (e.spent * Decimal::ONE_HUNDRED / e.limit).round_dp(1) } else { Decimal::ZERO };
            let remaining = e.limit - e.spent;
            Some(Line {
                data: json!({"id": e.budget.id, "name": e.budget.name, "currency": e.budget.currency,
                    "period": {"from": span.start, "to": span.end}, "limit": Money(e.limit), "spent": Money(e.spent),
                    "remaining": Money(remaining), "progress_pct": Money(progress), "projected_spent": Money(projected),
                    "on_track": projected <= e.limit, "days_left": e.days_left}),
                name: e.budget.name.clone(),
                currency: e.budget.currency.clone(),
                spent: e.spent,
                limit: e.limit,
                remaining,
                progress,
                projected,
                days_left: e.days_left,
                end: span.end,
            })
        })
        .collect();
    lines.sort_by(|a, b| b.progress.cmp(&a.progress).then(a.name.cmp(&b.name)));
    let describe_line = |l: &Line| -> String {
        let (s, lim, proj) = (
            amount(l.spent, &l.currency, locale),
            amount(l.limit, &l.currency, locale),
            amount(l.projected, &l.currency, locale),
        );
        let on_track = l.projected <= l.limit;
        match locale {
            Locale::En => format!(
                "{}: {s} of {lim} spent ({}), {} day{} left; at this pace {proj} by {}, {}",
                l.name, percent(l.progress, locale), l.days_left, if l.days_left == 1 { "" } else { "s" }, l.end,
                if on_track { "on track".to_owned() } else { format!("over by {}", amount(l.projected - l.limit, &l.currency, locale)) }
            ),
            Locale::Vi => format!(
                "{}: đã chi {s} trên {lim} ({}), còn {} ngày; với tốc độ này sẽ là {proj} vào {}, {}",
                l.name, percent(l.progress, locale), l.days_left, l.end,
                if on_track { "vẫn trong hạn mức".to_owned() } else { format!("vượt {}", amount(l.projected - l.limit, &l.currency, locale)) }
            ),
        }
    };
    let data = json!({"query": {"category": entities.category, "budget": entities.budget, "as_of": today}, "budgets": lines.iter().map(|l| l.data.clone()).collect::<Vec<_>>()});
    let text = match intent {
        "budget_closest" => {
            let top = &lines[0];
            say(
                locale,
                format!("The budget closest to its limit is {}.", describe_line(top)),
                format!("Ngân sách gần vượt nhất là {}.", describe_line(top)),
            )
        }
        "budget_remaining" => {
            let parts: Vec<String> = lines
                .iter()
                .map(|l| {
                    let per_day = (l.remaining.max(Decimal::ZERO)
                        / Decimal::from(l.days_left.max(1)))
                    .round_dp(2);
                    if l.remaining >= Decimal::ZERO {
                        say(
                            locale,
                            format!(
                                "{} left in {} until {} ({} a day for {} day{})",
                                amount(l.remaining, &l.currency, locale),
                                l.name,
                                l.end,
                                amount(per_day, &l.currency, locale),
                                l.days_left.max(1),
                                if l.days_left.max(1) == 1 { "" } else { "s" }
                            ),
                            format!(
                                "{} còn {} đến {} ({} mỗi ngày trong {} ngày)",
                                l.name,
                                amount(l.remaining, &l.currency, locale),
                                l.end,
                                amount(per_day, &l.currency, locale),
                                l.days_left.max(1)
                            ),
                        )
                    } else {
                        say(
                            locale,
                            format!(
                                "{} is over its limit by {}",
                                l.name,
                                amount(-l.remaining, &l.currency, locale)
                            ),
                            format!(
                                "{} đã vượt hạn mức {}",
                                l.name,
                                amount(-l.remaining, &l.currency, locale)
                            ),
                        )
                    }
                })
                .collect();
            say(
                locale,
                format!("You have {}.", parts.join("; ")),
                format!("{}.", capitalise(&parts.join("; "))),
            )
        }
        _ => format!(
            "{}.",
            lines
                .iter()
                .map(describe_line)
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    Ok(Reply {
        text,
        data,
        follow_ups: vec![],
    })
}

fn afford(
    conn: &mut PgConnection,
    caller: &Caller,
    locale: Locale,
    entities: &AssistantEntities,
    today: NaiveDate,
    currency: &str,
) -> Result<Reply, ApiError> {
    let Some(price) = entities.amount.map(|m| m.0) else {
        return Ok(Reply {
            text: say(locale, "How much is it, and by when? For example: \"Can I afford 2,000 by December?\"".into(),
                "Món đó bao nhiêu tiền và khi nào? Ví dụ: \"Tôi có đủ 20 triệu vào tháng 12 không?\"".into()),
            data: json!({"missing": ["amount"]}),
            follow_ups: vec![],
        });
    };
    let date = entities.date.unwrap_or(today);
    let months = (date.year() - today.year()) * 12 + date.month() as i32 - today.month() as i32 + 1;
    // A simulation runs from this month for at most 120: a date it cannot reach is said so,
    // never answered as if it were another.
    if date < today || months > 120 {
        let (en, vi) = if date < today {
            (
                format!("{date} has passed: ask about a date from today on, for example \"Can I afford 2,000 by December?\""),
                format!("Ngày {date} đã qua: hãy hỏi về một ngày từ hôm nay trở đi, ví dụ \"Tôi có đủ 20 triệu vào tháng 12 không?\""),
            )
        } else {
            (
                format!("{date} is too far ahead: I plan at most 120 months, this month included."),
                format!("Ngày {date} quá xa: tôi chỉ dự tính tối đa 120 tháng, kể cả tháng này."),
            )
        };
        return Ok(Reply {
            text: say(locale, en, vi),
            data: json!({"unreachable": {"date": date, "today": today, "most_months": 120}}),
            follow_ups: vec![],
        });
    }
    let months = months as u32;
    let request = SimulateRequest {
        start: None,
        months,
        changes: vec![ScenarioChange::Expense(SimulatedFlow {
            amount: Money(price),
            date: Some(date),
            every: None,
            until: None,
            wallet_id: None,
            description: Some("the purchase".into()),
        })],
    };
    let result = super::scenarios::simulate(conn, caller, &request)?;
    let Some(last) = result.months.last() else {
        return Err(ApiError::internal("empty simulation"));
    };
    // Nothing to pay from: said so, not a "yes" on an empty projection.
    if last.wallets.is_empty() {
        return Ok(Reply {
            text: say(
                locale,
                format!("You have no wallet in {currency} to pay from, so I cannot project whether you can afford it: add one with its balance first."),
                format!("Bạn chưa có ví nào bằng {currency} để chi trả, nên tôi không thể dự tính: hãy thêm một ví với số dư trước."),
            ),
            data: json!({"missing": ["wallet"], "currency": currency}),
            follow_ups: vec![],
        });
    }
    let (total, low) = (last.total.0, last.low.0);
    let verdict = if low >= Decimal::ZERO {
        "yes"
    } else if total >= Decimal::ZERO {
        "tight"
    } else {
        "no"
    };
    let (p, t, l) = (
        amount(price, currency, locale),
        amount(total, currency, locale),
        amount(low, currency, locale),
    );
    let text = match (verdict, locale) {
        ("yes", Locale::En) => format!("Yes. After paying {p} on {date}, your wallets are projected to hold {t} at the end of that month (at worst {l}, 80% range)."),
        ("tight", Locale::En) => format!("Probably, but it is tight: after paying {p} on {date}, your wallets are projected at {t} at the end of that month, and could fall to {l}."),
        (_, Locale::En) => format!("Not on the current course: after paying {p} on {date}, your wallets are projected at {t} at the end of that month."),
        ("yes", Locale::Vi) => format!("Có. Sau khi trả {p} vào {date}, các ví của bạn dự kiến còn {t} vào cuối tháng đó (thấp nhất {l}, khoảng 80%)."),
        ("tight", Locale::Vi) => format!("Có thể, nhưng khá sát: sau khi trả {p} vào {date}, các ví dự kiến còn {t} vào cuối tháng đó, có thể xuống {l}."),
        (_, Locale::Vi) => format!("Với tình hình hiện tại thì không: sau khi trả {p} vào {date}, các ví dự kiến còn {t} vào cuối tháng đó."),
    };
    Ok(Reply {
        text,
        data: json!({"query": {"amount": Money(price), "date": date, "currency": currency, "scenario": request},
            "verdict": verdict, "projected_total": Money(total), "projected_low": Money(low), "projected_high": last.high,
            "month": last.month, "opening_total": result.opening_total}),
        follow_ups: vec![],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_in_the_locale_with_the_currency_decimals() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(amount(d("1250.5"), "USD", Locale::En), "1,250.50 USD");
        assert_eq!(amount(d("1500000"), "VND", Locale::Vi), "1.500.000 VND");
        assert_eq!(amount(d("-12.345"), "USD", Locale::Vi), "-12,35 USD");
        assert_eq!(amount(d("0"), "EUR", Locale::En), "0.00 EUR");
    }

    #[test]
    fn the_question_tells_its_language() {
        assert_eq!(detect_locale("tháng này tôi tiêu bao nhiêu"), Locale::Vi);
        assert_eq!(
            detect_locale("thang nay toi tieu bao nhieu cho an uong"),
            Locale::Vi
        );
        assert_eq!(detect_locale("how much did I spend on food"), Locale::En);
        assert_eq!(
            detect_locale("how much is left in my ăn uống budget?"),
            Locale::En
        );
        assert_eq!(detect_locale("ngan sach an uong con bao nhieu"), Locale::Vi);
    }
}
