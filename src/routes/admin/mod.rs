/// The request and response bodies, in `src/dto/admin.rs` (shared with the spec and `/sync`).
pub use crate::dto::admin as dto;
pub mod handlers;
