//! Queries on `ledgers`, `ledger_members` and `ledger_invitations`.

use chrono::{DateTime, Utc};
use diesel::dsl::count_star;
use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::schema::{ledger_invitations, ledger_members, ledgers, users};

diesel::define_sql_function! {
    fn lower(x: Text) -> Text;
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = ledgers)]
pub struct Ledger {
    pub id: Uuid,
    pub kind: String,
    pub name: String,
    pub currency: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A ledger with the role of the member who reaches it and its number of members.
#[derive(Debug, Clone, QueryableByName)]
pub struct MemberLedger {
    #[diesel(embed)]
    pub ledger: Ledger,
    #[diesel(sql_type = Text)]
    pub role: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub members: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = ledgers)]
pub struct NewLedger<'a> {
    pub id: Uuid,
    pub kind: &'a str,
    pub name: &'a str,
    pub currency: &'a str,
}

/// Only the `Some` fields change.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = ledgers)]
pub struct LedgerChangeset {
    pub name: Option<String>,
    pub currency: Option<String>,
    pub kind: Option<String>,
}

/// Creates a ledger with its first owner.
pub fn insert(conn: &mut PgConnection, ledger: &NewLedger, owner: Uuid) -> QueryResult<Ledger> {
    conn.transaction(|conn| {
        let created = diesel::insert_into(ledgers::table)
            .values(ledger)
            .returning(Ledger::as_returning())
            .get_result(conn)?;
        add_member(conn, created.id, owner, "owner")?;
        Ok(created)
    })
}

/// The ledger as `user` reaches it, with their role; `None` when they are not a member.
pub fn access(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    user: Uuid,
) -> QueryResult<Option<(Ledger, String)>> {
    ledgers::table
        .inner_join(ledger_members::table)
        .filter(ledgers::id.eq(ledger_id))
        .filter(ledger_members::user_id.eq(user))
        .select((Ledger::as_select(), ledger_members::role))
        .first(conn)
        .optional()
}

/// Every ledger `user` belongs to, personal first, then oldest first.
pub fn of_member(conn: &mut PgConnection, user: Uuid) -> QueryResult<Vec<MemberLedger>> {
    diesel::sql_query(
        "SELECT l.id, l.kind, l.name, l.currency, l.created_at, l.updated_at, m.role, \
                (SELECT count(*) FROM ledger_members o WHERE o.ledger_id = l.id) AS members \
         FROM ledger_members m JOIN ledgers l ON l.id = m.ledger_id \
         WHERE m.user_id = $1 \
         ORDER BY l.kind <> 'personal', l.created_at, l.id",
    )
    .bind::<SqlUuid, _>(user)
    .load(conn)
}

pub fn update(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    changes: &LedgerChangeset,
) -> QueryResult<Ledger> {
    diesel::update(ledgers::table.find(ledger_id))
        .set(changes)
        .returning(Ledger::as_returning())
        .get_result(conn)
}

/// Keeps a personal ledger's currency that of its account.
pub fn follow_account_currency(
    conn: &mut PgConnection,
    user: Uuid,
    currency: &str,
) -> QueryResult<usize> {
    diesel::update(
        ledgers::table
            .filter(ledgers::id.eq(user))
            .filter(ledgers::kind.eq("personal")),
    )
    .set(ledgers::currency.eq(currency))
    .execute(conn)
}

/// Deletes the ledger and everything in it. Rows that point at its categories and wallets go
/// first, so the cascade from `ledgers` never meets a row still pointing at one.
pub fn delete(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<usize> {
    for table in ["recurring_transactions", "bills", "budgets", "transactions"] {
        diesel::sql_query(format!("DELETE FROM {table} WHERE ledger_id = $1"))
            .bind::<SqlUuid, _>(ledger_id)
            .execute(conn)?;
    }
    diesel::delete(ledgers::table.find(ledger_id)).execute(conn)
}

/// The time zone a ledger's days are counted in: its longest-standing owner's.
pub fn timezone(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<Option<String>> {
    ledger_members::table
        .inner_join(users::table)
        .filter(ledger_members::ledger_id.eq(ledger_id))
        .filter(ledger_members::role.eq("owner"))
        .order((ledger_members::joined_at, ledger_members::user_id))
        .select(users::timezone)
        .first(conn)
        .optional()
}

pub fn currency(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<Option<String>> {
    ledgers::table
        .find(ledger_id)
        .select(ledgers::currency)
        .first(conn)
        .optional()
}

/// A member as the members list shows them.
#[derive(Debug, Clone, Queryable)]
pub struct Member {
    pub user_id: Uuid,
    pub role: String,
    pub joined_at: DateTime<Utc>,
    pub name: String,
    pub email: String,
}

pub fn members(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<Vec<Member>> {
    ledger_members::table
        .inner_join(users::table)
        .filter(ledger_members::ledger_id.eq(ledger_id))
        .order((ledger_members::joined_at, ledger_members::user_id))
        .select((
            ledger_members::user_id,
            ledger_members::role,
            ledger_members::joined_at,
            users::name,
            users::email,
        ))
        .load(conn)
}

pub fn member(conn: &mut PgConnection, ledger_id: Uuid, user: Uuid) -> QueryResult<Option<Member>> {
    ledger_members::table
        .inner_join(users::table)
        .filter(ledger_members::ledger_id.eq(ledger_id))
        .filter(ledger_members::user_id.eq(user))
        .select((
            ledger_members::user_id,
            ledger_members::role,
            ledger_members::joined_at,
            users::name,
            users::email,
        ))
        .first(conn)
        .optional()
}

/// Locks the ledger's member rows until the transaction ends, so two changes of its members
/// (two owners demoting each other) see each other and the last owner stays.
pub fn lock_members(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<()> {
    ledger_members::table
        .filter(ledger_members::ledger_id.eq(ledger_id))
        .select(ledger_members::user_id)
        .for_update()
        .load::<Uuid>(conn)
        .map(|_| ())
}

/// Locks the memberships of every ledger the user belongs to, ledger by ledger in id order (as
/// [`lock_members`] does for one), so that no change of members runs beside what reads them.
pub fn lock_members_of_ledgers_of(conn: &mut PgConnection, user: Uuid) -> QueryResult<()> {
    diesel::sql_query(
        "SELECT m.user_id FROM ledger_members m \
         WHERE m.ledger_id IN (SELECT ledger_id FROM ledger_members WHERE user_id = $1) \
         ORDER BY m.ledger_id, m.user_id FOR UPDATE",
    )
    .bind::<SqlUuid, _>(user)
    .execute(conn)
    .map(|_| ())
}

pub fn owners(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<i64> {
    ledger_members::table
        .filter(ledger_members::ledger_id.eq(ledger_id))
        .filter(ledger_members::role.eq("owner"))
        .select(count_star())
        .get_result(conn)
}

pub fn add_member(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    user: Uuid,
    role: &str,
) -> QueryResult<usize> {
    diesel::insert_into(ledger_members::table)
        .values((
            ledger_members::ledger_id.eq(ledger_id),
            ledger_members::user_id.eq(user),
            ledger_members::role.eq(role),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
}

pub fn set_role(
    conn: &mut PgConnection,
    ledger_id: Uuid,
    user: Uuid,
    role: &str,
) -> QueryResult<usize> {
    diesel::update(ledger_members::table.find((ledger_id, user)))
        .set(ledger_members::role.eq(role))
        .execute(conn)
}

pub fn remove_member(conn: &mut PgConnection, ledger_id: Uuid, user: Uuid) -> QueryResult<usize> {
    diesel::delete(ledger_members::table.find((ledger_id, user))).execute(conn)
}

/// What leaving every ledger would mean for an account about to be deleted: the shared ledgers
/// it is the only member of (they go with it), and those it is the last owner of while others
/// stay (which stop the deletion).
#[derive(Debug, Clone, QueryableByName)]
pub struct Standing {
    #[diesel(sql_type = SqlUuid)]
    pub ledger_id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub alone: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub last_owner: bool,
}

pub fn standing(conn: &mut PgConnection, user: Uuid) -> QueryResult<Vec<Standing>> {
    diesel::sql_query(
        "SELECT l.id AS ledger_id, l.name, \
                NOT EXISTS (SELECT 1 FROM ledger_members o \
                            WHERE o.ledger_id = l.id AND o.user_id <> $1) AS alone, \
                m.role = 'owner' AND NOT EXISTS ( \
                    SELECT 1 FROM ledger_members o WHERE o.ledger_id = l.id \
                      AND o.user_id <> $1 AND o.role = 'owner') AS last_owner \
         FROM ledger_members m JOIN ledgers l ON l.id = m.ledger_id \
         WHERE m.user_id = $1 ORDER BY l.created_at, l.id",
    )
    .bind::<SqlUuid, _>(user)
    .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ledger_invitations)]
pub struct Invitation {
    pub ledger_id: Uuid,
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub invited_by: Option<Uuid>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = ledger_invitations)]
pub struct NewInvitation<'a> {
    pub ledger_id: Uuid,
    pub email: &'a str,
    pub role: &'a str,
    pub token_hash: &'a str,
    pub invited_by: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// Records an invitation, replacing an open one to the same address (whose link stops working).
pub fn invite(conn: &mut PgConnection, invitation: &NewInvitation) -> QueryResult<Invitation> {
    conn.transaction(|conn| {
        diesel::update(
            ledger_invitations::table
                .filter(ledger_invitations::ledger_id.eq(invitation.ledger_id))
                .filter(lower(ledger_invitations::email).eq(invitation.email.to_lowercase()))
                .filter(ledger_invitations::status.eq("pending")),
        )
        .set((
            ledger_invitations::status.eq("revoked"),
            ledger_invitations::answered_at.eq(Utc::now()),
        ))
        .execute(conn)?;
        diesel::insert_into(ledger_invitations::table)
            .values(invitation)
            .returning(Invitation::as_returning())
            .get_result(conn)
    })
}

/// The ledger's invitations still open, oldest first.
pub fn open_invitations(conn: &mut PgConnection, ledger_id: Uuid) -> QueryResult<Vec<Invitation>> {
    ledger_invitations::table
        .filter(ledger_invitations::ledger_id.eq(ledger_id))
        .filter(ledger_invitations::status.eq("pending"))
        .filter(ledger_invitations::expires_at.gt(Utc::now()))
        .order((ledger_invitations::created_at, ledger_invitations::id))
        .select(Invitation::as_select())
        .load(conn)
}

/// Open invitations to an address, with their ledger's name and kind.
pub fn invitations_to(
    conn: &mut PgConnection,
    email: &str,
) -> QueryResult<Vec<(Invitation, String, String)>> {
    ledger_invitations::table
        .inner_join(ledgers::table)
        .filter(lower(ledger_invitations::email).eq(email.to_lowercase()))
        .filter(ledger_invitations::status.eq("pending"))
        .filter(ledger_invitations::expires_at.gt(Utc::now()))
        .order((ledger_invitations::created_at, ledger_invitations::id))
        .select((Invitation::as_select(), ledgers::name, ledgers::kind))
        .load(conn)
}

/// The ledger an invitation (by its token) is to, answered or not.
pub fn ledger_of_invitation(
    conn: &mut PgConnection,
    token_hash: &str,
) -> QueryResult<Option<Uuid>> {
    ledger_invitations::table
        .filter(ledger_invitations::token_hash.eq(token_hash))
        .select(ledger_invitations::ledger_id)
        .first(conn)
        .optional()
}

/// Answers an open, unexpired invitation in one statement (so a link works once, even when
/// used twice at the same moment); `None` when there is no such invitation.
pub fn answer(
    conn: &mut PgConnection,
    token_hash: &str,
    email: &str,
    status: &str,
    by: Uuid,
) -> QueryResult<Option<Invitation>> {
    let now = Utc::now();
    diesel::update(
        ledger_invitations::table
            .filter(ledger_invitations::token_hash.eq(token_hash))
            .filter(lower(ledger_invitations::email).eq(email.to_lowercase()))
            .filter(ledger_invitations::status.eq("pending"))
            .filter(ledger_invitations::expires_at.gt(now)),
    )
    .set((
        ledger_invitations::status.eq(status),
        ledger_invitations::answered_at.eq(now),
        ledger_invitations::answered_by.eq(by),
    ))
    .returning(Invitation::as_returning())
    .get_result(conn)
    .optional()
}

/// Withdraws the open invitations `inviter` sent to the ledger, or to every ledger (they are no
/// owner any more, or their account goes).
pub fn revoke_sent_by(
    conn: &mut PgConnection,
    ledger_id: Option<Uuid>,
    inviter: Uuid,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE ledger_invitations SET status = 'revoked', answered_at = now() \
         WHERE invited_by = $1 AND status = 'pending' AND ($2::uuid IS NULL OR ledger_id = $2)",
    )
    .bind::<diesel::sql_types::Uuid, _>(inviter)
    .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(ledger_id)
    .execute(conn)
}

/// Withdraws an open invitation; whether there was one.
pub fn revoke(conn: &mut PgConnection, ledger_id: Uuid, id: Uuid) -> QueryResult<bool> {
    diesel::update(
        ledger_invitations::table
            .filter(ledger_invitations::ledger_id.eq(ledger_id))
            .filter(ledger_invitations::id.eq(id))
            .filter(ledger_invitations::status.eq("pending")),
    )
    .set((
        ledger_invitations::status.eq("revoked"),
        ledger_invitations::answered_at.eq(Utc::now()),
    ))
    .execute(conn)
    .map(|n| n > 0)
}
