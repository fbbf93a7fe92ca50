/// The request and response bodies, in `src/dto/users.rs` (shared with the spec and `/sync`).
pub use crate::dto::users as dto;
pub mod handlers;
pub mod two_factor;
