/// The request and response bodies, in `src/dto/recurring.rs` (shared with the spec and `/sync`).
pub use crate::dto::recurring as dto;
pub mod handlers;
