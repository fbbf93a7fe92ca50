/// The request and response bodies, in `src/dto/categories.rs` (shared with the spec and `/sync`).
pub use crate::dto::categories as dto;
pub mod handlers;
