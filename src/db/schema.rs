// @generated automatically by Diesel CLI.

diesel::table! {
    schema_info (id) {
        id -> Uuid,
        installed_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        singleton -> Bool,
    }
}
