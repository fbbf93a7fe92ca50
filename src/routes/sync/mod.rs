/// The request and response bodies, in `src/dto/sync.rs` (shared with the spec and `/sync`).
pub use crate::dto::sync as dto;
pub mod handlers;
