/// The request and response bodies, in `src/dto/notifications.rs` (shared with the spec and `/sync`).
pub use crate::dto::notifications as dto;
pub mod handlers;
