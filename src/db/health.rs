//! What `/ready` asks the database.

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

#[derive(Debug, QueryableByName)]
pub struct DatabaseStatus {
    #[diesel(sql_type = Nullable<Text>)]
    pub schema_version: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub installation_id: Option<Uuid>,
}

/// One round trip: proves the connection works and reports the applied schema version.
pub fn status(conn: &mut PgConnection) -> QueryResult<DatabaseStatus> {
    diesel::sql_query(
        "SELECT (SELECT max(version) FROM __diesel_schema_migrations) AS schema_version, \
                (SELECT id FROM schema_info LIMIT 1) AS installation_id",
    )
    .get_result(conn)
}
