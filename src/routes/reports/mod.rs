/// The request and response bodies, in `src/dto/reports.rs` (shared with the spec and `/sync`).
pub use crate::dto::reports as dto;
pub mod handlers;
