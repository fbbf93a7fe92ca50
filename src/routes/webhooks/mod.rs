/// The request and response bodies, in `src/dto/webhooks.rs`.
pub use crate::dto::webhooks as dto;
pub mod handlers;
