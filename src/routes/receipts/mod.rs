/// The request and response bodies, in `src/dto/receipts.rs`.
pub use crate::dto::receipts as dto;
pub mod handlers;
