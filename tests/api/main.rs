//! One integration-test binary: each module covers one resource or concern.

mod helpers;

mod admin;
mod architecture;
mod auth;
mod bad_input;
mod bench_seed;
mod bills;
mod budgets;
mod categories;
mod csv_io;
mod demo;
mod envelope;
mod events;
mod health;
mod idempotency;
mod imports;
mod isolation;
mod launcher;
mod ledgers;
mod migrations;
mod notification_mail;
mod openapi;
mod personal_tokens;
mod predictions;
mod rate_limits;
mod reports;
mod rollups;
mod sessions;
mod streams;
mod sync;
mod transactions;
mod two_factor;
mod users;
mod wallets;
mod webhooks;
