/// The request and response bodies, in `src/dto/budgets.rs` (shared with the spec and `/sync`).
pub use crate::dto::budgets as dto;
pub mod handlers;
