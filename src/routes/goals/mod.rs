/// The request and response bodies, in `src/dto/goals.rs`.
pub use crate::dto::goals as dto;
pub mod handlers;
