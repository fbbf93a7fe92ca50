//! HTTP plumbing shared by every resource: the success envelope, the validating JSON
//! extractor, extractor error handlers and the middleware stack.

pub mod envelope;
pub mod extract;
pub mod middleware;

pub use envelope::{Envelope, PageMeta};
pub use extract::ValidatedJson;
