/// The request and response bodies, in `src/dto/assistant.rs`.
pub use crate::dto::assistant as dto;
pub mod handlers;
