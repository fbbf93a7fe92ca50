/// The request and response bodies, in `src/dto/wallets.rs` (shared with the spec and `/sync`).
pub use crate::dto::wallets as dto;
pub mod handlers;
