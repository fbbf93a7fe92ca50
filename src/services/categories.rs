//! Category rules that need the database: sibling names that stay distinct.

use diesel::PgConnection;
use uuid::Uuid;

use crate::db::categories;
use crate::domain::csv_import::name_key;
use crate::error::ApiError;

fn name_conflict() -> ApiError {
    ApiError::Conflict {
        code: "category_name_taken",
        message: "A category with this name already exists at this place in the tree.".into(),
    }
}

/// Unique-name violations become 409 `category_name_taken`.
pub fn name_taken(error: diesel::result::Error) -> ApiError {
    match ApiError::from(error) {
        ApiError::Conflict { .. } => name_conflict(),
        other => other,
    }
}

/// Sibling names must differ by more than case (in any script) and spacing: what the database's
/// unique index compares depends on its locale, and names are matched this way elsewhere (CSV
/// import finds categories by name), so two that match alike would be one.
pub fn ensure_name_free(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    parent: Option<Uuid>,
    name: &str,
    except: Option<Uuid>,
) -> Result<(), ApiError> {
    let key = name_key(name);
    if categories::sibling_names(conn, ledger_id, parent, except)?
        .iter()
        .any(|sibling| name_key(sibling) == key)
    {
        return Err(name_conflict());
    }
    Ok(())
}
