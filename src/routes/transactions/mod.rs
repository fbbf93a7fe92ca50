pub mod csv;
/// The request and response bodies, in `src/dto/transactions.rs` (shared with the spec and `/sync`).
pub use crate::dto::transactions as dto;
pub mod handlers;
