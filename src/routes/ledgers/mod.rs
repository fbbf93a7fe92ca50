/// The request and response bodies, in `src/dto/ledgers.rs`.
pub use crate::dto::ledgers as dto;
pub mod handlers;
