//! Rate limits on every route, shared by every server process on one database.
//!
//! Each request counts against one bucket: a signed-in request against its credential's reads
//! or writes (the user for an access token, the token for a personal access token), a request
//! under `/api/v1/auth` against its address's `auth` bucket, and any other request without a
//! credential (or with one that fails to verify) against its address's `anonymous` bucket. An
//! event stream opened with a single-use ticket counts against the user the ticket names (a
//! ticket that names no one, against the address).
//! `/health` and `/ready` are not counted (load balancers poll them).
//!
//! A bucket is one row of `rate_limits` holding its theoretical arrival time (the generic cell
//! rate algorithm, GCRA): with `limit` requests per `WINDOW`, each request moves the time on by
//! `WINDOW / limit`, and is let in while that time stays within `WINDOW` of now. A full bucket
//! lets a burst of `limit` through, then one request every `WINDOW / limit`. One upsert decides
//! and records (for a signed-in request, the same statement that reads the account:
//! [`crate::db::users::access_counted`]), so several instances never let in more than the limit
//! between them, and a request costs no extra round trip.
//!
//! Answers carry `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds until
//! the bucket is full again) and `RateLimit-Policy` (IETF draft `ratelimit-headers`); a refused
//! request is 429 `rate_limited` with `Retry-After`, and does not count.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, HttpRequest};
use uuid::Uuid;

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// The span every limit is counted over.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Requests per minute for each kind of bucket; 0 turns that kind off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// `GET`/`HEAD` per user or personal access token (`RATE_LIMIT_READS_PER_MIN`, 600).
    pub reads: u32,
    /// Every other method per user or token (`RATE_LIMIT_WRITES_PER_MIN`, 120).
    pub writes: u32,
    /// Requests without a (valid) credential per address (`RATE_LIMIT_ANONYMOUS_PER_MIN`, 120).
    pub anonymous: u32,
    /// Requests under `/api/v1/auth` per address (`AUTH_RATE_LIMIT_PER_MIN`, 20).
    pub auth: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            reads: 600,
            writes: 120,
            anonymous: 120,
            auth: 20,
        }
    }
}

impl RateLimitSettings {
    /// Everything unlimited (tests that are not about limits).
    pub const OFF: RateLimitSettings = RateLimitSettings {
        reads: 0,
        writes: 0,
        anonymous: 0,
        auth: 0,
    };
}

/// Who a request counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    User(Uuid),
    PersonalToken(Uuid),
}

/// One bucket: its row's key and its limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub key: String,
    pub limit: u32,
    /// The policy's name in `RateLimit-Policy`.
    pub policy: &'static str,
}

impl Bucket {
    /// A signed-in request's bucket, `None` when its kind is unlimited.
    pub fn signed_in(
        limits: &RateLimitSettings,
        credential: Credential,
        writes: bool,
    ) -> Option<Bucket> {
        let (limit, policy, class) = if writes {
            (limits.writes, "writes", 'w')
        } else {
            (limits.reads, "reads", 'r')
        };
        let key = match credential {
            Credential::User(id) => format!("u:{id}:{class}"),
            Credential::PersonalToken(id) => format!("t:{id}:{class}"),
        };
        (limit > 0).then_some(Bucket { key, limit, policy })
    }

    /// The bucket of a request from `ip` without a (valid) credential; under `/api/v1/auth`
    /// when `auth`.
    pub fn address(limits: &RateLimitSettings, ip: &str, auth: bool) -> Option<Bucket> {
        let (limit, policy, class) = if auth {
            (limits.auth, "auth", "auth")
        } else {
            (limits.anonymous, "anonymous", "anon")
        };
        (limit > 0).then(|| Bucket {
            key: format!("ip:{ip}:{class}"),
            limit,
            policy,
        })
    }

    /// Seconds between two requests at the steady rate.
    pub fn interval_secs(&self) -> f64 {
        WINDOW.as_secs_f64() / f64::from(self.limit)
    }
}

/// What the database said about one request (or a lease of several).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Requests taken from the bucket: 0 when refused.
    pub granted: u32,
    /// Seconds from now to the bucket's theoretical arrival time (after the grant).
    pub ahead_secs: f64,
}

impl Hit {
    pub fn allowed(&self) -> bool {
        self.granted > 0
    }
}

/// A decision, as the answer's headers tell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds to wait, when refused.
    pub retry_after: Option<u64>,
    pub policy: &'static str,
}

impl Verdict {
    pub fn new(bucket: &Bucket, hit: Hit) -> Verdict {
        let interval = bucket.interval_secs();
        let window = WINDOW.as_secs_f64();
        let ahead = hit.ahead_secs.max(0.0);
        // Whole requests that still fit before the window is used up.
        let remaining = ((window - ahead) / interval + 1e-9).floor().max(0.0);
        let retry_after =
            (!hit.allowed()).then(|| ((ahead + interval - window).ceil() as u64).max(1));
        Verdict {
            limit: bucket.limit,
            // The requests of a lease this instance holds are the caller's too.
            remaining: if hit.allowed() {
                (remaining as u32 + hit.granted - 1).min(bucket.limit)
            } else {
                0
            },
            reset_secs: ahead.ceil() as u64,
            retry_after,
            policy: bucket.policy,
        }
    }

    /// 429 when refused.
    pub fn enforce(&self) -> Result<(), ApiError> {
        match self.retry_after {
            None => Ok(()),
            Some(wait) => Err(ApiError::TooManyRequests {
                code: "rate_limited",
                message: format!(
                    "Too many requests: at most {} a minute ({}); retry in {wait} seconds.",
                    self.limit, self.policy
                ),
                retry_after_secs: wait,
            }),
        }
    }

    fn write_headers(&self, headers: &mut HeaderMap) {
        for (name, value) in self.headers() {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        if let Some(wait) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(wait));
        }
    }

    fn headers(&self) -> [(HeaderName, String); 4] {
        [
            (
                HeaderName::from_static("ratelimit-limit"),
                self.limit.to_string(),
            ),
            (
                HeaderName::from_static("ratelimit-remaining"),
                self.remaining.to_string(),
            ),
            (
                HeaderName::from_static("ratelimit-reset"),
                self.reset_secs.to_string(),
            ),
            (
                HeaderName::from_static("ratelimit-policy"),
                format!(
                    "{};w={};name=\"{}\"",
                    self.limit,
                    WINDOW.as_secs(),
                    self.policy
                ),
            ),
        ]
    }
}

/// How long a lease's requests stay usable: the bucket has filled again by then.
const LEASE_LIFE: Duration = WINDOW;
/// Claims this close together make a bucket hot: the next lease is twice as large.
const HOT: Duration = Duration::from_millis(50);
/// The largest lease, as a share of the limit and in requests.
const LEASE_SHARE: u32 = 20;
const LEASE_MAX: u32 = 256;

/// Requests an instance has taken from buckets ahead of time, for the credentials that send
/// many a second. A cold bucket is asked one request at a time (exact); a bucket claimed again
/// within [`HOT`] gets leases that double up to 1/[`LEASE_SHARE`] of its limit (and at most
/// [`LEASE_MAX`]), handed out here without a database write. The database has counted them
/// already, so instances together never let in more than the limit; a lease left unused on
/// one instance can only make another refuse a little early (by at most one lease), and only
/// for a credential sending many requests a second.
#[derive(Debug, Default)]
pub struct Leases {
    held: std::sync::Mutex<std::collections::HashMap<String, Lease>>,
}

#[derive(Debug)]
struct Lease {
    /// Requests left to hand out.
    tokens: u32,
    /// The size asked for at the last claim.
    size: u32,
    claimed_at: std::time::Instant,
    /// The verdict of the last claim, for the headers of the requests the lease serves.
    verdict: Verdict,
}

impl Leases {
    /// One request from this instance's lease of `key`, if it holds one: its verdict.
    pub fn take(&self, key: &str) -> Option<Verdict> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let lease = held.get_mut(key)?;
        if lease.tokens == 0 || lease.claimed_at.elapsed() > LEASE_LIFE {
            return None;
        }
        lease.tokens -= 1;
        lease.verdict.remaining = lease.verdict.remaining.saturating_sub(1);
        Some(lease.verdict)
    }

    /// How many requests to ask the database for now.
    pub fn want(&self, bucket: &Bucket) -> u32 {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let cap = (bucket.limit / LEASE_SHARE).clamp(1, LEASE_MAX);
        match held.get(&bucket.key) {
            Some(lease) if lease.claimed_at.elapsed() < HOT => (lease.size * 2).min(cap),
            _ => 1,
        }
    }

    /// Records a claim of `asked` requests: the one the request takes, and the rest kept.
    pub fn record(&self, bucket: &Bucket, asked: u32, hit: Hit, verdict: Verdict) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.len() > 10_000 {
            // Forget spent and stale leases now and then, so the map stays the size of the
            // busy credentials.
            held.retain(|_, l| l.tokens > 0 && l.claimed_at.elapsed() < LEASE_LIFE);
        }
        held.insert(
            bucket.key.clone(),
            Lease {
                tokens: hit.granted.saturating_sub(1),
                size: asked.max(1),
                claimed_at: std::time::Instant::now(),
                verdict,
            },
        );
    }
}

/// Counts a request against `bucket` on its own (the signed-in path counts inside the account
/// read instead) and records the verdict for the answer's headers.
pub async fn count(
    state: &AppState,
    req: &HttpRequest,
    bucket: Bucket,
) -> Result<Verdict, ApiError> {
    let (key, interval) = (bucket.key.clone(), bucket.interval_secs());
    let hit = db::run(&state.pool, move |conn| {
        db::rate_limits::hit(conn, &key, interval, WINDOW.as_secs_f64())
    })
    .await?;
    let verdict = Verdict::new(&bucket, hit);
    req.extensions_mut().insert(verdict);
    Ok(verdict)
}

/// A request that named a credential which did not verify (or a stream's ticket, refused
/// before it was read) counts against its address, so that guessing tokens is limited like any
/// anonymous request: 429 once that is spent, the original error otherwise.
pub async fn count_failed_credential(
    state: &AppState,
    req: &HttpRequest,
    error: ApiError,
) -> ApiError {
    let Some(ip) = req.peer_addr().map(|addr| addr.ip().to_string()) else {
        return error;
    };
    let Some(bucket) = Bucket::address(&state.settings.rate_limits, &ip, false) else {
        return error;
    };
    match count(state, req, bucket).await {
        Ok(verdict) => verdict.enforce().err().unwrap_or(error),
        Err(_) => error,
    }
}

/// Not counted: probes.
fn exempt(path: &str) -> bool {
    matches!(path, "/health" | "/ready")
}

/// Counts every request that carries no credential against its address (`/api/v1/auth/*` in
/// its own, smaller bucket), and writes the `RateLimit-*` headers of whichever bucket the
/// request counted against (here, or in the [`crate::services::caller::Caller`] extractor).
/// Paths are read as the router reads them (`%61uth` is `auth`).
pub async fn limit_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    if let Some(state) = state {
        let path = req.match_info().as_str();
        let auth = path.starts_with("/api/v1/auth/") || path == "/api/v1/auth";
        let signed_in = !auth
            && (req
                .headers()
                .contains_key(actix_web::http::header::AUTHORIZATION)
                || super::extractor::stream_ticket(req.request()).is_some());
        if !exempt(path) && !signed_in {
            let ip = req.peer_addr().map(|addr| addr.ip().to_string());
            if let Some(bucket) =
                ip.and_then(|ip| Bucket::address(&state.settings.rate_limits, &ip, auth))
            {
                let verdict = count(&state, req.request(), bucket).await?;
                if let Err(refused) = verdict.enforce() {
                    let mut res = req.error_response(refused);
                    verdict.write_headers(res.headers_mut());
                    return Ok(res.map_into_right_body());
                }
            }
        }
    }
    let mut res = next.call(req).await?;
    let verdict = res.request().extensions().get::<Verdict>().copied();
    if let Some(verdict) = verdict {
        verdict.write_headers(res.headers_mut());
    }
    Ok(res.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(limit: u32) -> Bucket {
        Bucket {
            key: "k".into(),
            limit,
            policy: "reads",
        }
    }

    #[test]
    fn a_full_bucket_reports_all_but_this_request_remaining() {
        // The first request of 600 a minute moves the time 0.1 s ahead.
        let verdict = Verdict::new(
            &bucket(600),
            Hit {
                granted: 1,
                ahead_secs: 0.1,
            },
        );
        assert_eq!(verdict.remaining, 599);
        assert_eq!(verdict.reset_secs, 1);
        assert_eq!(verdict.enforce().ok(), Some(()));
    }

    #[test]
    fn the_last_request_of_a_burst_leaves_none() {
        let verdict = Verdict::new(
            &bucket(10),
            Hit {
                granted: 1,
                ahead_secs: 60.0,
            },
        );
        assert_eq!(verdict.remaining, 0);
        assert_eq!(verdict.reset_secs, 60);
    }

    #[test]
    fn a_refused_request_waits_for_one_interval_to_free() {
        // 10 a minute: one every 6 s. The bucket is 58 s ahead: the next request fits once
        // 58 + 6 - 60 = 4 s have passed.
        let verdict = Verdict::new(
            &bucket(10),
            Hit {
                granted: 0,
                ahead_secs: 58.0,
            },
        );
        assert_eq!(verdict.remaining, 0);
        assert_eq!(verdict.retry_after, Some(4));
        match verdict.enforce() {
            Err(ApiError::TooManyRequests {
                retry_after_secs, ..
            }) => assert_eq!(retry_after_secs, 4),
            other => panic!("expected 429, got {other:?}"),
        }
    }

    #[test]
    fn leases_grow_only_for_hot_buckets_and_never_past_their_share() {
        let leases = Leases::default();
        let small = bucket(5);
        // A cold bucket, and any bucket whose share is under one: one request at a time.
        assert_eq!(leases.want(&small), 1);
        let hit = Hit {
            granted: 1,
            ahead_secs: 12.0,
        };
        leases.record(&small, 1, hit, Verdict::new(&small, hit));
        assert_eq!(leases.want(&small), 1);
        assert_eq!(leases.take(&small.key), None);

        // A hot bucket of 600 a minute: leases double up to 30.
        let busy = Bucket {
            key: "busy".into(),
            ..bucket(600)
        };
        let mut asked = leases.want(&busy);
        assert_eq!(asked, 1);
        for expected in [2, 4, 8, 16, 30, 30] {
            let hit = Hit {
                granted: asked,
                ahead_secs: 1.0,
            };
            leases.record(&busy, asked, hit, Verdict::new(&busy, hit));
            // The request took one; the rest are handed out here, then it is spent.
            for _ in 1..asked {
                assert!(leases.take(&busy.key).is_some());
            }
            assert_eq!(leases.take(&busy.key), None);
            asked = leases.want(&busy);
            assert_eq!(asked, expected);
        }
    }

    #[test]
    fn a_lease_reports_what_is_left_of_it_and_a_refusal_keeps_nothing() {
        let leases = Leases::default();
        let busy = bucket(600);
        // Four granted, 0.4 s ahead: 594 fit after them, plus the three still held here.
        let hit = Hit {
            granted: 4,
            ahead_secs: 0.4,
        };
        let verdict = Verdict::new(&busy, hit);
        assert_eq!(verdict.remaining, 599);
        leases.record(&busy, 4, hit, verdict);
        assert_eq!(leases.take(&busy.key).map(|v| v.remaining), Some(598));
        let refused = Hit {
            granted: 0,
            ahead_secs: 60.0,
        };
        leases.record(&busy, 8, refused, Verdict::new(&busy, refused));
        assert_eq!(leases.take(&busy.key), None);
    }

    #[test]
    fn buckets_are_per_credential_and_kind_and_off_at_zero() {
        let limits = RateLimitSettings::default();
        let id = Uuid::nil();
        let reads = Bucket::signed_in(&limits, Credential::User(id), false).unwrap();
        let writes = Bucket::signed_in(&limits, Credential::User(id), true).unwrap();
        let token = Bucket::signed_in(&limits, Credential::PersonalToken(id), true).unwrap();
        assert_ne!(reads.key, writes.key);
        assert_ne!(writes.key, token.key);
        assert_eq!((reads.limit, writes.limit), (600, 120));
        assert_eq!(
            Bucket::address(&limits, "10.0.0.1", true).map(|b| b.limit),
            Some(20)
        );
        assert!(Bucket::signed_in(&RateLimitSettings::OFF, Credential::User(id), false).is_none());
        assert!(Bucket::address(&RateLimitSettings::OFF, "10.0.0.1", false).is_none());
    }
}
