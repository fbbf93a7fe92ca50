//! FinAI: a headless JSON REST API for personal and small-business finance.
//!
//! Layers, top to bottom: `routes` (HTTP handlers and DTOs) call `db` (diesel queries) for data;
//! `http` holds the envelope, extractors and middleware every route shares; `startup` assembles
//! the actix application; `commands` implements the CLI subcommands.

pub mod asyncapi;
pub mod auth;
pub mod bench_seed;
pub mod commands;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod dto;
pub mod error;
pub mod export;
pub mod http;
pub mod jobs;
pub mod ml;
pub mod ocr;
pub mod openapi;
pub mod realtime;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod storage;
