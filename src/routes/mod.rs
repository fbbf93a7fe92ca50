//! HTTP resources: one folder per resource with `handlers.rs` (thin: extract, call `db`/`domain`,
//! answer) and `dto.rs` (request/response types with validator and utoipa derives).

pub mod admin;
pub mod assistant;
pub mod attachments;
pub mod auth;
pub mod bills;
pub mod budgets;
pub mod categories;
pub mod events;
pub mod goals;
pub mod health;
pub mod imports;
pub mod insights;
pub mod ledgers;
pub mod notifications;
pub mod predictions;
pub mod receipts;
pub mod recurring;
pub mod reports;
pub mod rules;
pub mod scenarios;
pub mod sync;
pub mod transactions;
pub mod users;
pub mod wallets;
pub mod webhooks;

use actix_web::middleware::from_fn;
use actix_web::web;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every route of the API. The server mounts it, and the OpenAPI spec is generated from it, so
/// the two cannot disagree.
pub fn configure() -> impl FnOnce(&mut ServiceConfig) {
    move |cfg| {
        cfg.service(health::handlers::health)
            .service(health::handlers::ready)
            .service(
                scope::scope("/api/v1")
                    .wrap(from_fn(crate::http::idempotency::idempotency))
                    .configure(api_v1),
            );
    }
}

fn api_v1(cfg: &mut ServiceConfig) {
    cfg.route("/openapi.json", web::get().to(crate::openapi::serve_spec))
        .service(
            scope::scope("/auth")
                .service(auth::handlers::register)
                .service(auth::handlers::login)
                .service(auth::handlers::verify_mfa)
                .service(auth::handlers::refresh)
                .service(auth::handlers::logout)
                .service(auth::handlers::forgot_password)
                .service(auth::handlers::reset_password)
                .service(auth::handlers::verify_email)
                .service(auth::handlers::resend_verification)
                .service(auth::handlers::change_password),
        )
        // `/users/me` before `/users/{id}`, which would otherwise claim "me".
        .service(users::handlers::get_me)
        .service(users::handlers::get_notification_preferences)
        .service(users::handlers::set_notification_preferences)
        .service(users::handlers::list_sessions)
        .service(users::handlers::end_session)
        .service(users::handlers::list_tokens)
        .service(users::handlers::create_token)
        .service(users::handlers::revoke_token)
        .service(users::two_factor::get_two_factor)
        .service(users::two_factor::enrol_two_factor)
        .service(users::two_factor::confirm_two_factor)
        .service(users::two_factor::disable_two_factor)
        .service(users::two_factor::regenerate_recovery_codes)
        .service(users::handlers::update_me)
        .service(users::handlers::delete_me)
        .service(users::handlers::list_users)
        .service(users::handlers::get_user)
        .service(users::handlers::update_user)
        .service(users::handlers::delete_user)
        .service(users::two_factor::reset_two_factor)
        // `/ledgers/invitations...` before `/ledgers/{id}`.
        .service(ledgers::handlers::list_ledgers)
        .service(ledgers::handlers::create_ledger)
        .service(ledgers::handlers::my_invitations)
        .service(ledgers::handlers::accept_invitation)
        .service(ledgers::handlers::decline_invitation)
        .service(ledgers::handlers::get_ledger)
        .service(ledgers::handlers::update_ledger)
        .service(ledgers::handlers::delete_ledger)
        .service(ledgers::handlers::list_members)
        .service(ledgers::handlers::invite_member)
        .service(ledgers::handlers::update_member)
        .service(ledgers::handlers::remove_member)
        .service(ledgers::handlers::list_invitations)
        .service(ledgers::handlers::revoke_invitation)
        .service(admin::handlers::system_stats)
        .service(admin::handlers::audit_log)
        .service(admin::handlers::create_announcement)
        .service(wallets::handlers::list_wallets)
        .service(wallets::handlers::create_wallet)
        .service(wallets::handlers::get_wallet)
        .service(wallets::handlers::update_wallet)
        .service(wallets::handlers::delete_wallet)
        .service(categories::handlers::list_categories)
        .service(categories::handlers::create_category)
        .service(categories::handlers::get_category)
        .service(categories::handlers::update_category)
        .service(categories::handlers::delete_category)
        .service(categories::handlers::list_descriptions)
        .service(categories::handlers::create_description)
        .service(categories::handlers::delete_description)
        // Fixed paths before `/transactions/{id}`, which would otherwise claim them.
        .service(transactions::csv::export_transactions)
        .service(transactions::csv::import_transactions)
        .service(imports::handlers::review_transactions)
        .service(transactions::handlers::list_transactions)
        .service(transactions::handlers::create_transaction)
        .service(transactions::handlers::get_transaction)
        .service(transactions::handlers::update_transaction)
        .service(transactions::handlers::delete_transaction)
        // `/expenses/summary` and `/expenses/stats` before `/expenses/{id}`.
        .service(reports::handlers::expense_summary)
        .service(reports::handlers::expense_stats)
        .service(transactions::handlers::list_expenses)
        .service(transactions::handlers::create_expense)
        .service(transactions::handlers::get_expense)
        .service(transactions::handlers::update_expense)
        .service(transactions::handlers::delete_expense)
        .service(imports::handlers::create_import)
        .service(imports::handlers::import_template)
        .service(imports::handlers::list_imports)
        .service(imports::handlers::get_import)
        .service(imports::handlers::list_import_entries)
        .service(imports::handlers::undo_import)
        .service(attachments::handlers::create_attachment)
        .service(attachments::handlers::list_attachments)
        .service(attachments::handlers::get_attachment)
        .service(attachments::handlers::delete_attachment)
        .service(receipts::handlers::create_receipt)
        .service(receipts::handlers::list_receipts)
        .service(receipts::handlers::get_receipt)
        .service(receipts::handlers::correct_receipt)
        .service(receipts::handlers::delete_receipt)
        .service(receipts::handlers::receipt_matches)
        .service(receipts::handlers::receipt_to_transaction)
        .service(rules::handlers::list_rules)
        .service(rules::handlers::create_rule)
        .service(rules::handlers::get_rule)
        .service(rules::handlers::update_rule)
        .service(rules::handlers::delete_rule)
        .service(rules::handlers::apply_rule)
        .service(sync::handlers::sync_changes)
        .service(events::handlers::create_ticket)
        .service(events::handlers::event_socket)
        .service(events::handlers::event_stream)
        .service(webhooks::handlers::list_webhooks)
        .service(webhooks::handlers::create_webhook)
        .service(webhooks::handlers::get_webhook)
        .service(webhooks::handlers::update_webhook)
        .service(webhooks::handlers::delete_webhook)
        .service(webhooks::handlers::ping_webhook)
        .service(webhooks::handlers::list_deliveries)
        .service(reports::handlers::summary)
        .service(reports::handlers::spending_by_category)
        .service(reports::handlers::trend)
        .service(reports::handlers::budget_progress)
        .service(reports::handlers::cash_flow)
        .service(reports::handlers::by_member)
        .service(reports::handlers::profit_and_loss)
        .service(reports::handlers::tax_summary)
        // `/budgets/status` before `/budgets/{id}`.
        .service(budgets::handlers::list_budgets)
        .service(budgets::handlers::create_budget)
        .service(budgets::handlers::budget_status_list)
        .service(budgets::handlers::get_budget)
        .service(budgets::handlers::update_budget)
        .service(budgets::handlers::delete_budget)
        .service(budgets::handlers::budget_history)
        // `/bills/upcoming` before `/bills/{id}`.
        .service(bills::handlers::list_bills)
        .service(bills::handlers::create_bill)
        .service(bills::handlers::upcoming_bills)
        .service(bills::handlers::get_bill)
        .service(bills::handlers::update_bill)
        .service(bills::handlers::delete_bill)
        .service(bills::handlers::cancel_bill)
        .service(bills::handlers::pay_bill)
        .service(bills::handlers::bill_payments)
        .service(recurring::handlers::list_recurring)
        .service(recurring::handlers::create_recurring)
        .service(recurring::handlers::get_recurring)
        .service(recurring::handlers::update_recurring)
        .service(recurring::handlers::delete_recurring)
        .service(predictions::handlers::train_models)
        .service(predictions::handlers::predict_spending)
        .service(predictions::handlers::prediction_history)
        .service(predictions::handlers::categorize)
        .service(goals::handlers::list_goals)
        .service(goals::handlers::create_goal)
        .service(goals::handlers::get_goal)
        .service(goals::handlers::update_goal)
        .service(goals::handlers::delete_goal)
        .service(goals::handlers::list_contributions)
        .service(goals::handlers::add_contribution)
        .service(assistant::handlers::ask_assistant)
        .service(assistant::handlers::list_answers)
        .service(assistant::handlers::answer_feedback)
        .service(scenarios::handlers::simulate_scenario)
        .service(scenarios::handlers::list_scenarios)
        .service(scenarios::handlers::save_scenario)
        .service(scenarios::handlers::get_scenario)
        .service(scenarios::handlers::delete_scenario)
        .service(insights::handlers::spending_insights)
        .service(insights::handlers::recommendations)
        // `/notifications/read-all` before `/notifications/{id}/read`.
        .service(notifications::handlers::list_notifications)
        .service(notifications::handlers::mark_all_read)
        .service(notifications::handlers::mark_read);
}
