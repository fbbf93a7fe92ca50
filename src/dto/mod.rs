//! Request and response bodies (DTOs) of every resource: what goes over the wire, with its
//! validation rules and OpenAPI schema. Each `routes/<resource>` module reaches its own as
//! `dto`; the ones several resources share (a transaction inside a bill payment, every resource
//! inside `/sync`) are named from here, so no route module imports another.

pub mod admin;
pub mod assistant;
pub mod auth;
pub mod bills;
pub mod budgets;
pub mod categories;
pub mod events;
pub mod goals;
pub mod health;
pub mod imports;
pub mod insights;
pub mod ledgers;
pub mod notifications;
pub mod personal_tokens;
pub mod predictions;
pub mod receipts;
pub mod recurring;
pub mod reports;
pub mod rules;
pub mod scenarios;
pub mod sync;
pub mod transactions;
pub mod two_factor;
pub mod users;
pub mod wallets;
pub mod webhooks;

/// The answer to a DELETE.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Deleted {
    pub id: uuid::Uuid,
    pub deleted: bool,
}
