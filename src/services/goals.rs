//! Savings goals: what is saved (a wallet's balance, or contributions), the pace, and a
//! notification (with its `notification` event) when a goal is reached or falls behind.

use chrono::{Days, NaiveDate};
use diesel::{Connection, PgConnection};
use serde_json::json;
use uuid::Uuid;

use super::caller::Caller;
use crate::db::goals::{self as store, Contribution, Goal, GoalChanges, NewContribution, NewGoal};
use crate::db::{self, notifications, wallets};
use crate::domain::goal::{self, GoalStatus, Progress, PACE_WINDOW_DAYS};
use crate::domain::money::max_amount;
use crate::dto::goals::{CreateContributionRequest, CreateGoalRequest, UpdateGoalRequest};
use crate::error::ApiError;

/// Most goals a ledger keeps.
pub const MAX_GOALS: i64 = 100;

/// A goal with its figures as of the caller's today.
pub fn progress_of(
    conn: &mut PgConnection,
    caller: &Caller,
    goal: &Goal,
) -> Result<Progress, ApiError> {
    progress_on(conn, goal, caller.today())
}

/// A goal's figures as of `today` in its ledger.
pub fn progress_on(
    conn: &mut PgConnection,
    goal: &Goal,
    today: NaiveDate,
) -> Result<Progress, ApiError> {
    let age = (today - goal.created_at.date_naive()).num_days() + 1;
    let window = age.clamp(1, PACE_WINDOW_DAYS);
    let since = today
        .checked_sub_days(Days::new(window as u64 - 1))
        .unwrap_or(today);
    let saved = store::saved(conn, goal.ledger_id, goal, since, today)?;
    Ok(goal::assess(
        goal.target_amount,
        goal.target_date,
        saved.saved,
        saved.recent,
        window,
        today,
    ))
}

pub fn list(conn: &mut PgConnection, caller: &Caller) -> Result<Vec<(Goal, Progress)>, ApiError> {
    store::all(conn, caller.ledger.id)?
        .into_iter()
        .map(|goal| {
            let progress = progress_of(conn, caller, &goal)?;
            Ok((goal, progress))
        })
        .collect()
}

pub fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<(Goal, Progress), ApiError> {
    let goal =
        store::find(conn, caller.ledger.id, id)?.ok_or_else(|| ApiError::not_found("Goal"))?;
    let progress = progress_of(conn, caller, &goal)?;
    Ok((goal, progress))
}

fn target_date_ahead(caller: &Caller, date: Option<NaiveDate>) -> Result<(), ApiError> {
    match date {
        Some(date) if date <= caller.today() => Err(ApiError::invalid_field(
            "target_date",
            "must be after today",
        )),
        _ => Ok(()),
    }
}

pub fn create(
    conn: &mut PgConnection,
    caller: &Caller,
    body: CreateGoalRequest,
) -> Result<(Goal, Progress), ApiError> {
    target_date_ahead(caller, body.target_date)?;
    let owner = caller.ledger.id;
    conn.transaction(|conn| {
        db::lock_ledger(conn, owner)?;
        if store::count(conn, owner)? >= MAX_GOALS {
            return Err(ApiError::Conflict {
                code: "goal_limit",
                message: format!("A ledger keeps at most {MAX_GOALS} goals."),
            });
        }
        let wallet = match body.wallet_id {
            Some(id) => {
                Some(wallets::find(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Wallet"))?)
            }
            None => None,
        };
        let currency = match (&body.currency, &wallet) {
            (Some(currency), Some(wallet)) if *currency != wallet.currency => {
                return Err(ApiError::invalid_field(
                    "currency",
                    format!("must be the wallet's currency, {}", wallet.currency),
                ))
            }
            (Some(currency), _) => currency.clone(),
            (None, Some(wallet)) => wallet.currency.clone(),
            (None, None) => caller.currency.to_string(),
        };
        let goal = store::insert(
            conn,
            &NewGoal {
                ledger_id: owner,
                name: body.name.trim().to_owned(),
                target_amount: body.target_amount.0,
                currency,
                target_date: body.target_date,
                wallet_id: body.wallet_id,
                created_by: Some(caller.id),
            },
        )?;
        let progress = progress_of(conn, caller, &goal)?;
        // A new goal is announced only once it is reached; "behind" needs time to mean anything.
        if progress.status == GoalStatus::Reached {
            announce(conn, caller.today(), &goal, &progress)?;
        }
        Ok((goal, progress))
    })
}

pub fn update(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    body: UpdateGoalRequest,
) -> Result<(Goal, Progress), ApiError> {
    if let Some(date) = body.target_date {
        target_date_ahead(caller, date)?;
    }
    let owner = caller.ledger.id;
    // The ledger's lock before the goal's row, as every writer takes it (the announcement is a
    // notification, whose event needs the lock; deleting the goal's wallet holds it).
    crate::db::ledger_transaction(conn, owner, |conn| {
        let found =
            store::find_for_update(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Goal"))?;
        let changes = GoalChanges {
            name: body.name.map(|n| n.trim().to_owned()),
            target_amount: body.target_amount.map(|m| m.0),
            target_date: body.target_date,
        };
        // A body that changes nothing ({} or nulls) answers the goal as it is.
        let unchanged = changes.name.is_none()
            && changes.target_amount.is_none()
            && changes.target_date.is_none();
        let goal = if unchanged {
            found
        } else {
            store::update(conn, owner, id, &changes)?
        };
        let progress = progress_of(conn, caller, &goal)?;
        announce(conn, caller.today(), &goal, &progress)?;
        Ok((goal, progress))
    })
}

pub fn delete(conn: &mut PgConnection, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    match store::delete(conn, caller.ledger.id, id)? {
        0 => Err(ApiError::not_found("Goal")),
        _ => Ok(()),
    }
}

pub fn contributions(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
) -> Result<Vec<Contribution>, ApiError> {
    store::find(conn, caller.ledger.id, id)?.ok_or_else(|| ApiError::not_found("Goal"))?;
    Ok(store::contributions(conn, caller.ledger.id, id)?)
}

/// Most contributions one goal keeps.
const MAX_CONTRIBUTIONS: i64 = 10_000;

pub fn contribute(
    conn: &mut PgConnection,
    caller: &Caller,
    id: Uuid,
    body: CreateContributionRequest,
) -> Result<(Contribution, Goal, Progress), ApiError> {
    let owner = caller.ledger.id;
    let date = body.date.unwrap_or(caller.today());
    if date > caller.today() {
        return Err(ApiError::invalid_field("date", "must not be in the future"));
    }
    crate::db::ledger_transaction(conn, owner, |conn| {
        let goal =
            store::find_for_update(conn, owner, id)?.ok_or_else(|| ApiError::not_found("Goal"))?;
        if goal.wallet_id.is_some() {
            return Err(ApiError::Conflict {
                code: "goal_tracks_wallet",
                message: "This goal counts its wallet's balance: move money into the wallet \
                          instead (or create a goal without a wallet to record contributions)."
                    .into(),
            });
        }
        if store::contribution_count(conn, owner, id)? >= MAX_CONTRIBUTIONS {
            return Err(ApiError::Conflict {
                code: "contribution_limit",
                message: format!("A goal keeps at most {MAX_CONTRIBUTIONS} contributions."),
            });
        }
        let amount = if body.withdrawal {
            -body.amount.0
        } else {
            body.amount.0
        };
        let before = progress_of(conn, caller, &goal)?;
        if before.saved + amount < rust_decimal::Decimal::ZERO {
            return Err(ApiError::invalid_field(
                "amount",
                format!("takes out more than the {} saved", before.saved),
            ));
        }
        // What is saved is an amount too: never past the largest one an amount may be.
        if before.saved + amount > max_amount() {
            return Err(ApiError::invalid_field(
                "amount",
                format!(
                    "takes the {} saved beyond the largest amount, {} (15 digits before the \
                     point)",
                    before.saved.normalize(),
                    max_amount()
                ),
            ));
        }
        let contribution = store::add_contribution(
            conn,
            &NewContribution {
                ledger_id: owner,
                goal_id: id,
                amount,
                date,
                note: body
                    .note
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty()),
                created_by: Some(caller.id),
            },
        )?;
        let progress = progress_of(conn, caller, &goal)?;
        announce(conn, caller.today(), &goal, &progress)?;
        Ok((contribution, goal, progress))
    })
}

/// Notifies the ledger when a goal's state changes to reached or behind (once per change), and
/// remembers the state announced.
pub fn announce(
    conn: &mut PgConnection,
    today: NaiveDate,
    goal: &Goal,
    progress: &Progress,
) -> Result<bool, ApiError> {
    let state = progress.status.as_str();
    if goal.announced_state == state {
        return Ok(false);
    }
    store::set_announced_state(conn, goal.ledger_id, goal.id, state)?;
    let data = json!({
        "goal_id": goal.id,
        "status": state,
        "saved": progress.saved,
        "target_amount": goal.target_amount,
        "currency": goal.currency,
    });
    let key = format!("goal:{}:{state}:{today}", goal.id);
    match progress.status {
        GoalStatus::Reached => {
            notifications::insert_once(
                conn,
                goal.ledger_id,
                "goal_reached",
                &format!("Goal reached: {}", goal.name),
                &format!(
                    "You saved {} {} of {} {}.",
                    progress.saved.normalize(),
                    goal.currency,
                    goal.target_amount.normalize(),
                    goal.currency
                ),
                data,
                &key,
            )?;
        }
        GoalStatus::Behind => {
            let needed = progress
                .monthly_needed
                .map(|m| {
                    format!(
                        " Saving {} {} a month would get there.",
                        m.normalize(),
                        goal.currency
                    )
                })
                .unwrap_or_default();
            notifications::insert_once(
                conn,
                goal.ledger_id,
                "goal_behind",
                &format!("Goal behind: {}", goal.name),
                &format!(
                    "At {} {} a month, {} will not reach {} {} by its date.{needed}",
                    progress.monthly_pace.normalize(),
                    goal.currency,
                    goal.name,
                    goal.target_amount.normalize(),
                    goal.currency
                ),
                data,
                &key,
            )?;
        }
        GoalStatus::OnTrack => {}
    }
    Ok(true)
}
