/// The request and response bodies, in `src/dto/scenarios.rs`.
pub use crate::dto::scenarios as dto;
pub mod handlers;
