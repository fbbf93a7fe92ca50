/// The request and response bodies, in `src/dto/health.rs` (shared with the spec and `/sync`).
pub use crate::dto::health as dto;
pub mod handlers;
