/// The request and response bodies, in `src/dto/predictions.rs` (shared with the spec and `/sync`).
pub use crate::dto::predictions as dto;
pub mod handlers;
