//! HTTP plumbing shared by every resource: the success envelope, the validating JSON
//! extractor, extractor error handlers and the middleware stack.

pub mod context;
pub mod envelope;
pub mod extract;
pub mod idempotency;
pub mod ledger_scope;
pub mod middleware;
pub mod pagination;
pub mod validate;

pub use envelope::{Envelope, FileBody, PageMeta};
pub use extract::{JsonOrForm, ValidatedJson};
pub use pagination::{Page, PageQuery};
