//! Builds the actix application and server. `Application::build` binds first (port 0 in
//! tests), so callers learn the port before the server runs.

use crate::auth::hasher::Hasher;
use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, ErrorHandlers, Logger};
use actix_web::{web, App, HttpServer};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::auth::mailer;
use crate::config::Settings;
use crate::db::PgPool;
use crate::http::extract::{json_config, path_config, query_config, BodyLimit};
use crate::http::middleware;
pub use crate::state::AppState;

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub fn build(settings: Settings, pool: PgPool) -> std::io::Result<Application> {
        let listener = TcpListener::bind(settings.bind)?;
        let port = listener.local_addr()?.port();
        let workers = settings.workers;
        // Blocking work is database work (and bcrypt, on its own threads): more blocking
        // threads than pooled connections would only wait for one, each with its own stack.
        let blocking_threads = (settings.database.pool_size as usize)
            .div_ceil(workers)
            .max(2);
        let shutdown_timeout = settings.shutdown_timeout.as_secs();
        let mailer = mailer::from_settings(&settings)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let hasher = Hasher::new(settings.auth.bcrypt_threads)?;
        // The stand-in hash for logins with an unknown email is made now, so the first such
        // login takes as long as any other.
        let cost = settings.auth.bcrypt_cost;
        hasher.submit(move || crate::auth::password::verify_dummy("", cost));
        // The assistant's classifier trains off the request path, before the first question;
        // what its training freed goes back to the system (6 MB of heap stayed otherwise).
        hasher.submit(|| {
            crate::services::assistant::warm_up();
            release_freed_memory();
        });
        let hub = std::sync::Arc::new(crate::realtime::Hub::default());
        let files: std::sync::Arc<dyn crate::storage::FileStore> = match &settings.file_store {
            Some(s3) => std::sync::Arc::new(crate::storage::s3::S3Store::new(s3.clone())?),
            None => std::sync::Arc::new(crate::storage::LocalStore::new(
                settings.data_dir.join("files"),
            )),
        };
        // `serve` fills in the private cluster's URL; only a pool built by hand has none, and
        // then streams hear nothing and webhooks are not delivered.
        if let Some(url) = &settings.database.url {
            crate::realtime::listener::spawn(
                url.expose().to_owned(),
                std::sync::Arc::downgrade(&hub),
            )?;
            // Deliveries use a small pool of their own, so background work never takes a
            // connection a request is waiting for.
            let database = crate::config::DatabaseSettings {
                pool_size: 2,
                ..settings.database.clone()
            };
            crate::realtime::webhooks::spawn(
                crate::db::build_pool(url.expose(), &database),
                settings.webhooks.clone(),
                std::sync::Arc::downgrade(&hub),
            )?;
            let database = crate::config::DatabaseSettings {
                pool_size: settings.ocr.workers as u32 * 2 + 1,
                ..settings.database.clone()
            };
            crate::jobs::files::spawn(
                crate::db::build_pool(url.expose(), &database),
                files.clone(),
                settings.ocr.clone(),
                settings.data_dir.join("scratch"),
                std::sync::Arc::downgrade(&hub),
            )?;
        }
        let state = web::Data::new(AppState {
            settings,
            pool,
            mailer,
            hasher,
            hub,
            leases: Default::default(),
            files,
        });
        let tcp_user_timeout = state.settings.tcp_user_timeout;
        let server = HttpServer::new(move || app(state.clone()))
            .on_connect(move |connection, _| drop_unread_after(connection, tcp_user_timeout))
            // Small writes (an event frame, a short answer) go out at once: with Nagle's
            // algorithm on, a stream's frame waited ~20 ms for the ACK of the one before
            // whenever the client delayed its ACKs (bench/streams.sh, README).
            .tcp_nodelay(true)
            .listen(listener)?
            .workers(workers)
            .worker_max_blocking_threads(blocking_threads)
            .shutdown_timeout(shutdown_timeout)
            .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// Has the kernel drop a connection whose sent data stays unacknowledged for `timeout`
/// (`TCP_USER_TIMEOUT`, which also bounds zero-window probes): an event stream whose client
/// never reads filled its socket and stayed open for good, the close frame queued behind the
/// data it would not read.
fn drop_unread_after(connection: &dyn std::any::Any, timeout: std::time::Duration) {
    #[cfg(target_os = "linux")]
    if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Err(e) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(timeout)) {
            log::warn!("TCP_USER_TIMEOUT not set: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (connection, timeout);
}

/// Hands memory freed at start-up back to the system. glibc keeps freed heap for reuse, so the
/// spec's transient 8 MB per worker stayed resident (an idle server held 18 MB of anonymous
/// memory, 1 MB of it live).
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only returns free pages to the kernel; it takes no pointers.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

/// The application: routes, extractor configuration and middleware.
pub fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.settings.json_limit_bytes;
    let cors = middleware::cors(&state.settings.cors_allowed_origins);
    let (app, spec_of_this_worker) = App::new()
        .into_utoipa_app()
        .configure(crate::routes::configure())
        .split_for_parts();
    // Registering the routes through utoipa builds the whole spec again (8 MB of short-lived
    // allocations, measured with massif); the server serves the checked-in one
    // (`openapi::SERVED`).
    drop(spec_of_this_worker);
    release_freed_memory();
    app.app_data(state)
        .app_data(BodyLimit(limit))
        .app_data(json_config(limit))
        .app_data(query_config())
        .app_data(path_config())
        .service(web::redirect("/swagger-ui", "/swagger-ui/"))
        .service(
            SwaggerUi::new("/swagger-ui/{_:.*}")
                .config(SwaggerConfig::from("/api/v1/openapi.json").persist_authorization(true)),
        )
        .default_service(web::to(middleware::not_found))
        .wrap(from_fn(crate::http::ledger_scope::route_ledger_paths))
        .wrap(from_fn(middleware::head_as_get))
        .wrap(from_fn(middleware::refuse_nul_in_query))
        .wrap(from_fn(crate::auth::rate_limit::limit_requests))
        .wrap(from_fn(middleware::catch_panic))
        .wrap(cors)
        .wrap(ErrorHandlers::new().default_handler(middleware::envelope_for_non_json_errors))
        .wrap(from_fn(middleware::request_id))
        .wrap(from_fn(middleware::security_headers))
        .wrap(
            Logger::new(r#"%a "%{request_line}xi" %s %b %Dms rid=%{x-request-id}o"#)
                .custom_request_replace("request_line", middleware::logged_request_line),
        )
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::time::Duration;

    #[tokio::test]
    async fn an_accepted_connection_is_dropped_when_its_data_stays_unread() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let _client = tokio::net::TcpStream::connect(address).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        let sock = socket2::SockRef::from(&accepted);
        assert_eq!(sock.tcp_user_timeout().unwrap(), None);
        super::drop_unread_after(&accepted, Duration::from_secs(90));
        assert_eq!(
            sock.tcp_user_timeout().unwrap(),
            Some(Duration::from_secs(90))
        );
    }
}
