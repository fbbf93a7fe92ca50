use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::db::assistant::AnswerRow;
use crate::domain::money::Money;
use crate::domain::question::{AverageUnit, MAX_QUESTION_CHARS};

fn question_text(value: &str) -> Result<(), ValidationError> {
    let length = value.trim().chars().count();
    if length == 0 || length > MAX_QUESTION_CHARS {
        return Err(ValidationError::new("length").with_message(
            format!("must be between 1 and {MAX_QUESTION_CHARS} characters").into(),
        ));
    }
    crate::http::validate::plain_text(value)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    En,
    Vi,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Vi => "vi",
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"question": "How much did I spend on groceries last month?", "locale": "en"}))]
pub struct AskRequest {
    /// English or Vietnamese, with or without diacritics; at most 500 characters.
    #[validate(custom(function = "question_text"))]
    #[schema(min_length = 1, max_length = 500)]
    pub question: String,
    /// The answer's language; by default the question's.
    pub locale: Option<Locale>,
    /// Continue a conversation ("and last month?" refers to its previous question).
    pub conversation_id: Option<Uuid>,
}

/// One of the ledger's rows a question named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NamedRef {
    pub id: Uuid,
    pub name: String,
}

/// A date range, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// What the question was understood to name, resolved against the ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssistantEntities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<NamedRef>,
    /// A merchant as the ledger's transactions spell it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet: Option<NamedRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goal: Option<NamedRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<NamedRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<DateRange>,
    /// The second period of a comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare: Option<DateRange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<u32>,
    /// An average asked per `day`, `week` or `month` ("average monthly spending", "per week",
    /// "trung bình mỗi tháng"): spending and income are answered as the average over whole
    /// past periods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average: Option<AverageUnit>,
}

/// An answer: its text, and the figures and query behind every number in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerResponse {
    #[schema(
        example = "You spent 1,250.00 USD on Groceries last month (2026-05-01 to 2026-05-31), in 14 transactions."
    )]
    pub answer: String,
    /// `spending`, `budget_status`, `budget_remaining`, `budget_closest`, `biggest_expenses`,
    /// `compare_periods`, `income`, `net_savings`, `balance`, `forecast`, `upcoming_bills`,
    /// `unusual`, `subscriptions`, `goal_progress`, `afford`, `unknown_name` (the question
    /// names a category, merchant or budget the ledger does not have; the answer names the
    /// closest category), or `unknown` (not a question the assistant answers; the answer then
    /// lists what it can answer).
    pub intent: String,
    /// The classifier's probability of the intent.
    pub confidence: f64,
    pub entities: AssistantEntities,
    /// The figures and the query that produced them (per intent).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Questions that make sense next.
    pub follow_ups: Vec<String>,
    pub locale: Locale,
    pub conversation_id: Uuid,
    /// Give feedback with `POST /assistant/answers/{answer_id}/feedback`.
    pub answer_id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Feedback {
    Helpful,
    NotHelpful,
}

impl Feedback {
    pub fn as_str(self) -> &'static str {
        match self {
            Feedback::Helpful => "helpful",
            Feedback::NotHelpful => "not_helpful",
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rating": "not_helpful", "comment": "I meant groceries, not food"}))]
pub struct FeedbackRequest {
    pub rating: Feedback,
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub comment: Option<String>,
}

/// A logged question and its answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedAnswer {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub question: String,
    pub locale: String,
    pub intent: String,
    pub confidence: f64,
    #[schema(value_type = Object)]
    pub entities: serde_json::Value,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub answer: String,
    /// `helpful` or `not_helpful`.
    pub feedback: Option<String>,
    pub feedback_comment: Option<String>,
    pub feedback_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<AnswerRow> for LoggedAnswer {
    fn from(r: AnswerRow) -> Self {
        LoggedAnswer {
            id: r.id,
            conversation_id: r.conversation_id,
            question: r.question,
            locale: r.locale,
            intent: r.intent,
            confidence: f64::from(r.confidence),
            entities: r.entities,
            data: r.data,
            answer: r.answer,
            feedback: r.feedback,
            feedback_comment: r.feedback_comment,
            feedback_at: r.feedback_at,
            created_at: r.created_at,
        }
    }
}

/// `GET /assistant/answers` filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnswersQuery {
    /// Only this conversation's answers.
    pub conversation_id: Option<Uuid>,
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
}
