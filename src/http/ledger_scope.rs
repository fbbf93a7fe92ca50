//! Ledger-scoped paths. Every resource that lives in a ledger is reached both at
//! `/api/v1/<resource>...` (the caller's personal ledger) and at
//! `/api/v1/ledgers/{ledger_id}/<resource>...` (any ledger the caller is a member of). The routes
//! are mounted once: this middleware routes the second form as the first and leaves the ledger
//! in the request's extensions, where the `Caller` extractor finds it and checks the membership.
//! The request keeps its own path (`HttpRequest::path`), so logs, idempotency keys and links
//! still see the ledger.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Uri;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use uuid::Uuid;

/// The first path segment under `/api/v1` of every resource that belongs to a ledger.
pub const LEDGER_RESOURCES: &[&str] = &[
    "wallets",
    "categories",
    "transactions",
    "expenses",
    "reports",
    "budgets",
    "bills",
    "recurring",
    "events",
    "webhooks",
    "imports",
    "rules",
    "predictions",
    "insights",
    "notifications",
    "sync",
    "attachments",
    "receipts",
    "goals",
    "scenarios",
    "assistant",
];

pub const SCOPED_PREFIX: &str = "/api/v1/ledgers/";

/// The ledger a request named in its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerScope(pub Uuid);

/// `/api/v1/ledgers/{id}/wallets/x` -> (`id`, `/api/v1/wallets/x`); `None` for any other path
/// (the ledger's own routes, `/ledgers/{id}/members`, among them).
pub fn unscope(path: &str) -> Option<(Uuid, String)> {
    let rest = path.strip_prefix(SCOPED_PREFIX)?;
    let (id, tail) = rest.split_once('/')?;
    let resource = tail.split('/').next()?;
    if !LEDGER_RESOURCES.contains(&resource) {
        return None;
    }
    let id = Uuid::parse_str(id).ok()?;
    Some((id, format!("/api/v1/{tail}")))
}

pub async fn route_ledger_paths(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut scoped = None;
    if let Some((ledger, path)) = unscope(req.match_info().as_str()) {
        let target = match req.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        // The path was a valid URI a moment ago and lost only a prefix.
        if let Ok(uri) = target.parse::<Uri>() {
            req.match_info_mut().get_mut().update(&uri);
            req.extensions_mut().insert(LedgerScope(ledger));
            scoped = Some(ledger);
        }
    }
    let mut response = next.call(req).await?;
    // What was created in a ledger is found under the ledger's path.
    if let Some(ledger) = scoped {
        let headers = response.headers_mut();
        let moved = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("/api/v1/"))
            .and_then(|rest| {
                HeaderValue::from_str(&format!("{SCOPED_PREFIX}{ledger}/{rest}")).ok()
            });
        if let Some(location) = moved {
            headers.insert(header::LOCATION, location);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_ledger_resource_under_a_ledger_id_is_unscoped() {
        let id = Uuid::new_v4();
        assert_eq!(
            unscope(&format!("/api/v1/ledgers/{id}/transactions/abc")),
            Some((id, "/api/v1/transactions/abc".to_owned()))
        );
        assert_eq!(
            unscope(&format!("/api/v1/ledgers/{id}/sync")),
            Some((id, "/api/v1/sync".to_owned()))
        );
        assert_eq!(unscope(&format!("/api/v1/ledgers/{id}/members")), None);
        assert_eq!(unscope(&format!("/api/v1/ledgers/{id}")), None);
        assert_eq!(unscope("/api/v1/ledgers/not-an-id/wallets"), None);
        assert_eq!(unscope(&format!("/api/v1/ledgers/{id}/users/me")), None);
        assert_eq!(unscope("/api/v1/wallets"), None);
    }
}
