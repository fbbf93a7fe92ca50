/// The request and response bodies, in `src/dto/bills.rs` (shared with the spec and `/sync`).
pub use crate::dto::bills as dto;
pub mod handlers;
