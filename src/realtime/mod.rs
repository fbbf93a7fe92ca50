//! Push: the event log delivered as it grows, over a WebSocket or Server-Sent Events.
//!
//! Nothing here holds events. Writers append to the log in their transaction; PostgreSQL
//! announces the commit (`NOTIFY finai_events, '<ledger id>'`, migration `000015`); the
//! [`listener`] of each server instance hears it and wakes that ledger's open streams in the
//! [`hub`]; each [`session`] then reads the log after its own cursor. A stream therefore sends
//! every committed event once and in order, whichever instance wrote it, and one that falls
//! behind or reconnects catches up from the log, not from memory.

pub mod hub;
pub mod listener;
pub mod session;
pub mod sse;
pub mod webhooks;
pub mod websocket;

pub use hub::Hub;
