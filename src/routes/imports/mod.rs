/// The request and response bodies, in `src/dto/imports.rs`.
pub use crate::dto::imports as dto;
pub mod handlers;
