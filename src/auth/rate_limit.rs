//! Per-IP rate limit for `/auth` (actix-governor), answering 429 `rate_limited` with
//! `Retry-After` in the envelope.

use std::net::IpAddr;
use std::time::Duration;

use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::governor::middleware::NoOpMiddleware;
use actix_governor::governor::NotUntil;
use actix_governor::{
    GovernorConfig, GovernorConfigBuilder, KeyExtractor, SimpleKeyExtractionError,
};
use actix_web::dev::ServiceRequest;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};

use crate::error::ApiError;

/// Keys on the peer address. Behind a reverse proxy every client shares the proxy's address;
/// put the limit in the proxy there.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp;

impl KeyExtractor for ClientIp {
    type Key = IpAddr;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<IpAddr, Self::KeyExtractionError> {
        req.peer_addr()
            .map(|addr| addr.ip())
            .ok_or_else(|| SimpleKeyExtractionError::new("cannot determine the client address"))
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        _response: HttpResponseBuilder,
    ) -> HttpResponse {
        let wait = negative
            .wait_time_from(DefaultClock::default().now())
            .as_secs()
            + 1;
        ApiError::TooManyRequests {
            code: "rate_limited",
            message: format!("Too many requests from your address; retry in {wait} seconds."),
            retry_after_secs: wait,
        }
        .error_response()
    }
}

pub type AuthLimiterConfig = GovernorConfig<ClientIp, NoOpMiddleware<QuantaInstant>>;

/// `per_minute` requests per minute per IP, as a burst that refills evenly. `None` when 0.
pub fn auth_limiter(per_minute: u32) -> Option<AuthLimiterConfig> {
    if per_minute == 0 {
        return None;
    }
    GovernorConfigBuilder::default()
        .key_extractor(ClientIp)
        .period(Duration::from_millis(60_000 / u64::from(per_minute)))
        .burst_size(per_minute)
        .finish()
}
