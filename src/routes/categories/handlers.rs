//! `/api/v1/categories` and their quick-pick descriptions.

use std::collections::HashMap;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use uuid::Uuid;

use super::dto::*;
use crate::auth::Caller;
use crate::db;
use crate::db::categories::{self, Category, CategoryChangeset, NewCategory};
use crate::domain::ledger::CategoryKind;
use crate::dto::Deleted;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Envelope, Page, PageMeta, PageQuery, ValidatedJson};
use crate::services::alerts::{self, BudgetsToCheck};
use crate::services::categories::{ensure_name_free, name_taken};
use crate::state::AppState;

fn not_found() -> ApiError {
    ApiError::not_found("Category")
}

fn too_deep() -> ApiError {
    ApiError::invalid_field("parent_id", "would nest categories more than 5 levels deep")
}

fn kind_of(category: &Category) -> CategoryKind {
    CategoryKind::parse(&category.kind).unwrap_or(CategoryKind::Expense)
}

/// Nests `rows` under their parents, each level by name.
fn build_tree(rows: Vec<Category>) -> Vec<CategoryResponse> {
    let mut children: HashMap<Option<Uuid>, Vec<Category>> = HashMap::new();
    for row in rows {
        children.entry(row.parent_id).or_default().push(row);
    }
    fn attach(
        parent: Option<Uuid>,
        children: &mut HashMap<Option<Uuid>, Vec<Category>>,
    ) -> Vec<CategoryResponse> {
        children
            .remove(&parent)
            .unwrap_or_default()
            .into_iter()
            .map(|row| {
                let id = row.id;
                let mut node = CategoryResponse::from(row);
                node.children = Some(attach(Some(id), children));
                node
            })
            .collect()
    }
    attach(None, &mut children)
}

/// The caller's categories: a flat page, or with `?tree=true` the whole tree.
#[utoipa::path(
    tag = "categories",
    operation_id = "list_categories",
    summary = "List categories (flat or as a tree)",
    params(CategoryListQuery),
    responses((status = 200, description = "Categories", body = Envelope<Vec<CategoryResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/categories")]
pub async fn list_categories(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<CategoryListQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let page = Page::new(query.page, query.per_page)?;
    let mut rows = db::run(&state.pool, move |conn| {
        categories::all(conn, caller.ledger.id)
    })
    .await?;
    if let Some(kind) = query.kind {
        rows.retain(|row| kind_of(row) == kind);
    }
    if query.tree.unwrap_or(false) {
        // The whole tree on one page: a tree cannot be cut into pages.
        let total = rows.len() as i64;
        let meta = PageMeta {
            page: 1,
            per_page: total.max(1),
            total_items: total,
            total_pages: i64::from(total > 0),
        };
        return Ok(Envelope::new(build_tree(rows)).with_meta(meta).ok());
    }
    let (rows, meta) = page.cut(rows);
    let data: Vec<CategoryResponse> = rows.into_iter().map(CategoryResponse::from).collect();
    Ok(Envelope::new(data).with_meta(meta).ok())
}

/// Create a category, top-level or under a parent of the same kind.
#[utoipa::path(
    tag = "categories",
    operation_id = "create_category",
    summary = "Create a category",
    request_body = CreateCategoryRequest,
    responses(
        (status = 201, description = "The new category", body = Envelope<CategoryResponse>),
        (status = 404, description = "`not_found`: no such parent", body = ErrorBody),
        (status = 409, description = "`category_name_taken`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/categories")]
pub async fn create_category(
    state: web::Data<AppState>,
    caller: Caller,
    body: ValidatedJson<CreateCategoryRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let category = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            let kind = match body.parent_id {
                Some(parent_id) => {
                    let parent = categories::find(conn, caller.ledger.id, parent_id)?
                        .ok_or_else(|| ApiError::not_found("Parent category"))?;
                    if categories::depth(conn, caller.ledger.id, parent_id)?
                        >= categories::MAX_DEPTH
                    {
                        return Err(too_deep());
                    }
                    let parent_kind = kind_of(&parent);
                    if body.kind.is_some_and(|kind| kind != parent_kind) {
                        return Err(ApiError::invalid_field(
                            "kind",
                            "must match the parent category's kind",
                        ));
                    }
                    parent_kind
                }
                None => body.kind.ok_or_else(|| {
                    ApiError::invalid_field("kind", "is required for a top-level category")
                })?,
            };
            ensure_name_free(conn, caller.ledger.id, body.parent_id, &body.name, None)?;
            categories::insert(
                conn,
                &NewCategory {
                    ledger_id: caller.ledger.id,
                    parent_id: body.parent_id,
                    name: body.name.trim(),
                    kind: kind.as_str(),
                    icon: body.icon.as_deref().map(str::trim),
                    color: body.color.as_deref(),
                },
            )
            .map_err(name_taken)
        })
    })
    .await?;
    let location = format!("/api/v1/categories/{}", category.id);
    Ok(Envelope::new(CategoryResponse::from(category)).created(&location))
}

/// One category.
#[utoipa::path(
    tag = "categories",
    operation_id = "get_category",
    summary = "Get a category",
    params(("id" = Uuid, Path, description = "Category id")),
    responses((status = 200, description = "The category", body = Envelope<CategoryResponse>)),
    security(("bearer_auth" = []))
)]
#[get("/categories/{id}")]
pub async fn get_category(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let category = db::run(&state.pool, move |conn| {
        categories::find(conn, caller.ledger.id, id)
    })
    .await?
    .ok_or_else(not_found)?;
    Ok(Envelope::new(CategoryResponse::from(category)).ok())
}

/// Rename, move (never under itself or its own descendants, never across kinds), or change
/// the icon and colour.
#[utoipa::path(
    tag = "categories",
    operation_id = "update_category",
    summary = "Update a category",
    params(("id" = Uuid, Path, description = "Category id")),
    request_body = UpdateCategoryRequest,
    responses(
        (status = 200, description = "The updated category", body = Envelope<CategoryResponse>),
        (status = 409, description = "`category_name_taken`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[patch("/categories/{id}")]
pub async fn update_category(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<UpdateCategoryRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let body = body.into_inner();
    let category = db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            let current = categories::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
            if let Some(Some(parent_id)) = body.parent_id {
                let parent = categories::find(conn, caller.ledger.id, parent_id)?
                    .ok_or_else(|| ApiError::not_found("Parent category"))?;
                if kind_of(&parent) != kind_of(&current) {
                    return Err(ApiError::invalid_field(
                        "parent_id",
                        "must be a category of the same kind",
                    ));
                }
                if categories::subtree_ids(conn, caller.ledger.id, id)?.contains(&parent_id) {
                    return Err(ApiError::invalid_field(
                        "parent_id",
                        "cannot be the category itself or one of its sub-categories",
                    ));
                }
                if categories::depth(conn, caller.ledger.id, parent_id)?
                    + categories::height(conn, caller.ledger.id, id)?
                    > categories::MAX_DEPTH
                {
                    return Err(too_deep());
                }
            }
            let changes = CategoryChangeset {
                name: body.name.map(|n| n.trim().to_owned()),
                parent_id: body.parent_id,
                icon: body.icon.map(|icon| icon.map(|i| i.trim().to_owned())),
                color: body.color,
            };
            if changes.name.is_none()
                && changes.parent_id.is_none()
                && changes.icon.is_none()
                && changes.color.is_none()
            {
                return Ok(current);
            }
            if changes.name.is_some() || changes.parent_id.is_some() {
                let name = changes.name.as_deref().unwrap_or(&current.name);
                let parent = changes.parent_id.unwrap_or(current.parent_id);
                ensure_name_free(conn, caller.ledger.id, parent, name, Some(id))?;
            }
            let moved = changes.parent_id.is_some_and(|p| p != current.parent_id);
            let category =
                categories::update(conn, caller.ledger.id, id, &changes).map_err(name_taken)?;
            if moved {
                // Its spending now counts toward the budgets of its new parents.
                alerts::check_budgets(
                    conn,
                    caller.ledger.id,
                    caller.today(),
                    BudgetsToCheck::Tracking(&[id]),
                )?;
            }
            Ok(category)
        })
    })
    .await?;
    Ok(Envelope::new(CategoryResponse::from(category)).ok())
}

/// Delete a category. One that transactions, split lines, budgets, bills, recurring
/// transactions or rules use needs `?reassign_to=` (a category of the same kind), which moves all of
/// them there first, in the same database transaction.
#[utoipa::path(
    tag = "categories",
    operation_id = "delete_category",
    summary = "Delete a category",
    params(("id" = Uuid, Path, description = "Category id"), DeleteCategoryQuery),
    responses(
        (status = 200, description = "Deleted", body = Envelope<Deleted>),
        (status = 409, description = "`category_in_use` (pass `reassign_to`) or `category_has_children`", body = ErrorBody),
        (status = 422, description = "`reassign_to` is the category itself or of the other kind", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[delete("/categories/{id}")]
pub async fn delete_category(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<DeleteCategoryQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let reassign_to = query.reassign_to;
    db::run(&state.pool, move |conn| {
        db::ledger_transaction::<_, ApiError, _>(conn, caller.ledger.id, |conn| {
            let category = categories::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
            if categories::has_children(conn, caller.ledger.id, id)? {
                return Err(ApiError::Conflict {
                    code: "category_has_children",
                    message: "Move or delete its sub-categories first.".into(),
                });
            }
            if let Some(target_id) = reassign_to {
                let target = categories::find(conn, caller.ledger.id, target_id)?
                    .ok_or_else(|| ApiError::not_found("Category to reassign to"))?;
                if target_id == id {
                    return Err(ApiError::invalid_field(
                        "reassign_to",
                        "must be another category",
                    ));
                }
                if kind_of(&target) != kind_of(&category) {
                    return Err(ApiError::invalid_field(
                        "reassign_to",
                        "must be a category of the same kind",
                    ));
                }
                categories::reassign(conn, caller.ledger.id, id, target_id)?;
                // Its spending now counts toward the budgets of the category it went to.
                alerts::check_budgets(
                    conn,
                    caller.ledger.id,
                    caller.today(),
                    BudgetsToCheck::Tracking(&[target_id]),
                )?;
            } else if categories::in_use(conn, caller.ledger.id, id)? {
                return Err(ApiError::Conflict {
                    code: "category_in_use",
                    message:
                        "Transactions, budgets, bills, recurring transactions or rules use this category; \
                         pass ?reassign_to={id} to move them there first."
                            .into(),
                });
            }
            categories::delete(conn, caller.ledger.id, id)?;
            Ok(())
        })
    })
    .await?;
    Ok(Envelope::new(Deleted { id, deleted: true }).ok())
}

/// The category's quick-pick descriptions.
#[utoipa::path(
    tag = "categories",
    operation_id = "list_category_descriptions",
    summary = "List a category's standard descriptions",
    params(("id" = Uuid, Path, description = "Category id"), PageQuery),
    responses((status = 200, description = "A page of descriptions", body = Envelope<Vec<DescriptionResponse>>)),
    security(("bearer_auth" = []))
)]
#[get("/categories/{id}/descriptions")]
pub async fn list_descriptions(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = query.page()?;
    let id = id.into_inner();
    let rows = db::run(&state.pool, move |conn| {
        categories::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
        categories::descriptions(conn, caller.ledger.id, id).map_err(ApiError::from)
    })
    .await?;
    let (rows, meta) = page.cut(rows);
    let data: Vec<DescriptionResponse> = rows.into_iter().map(DescriptionResponse::from).collect();
    Ok(Envelope::new(data).with_meta(meta).ok())
}

/// Add a quick-pick description.
#[utoipa::path(
    tag = "categories",
    operation_id = "create_category_description",
    summary = "Add a standard description",
    params(("id" = Uuid, Path, description = "Category id")),
    request_body = CreateDescriptionRequest,
    responses(
        (status = 201, description = "The new description", body = Envelope<DescriptionResponse>),
        (status = 409, description = "`description_exists`", body = ErrorBody),
    ),
    security(("bearer_auth" = []))
)]
#[post("/categories/{id}/descriptions")]
pub async fn create_description(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    body: ValidatedJson<CreateDescriptionRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let text = body.into_inner().text.trim().to_owned();
    // Under the ledger's lock, as the category's own writes are: a category deleted at the
    // same time is gone (404) before the insert looks, never a foreign-key "conflict".
    let row = db::run(&state.pool, move |conn| {
        db::ledger_transaction(conn, caller.ledger.id, |conn| {
            categories::find(conn, caller.ledger.id, id)?.ok_or_else(not_found)?;
            categories::insert_description(conn, caller.ledger.id, id, &text).map_err(|e| {
                match ApiError::from(e) {
                    ApiError::Conflict { .. } => ApiError::Conflict {
                        code: "description_exists",
                        message: "This category already has that description.".into(),
                    },
                    other => other,
                }
            })
        })
    })
    .await?;
    let location = format!("/api/v1/categories/{id}/descriptions");
    Ok(Envelope::new(DescriptionResponse::from(row)).created(&location))
}

/// Remove a quick-pick description.
#[utoipa::path(
    tag = "categories",
    operation_id = "delete_category_description",
    summary = "Remove a standard description",
    params(
        ("id" = Uuid, Path, description = "Category id"),
        ("desc_id" = Uuid, Path, description = "Description id")
    ),
    responses((status = 200, description = "Deleted", body = Envelope<Deleted>)),
    security(("bearer_auth" = []))
)]
#[delete("/categories/{id}/descriptions/{desc_id}")]
pub async fn delete_description(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, desc_id) = path.into_inner();
    let deleted = db::run(&state.pool, move |conn| {
        categories::delete_description(conn, caller.ledger.id, id, desc_id)
    })
    .await?;
    if deleted == 0 {
        return Err(ApiError::not_found("Description"));
    }
    Ok(Envelope::new(Deleted {
        id: desc_id,
        deleted: true,
    })
    .ok())
}
