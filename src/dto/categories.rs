use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::db::categories::{Category, Description};
use crate::domain::ledger::CategoryKind;

/// A category, with its children when listed as a tree (`?tree=true`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryResponse {
    pub id: Uuid,
    #[schema(example = "Cafe")]
    pub name: String,
    pub kind: CategoryKind,
    pub parent_id: Option<Uuid>,
    #[schema(example = "mug-hot")]
    pub icon: Option<String>,
    #[schema(example = "#E4572E")]
    pub color: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Sub-categories (only filled in a tree listing).
    #[schema(no_recursion)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub children: Option<Vec<CategoryResponse>>,
}

impl From<Category> for CategoryResponse {
    fn from(row: Category) -> Self {
        CategoryResponse {
            id: row.id,
            name: row.name,
            kind: CategoryKind::parse(&row.kind).unwrap_or(CategoryKind::Expense),
            parent_id: row.parent_id,
            icon: row.icon,
            color: row.color,
            created_at: row.created_at,
            updated_at: row.updated_at,
            children: None,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Bubble tea", "parent_id": null, "kind": "expense", "icon": "mug-hot", "color": "#8E7DBE"}))]
pub struct CreateCategoryRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Required for a top-level category; a sub-category takes its parent's kind.
    pub kind: Option<CategoryKind>,
    pub parent_id: Option<Uuid>,
    #[validate(custom(function = "crate::http::validate::label"))]
    #[schema(min_length = 1, max_length = 50)]
    pub icon: Option<String>,
    #[validate(custom(function = "crate::http::validate::color"))]
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
}

/// Absent fields stay; `parent_id: null` makes it top-level; `icon`/`color: null` clear them.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Coffee shops", "parent_id": null}))]
pub struct UpdateCategoryRequest {
    #[validate(custom(function = "crate::http::validate::name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(custom(function = "crate::http::validate::label"))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 50)]
    pub icon: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::validate::double_option")]
    #[validate(custom(function = "crate::http::validate::color"))]
    #[schema(value_type = Option<String>, pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoryListQuery {
    /// Page number, from 1 (flat listing).
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 200 (default 50; flat listing).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
    /// Only this kind.
    pub kind: Option<CategoryKind>,
    /// Nest sub-categories under their parents (the whole tree, unpaginated).
    pub tree: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteCategoryQuery {
    /// Move everything that uses the category here first (a category of the same kind), in the
    /// same database transaction: its transactions and split lines, the budgets that track it
    /// (a budget already tracking both keeps one), its bills and recurring transactions.
    pub reassign_to: Option<Uuid>,
}

/// A quick-pick description for fast entry (e.g. "Morning coffee" under Cafe).
#[derive(Debug, Serialize, ToSchema)]
pub struct DescriptionResponse {
    pub id: Uuid,
    pub category_id: Uuid,
    #[schema(example = "Morning coffee")]
    pub text: String,
    pub created_at: DateTime<Utc>,
}

impl From<Description> for DescriptionResponse {
    fn from(row: Description) -> Self {
        DescriptionResponse {
            id: row.id,
            category_id: row.category_id,
            text: row.text,
            created_at: row.created_at,
        }
    }
}

fn description_text(value: &str) -> Result<(), ValidationError> {
    let length = value.trim().chars().count();
    if (1..=200).contains(&length) {
        Ok(())
    } else {
        Err(ValidationError::new("length")
            .with_message("must be between 1 and 200 characters long".into()))
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Morning coffee"}))]
pub struct CreateDescriptionRequest {
    #[validate(custom(function = "description_text"))]
    #[schema(min_length = 1, max_length = 200)]
    pub text: String,
}
