//! `AppState`: what every handler may reach. Its own module, so that routes and the server
//! that mounts them both depend on it rather than on each other.

use std::sync::Arc;

use crate::auth::hasher::Hasher;
use crate::auth::mailer::Mailer;
use crate::config::Settings;
use crate::db::PgPool;
use crate::realtime::Hub;

pub struct AppState {
    pub settings: Settings,
    pub pool: PgPool,
    pub mailer: Arc<dyn Mailer>,
    /// bcrypt's own low-priority threads (see `auth::hasher`).
    pub hasher: Hasher,
    /// The open event streams of this instance (see `realtime`).
    pub hub: Arc<Hub>,
    /// Rate-limit requests this instance took ahead of time (see `auth::rate_limit`).
    pub leases: crate::auth::rate_limit::Leases,
    /// Uploaded files (attachments, receipt images).
    pub files: Arc<dyn crate::storage::FileStore>,
}
