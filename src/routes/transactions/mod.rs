pub mod csv;
pub mod dto;
pub mod handlers;
