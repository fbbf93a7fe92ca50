/// The request and response bodies, in `src/dto/auth.rs` (shared with the spec and `/sync`).
pub use crate::dto::auth as dto;
pub mod handlers;
