/// The request and response bodies, in `src/dto/insights.rs` (shared with the spec and `/sync`).
pub use crate::dto::insights as dto;
pub mod handlers;
