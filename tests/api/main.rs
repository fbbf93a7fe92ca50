//! One integration-test binary: each module covers one resource or concern.

mod helpers;

mod admin;
mod auth;
mod categories;
mod envelope;
mod health;
mod launcher;
mod migrations;
mod openapi;
mod transactions;
mod users;
mod wallets;
