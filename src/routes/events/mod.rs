/// The frames and commands, in `src/dto/events.rs` (shared with the spec).
pub use crate::dto::events as dto;
pub mod handlers;
