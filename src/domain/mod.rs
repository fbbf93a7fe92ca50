//! Pure rules and validated types: no actix, no diesel, no clock reads.

/// A closed set of names stored as text and sent as snake_case strings, with its parse and
/// its wire name in one place.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash,
            ::serde::Serialize, ::serde::Deserialize, ::utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(value: &str) -> Option<$name> {
                match value { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

pub mod csv_import;
pub mod currency;
pub mod device;
pub mod email;
pub mod file_type;
pub mod goal;
pub mod ledger;
pub mod money;
pub mod notification;
pub mod password;
pub mod period;
pub mod question;
pub mod receipt;
pub mod rule;
pub mod sharing;
pub mod spreadsheet;
pub mod statement;
pub mod transaction;
pub mod user;
pub mod version;
pub mod webhook;
