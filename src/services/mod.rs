//! The application's use cases, between the HTTP routes (and the background jobs) above and
//! the database queries and pure rules below. Each is a plain function of a connection, the
//! [`Caller`](caller::Caller) (or the owner a job acts for) and its inputs, returning a result
//! or an `ApiError`. The one ledger write path lives here, and every rule that spans resources.

pub mod accounts;
pub mod alerts;
pub mod assistant;
pub mod attachments;
pub mod bills;
pub mod budgets;
pub mod cache;
pub mod caller;
pub mod categories;
pub mod csv;
pub mod events;
pub mod exports;
pub mod goals;
pub mod imports;
pub mod insights;
pub mod ledger;
pub mod notification_mail;
pub mod personal_tokens;
pub mod predictions;
pub mod receipts;
pub mod reports;
pub mod rules;
pub mod scenarios;
pub mod sessions;
pub mod sharing;
pub mod stream;
pub mod transactions;
pub mod two_factor;
pub mod webhooks;
