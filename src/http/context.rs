//! Where a request came from, for the audit log.

use actix_web::{HttpMessage, HttpRequest};

use super::middleware::RequestId;
use crate::db::audit::Origin;

/// The peer address (not `X-Forwarded-For`, which any client can forge) and the request id.
pub fn origin(req: &HttpRequest) -> Origin {
    Origin {
        ip: req.peer_addr().map(|addr| addr.ip().to_string()),
        request_id: req.extensions().get::<RequestId>().map(|id| id.0.clone()),
    }
}
