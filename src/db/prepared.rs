//! Raw SQL that PostgreSQL parses and plans once per connection.
//!
//! diesel prepares and caches its DSL queries, but marks every `sql_query` as unsafe to cache,
//! so each call parses and plans the statement again. For the hot hand-written queries (the
//! transaction page, its count) planning cost more than execution: `perf` put 26 % of the
//! machine in `pg_plan_query` against 18 % in execution while listing (README, Performance).
//! [`Prepared`] wraps such a query and tells diesel it may cache it: diesel then keys the named
//! prepared statement by the SQL text and bind types, so each distinct SQL string is prepared
//! once per pooled connection, and PostgreSQL moves to its generic plan after five runs when
//! that plan looks no worse than a fresh one (which a `LIMIT $n` prevents: see
//! `transactions::list`).
//!
//! Only for SQL whose text comes from a small, bounded set (the hot shapes, not every filter
//! combination a client can send): each distinct text stays prepared for the life of the
//! connection, on both sides.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::QueryResult;

#[derive(Debug, Clone)]
pub struct Prepared<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// No static id: diesel falls back to the SQL text (and bind types) as the cache key.
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for Prepared<Q> {}
