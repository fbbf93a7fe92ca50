/// The request and response bodies, in `src/dto/rules.rs`.
pub use crate::dto::rules as dto;
pub mod handlers;
