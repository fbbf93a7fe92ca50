//! Pure rules and validated types: no actix, no diesel, no clock reads.

pub mod csv_import;
pub mod currency;
pub mod email;
pub mod ledger;
pub mod money;
pub mod password;
pub mod period;
pub mod transaction;
pub mod user;
