//! What the `finai` subcommands do. `main.rs` only parses arguments.

use diesel::{Connection, PgConnection};

use crate::config::Settings;
use crate::db::embedded::{ClusterOptions, EmbeddedPostgres};
use crate::db::{self, migrations};
use crate::startup::Application;

/// The database the process talks to, and the private cluster behind it when it owns one
/// (dropping it stops that cluster).
pub struct Database {
    pub url: String,
    pub embedded: Option<EmbeddedPostgres>,
}

/// `DATABASE_URL` when set; otherwise starts the private cluster in the data directory and
/// makes sure the `finai` database exists.
pub fn open_database(settings: &Settings) -> Result<Database, String> {
    if let Some(url) = &settings.database.url {
        return Ok(Database {
            url: url.expose().to_owned(),
            embedded: None,
        });
    }
    let options = ClusterOptions::in_data_dir(&settings.data_dir);
    log::info!(
        "DATABASE_URL is unset: running a private PostgreSQL with its data in {} (socket in {}, log in {})",
        options.cluster_dir.display(),
        options.socket_dir.display(),
        options.log_file.display()
    );
    let cluster = EmbeddedPostgres::start(options).map_err(|e| e.to_string())?;
    log::info!(
        "PostgreSQL from {} is running (pid {})",
        cluster.bin_dir.display(),
        cluster.pid().unwrap_or_default()
    );
    cluster
        .ensure_database("finai")
        .map_err(|e| e.to_string())?;
    Ok(Database {
        url: cluster.url("finai"),
        embedded: Some(cluster),
    })
}

/// Applies pending migrations under the advisory lock.
pub fn migrate(url: &str) -> Result<(), String> {
    let mut conn =
        PgConnection::establish(url).map_err(|e| format!("cannot connect to the database: {e}"))?;
    let applied =
        migrations::run_pending(&mut conn).map_err(|e| format!("migration failed: {e}"))?;
    if applied.is_empty() {
        log::info!("database schema is up to date");
    } else {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    Ok(())
}

/// `finai serve`: database, migrations, then the HTTP server until SIGINT/SIGTERM; a private
/// cluster is stopped after the server has drained.
pub fn serve(mut settings: Settings) -> Result<(), String> {
    limit_malloc_arenas();
    let mut database = open_database(&settings)?;
    // The event listener connects by URL, the private cluster's too.
    settings.database.url = Some(crate::config::Secret::new(&database.url));
    migrate(&database.url)?;
    let pool = db::build_pool(&database.url, &settings.database);
    let bind = settings.bind;
    let jobs_interval = settings.jobs_interval;
    let mailer = crate::auth::mailer::from_settings(&settings)?;
    let result = actix_web::rt::System::new().block_on(async move {
        if let Some(interval) = jobs_interval {
            actix_web::rt::spawn(run_jobs_every(pool.clone(), mailer, interval));
        }
        let application = Application::build(settings, pool)
            .map_err(|e| format!("cannot listen on {bind} (FINAI_BIND): {e}"))?;
        let address = format!("http://{}:{}", bind.ip(), application.port());
        log::info!("FinAI listening on {address} (Swagger UI: {address}/swagger-ui/)");
        application
            .run_until_stopped()
            .await
            .map_err(|e| format!("server error: {e}"))
    });
    if let Some(cluster) = database.embedded.as_mut() {
        log::info!("stopping PostgreSQL");
        cluster.stop();
        log::info!("PostgreSQL stopped");
    }
    result
}

/// glibc gives each thread that allocates concurrently an arena of its own, up to 8 per core,
/// and memory freed in one arena is not reused by another: with 64 connections the server's
/// resident memory grew with every arena (README, Performance). Two arenas serve a server that
/// spends its time waiting on PostgreSQL.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets an allocator parameter; it is called before the server's
        // threads start.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// Runs the background jobs (recurring transactions, autopay, bill reminders, notification
/// mails) on a timer.
async fn run_jobs_every(
    pool: db::PgPool,
    mailer: std::sync::Arc<dyn crate::auth::mailer::Mailer>,
    interval: std::time::Duration,
) {
    let mut ticker = actix_web::rt::time::interval(interval);
    loop {
        ticker.tick().await;
        match db::run(&pool, |conn| {
            crate::jobs::run_once(conn, chrono::Utc::now())
        })
        .await
        {
            Ok(report) if report != crate::jobs::JobReport::default() => {
                log::info!("background jobs: {report:?}")
            }
            Ok(_) => {}
            Err(error) => log::warn!("background jobs failed: {error}"),
        }
        let mailer = mailer.clone();
        match db::run(&pool, move |conn| {
            crate::jobs::send_notification_mails(conn, mailer.as_ref(), chrono::Utc::now())
        })
        .await
        {
            Ok(0) => {}
            Ok(sent) => log::info!("notification mails sent: {sent}"),
            Err(error) => log::warn!("notification mails failed: {error}"),
        }
    }
}

/// `finai migrate`: apply migrations and exit.
pub fn migrate_only(settings: &Settings) -> Result<(), String> {
    let database = open_database(settings)?;
    migrate(&database.url)
}

/// `finai create-admin`: creates an admin account, or promotes an existing account to admin.
/// `password` is asked for only when the account is created, and must meet the policy.
/// Returns a line describing what was done.
pub fn create_admin(
    settings: &Settings,
    email: &str,
    name: Option<&str>,
    promote_unverified: bool,
    password: impl FnOnce() -> Result<String, String>,
) -> Result<String, String> {
    use crate::db::audit::{self, Action, Event, Origin};
    use crate::db::users::{self, NewUser, UserChangeset};
    use crate::domain::email::Email;
    use crate::domain::user::{Role, UserStatus};

    let email = Email::parse(email).map_err(|e| format!("--email {e}"))?;
    let database = open_database(settings)?;
    migrate(&database.url)?;
    let mut conn = PgConnection::establish(&database.url)
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let existing = users::find_by_email(&mut conn, &email.key()).map_err(|e| e.to_string())?;
    let origin = Origin::default();
    if let Some(user) = existing {
        // Anyone can register an address they do not own; promoting such an account would
        // hand its registrant (and their password) the admin role.
        if user.email_verified_at.is_none() && !promote_unverified {
            return Err(format!(
                "{} is registered but the address was never verified, so whoever registered it \
                 may not own it; its password is theirs. Delete that account first, or pass \
                 --promote-unverified to promote it as it is.",
                user.email
            ));
        }
        let was_disabled = user.status == UserStatus::Disabled.as_str();
        conn.transaction::<_, diesel::result::Error, _>(|conn| {
            users::update(
                conn,
                user.id,
                &UserChangeset {
                    role: Some(Role::Admin.as_str().into()),
                    status: Some(UserStatus::Active.as_str().into()),
                    ..Default::default()
                },
            )?;
            let via = serde_json::json!("create-admin");
            audit::record(
                conn,
                Event {
                    action: Action::RoleChanged,
                    user_id: Some(user.id),
                    actor_id: None,
                    origin: &origin,
                    details: serde_json::json!({"from": user.role(), "to": Role::Admin, "via": via}),
                },
            )?;
            if was_disabled {
                audit::record(
                    conn,
                    Event {
                        action: Action::StatusChanged,
                        user_id: Some(user.id),
                        actor_id: None,
                        origin: &origin,
                        details: serde_json::json!({"from": "disabled", "to": "active", "via": via}),
                    },
                )?;
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        let enabled = if was_disabled {
            "; the account was disabled and is active again"
        } else {
            ""
        };
        return Ok(format!(
            "{} is now an admin (password unchanged{enabled}).",
            user.email
        ));
    }
    let password = password()?;
    let problems = crate::domain::password::policy_violations(&password);
    if !problems.is_empty() {
        return Err(format!("the password {}", problems.join("; ")));
    }
    let hash = crate::auth::password::hash(&password, settings.auth.bcrypt_cost)
        .map_err(|e| e.to_string())?;
    // Created as registration creates an account (default categories, an audit record), in
    // one transaction.
    let user = conn
        .transaction::<_, diesel::result::Error, _>(|conn| {
            let user = users::insert(
                conn,
                &NewUser {
                    email: email.as_str(),
                    name: name.unwrap_or("Administrator"),
                    password_hash: &hash,
                    role: Role::Admin.as_str(),
                    email_verified_at: Some(chrono::Utc::now()),
                },
            )?;
            crate::db::categories::insert_defaults(conn, user.id)?;
            audit::record(
                conn,
                Event {
                    action: Action::UserRegistered,
                    user_id: Some(user.id),
                    actor_id: None,
                    origin: &origin,
                    details: serde_json::json!({"role": Role::Admin, "via": "create-admin"}),
                },
            )?;
            Ok(user)
        })
        .map_err(|e| e.to_string())?;
    Ok(format!("Created admin {} ({}).", user.email, user.id))
}

/// The admin password for `create-admin`: `FINAI_ADMIN_PASSWORD`, else one line of stdin.
pub fn admin_password_from_env_or_stdin() -> Result<String, String> {
    if let Ok(password) = std::env::var("FINAI_ADMIN_PASSWORD") {
        if !password.is_empty() {
            return Ok(password);
        }
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// `finai seed-demo`: a demo account with a year of data. The password comes from
/// `FINAI_DEMO_PASSWORD`, else `Demo!pass1`.
pub fn seed_demo(settings: &Settings, email: &str) -> Result<String, String> {
    let password = std::env::var("FINAI_DEMO_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "Demo!pass1".to_owned());
    let problems = crate::domain::password::policy_violations(&password);
    if !problems.is_empty() {
        return Err(format!("FINAI_DEMO_PASSWORD {}", problems.join("; ")));
    }
    let hash = crate::auth::password::hash(&password, settings.auth.bcrypt_cost)
        .map_err(|e| e.to_string())?;
    let database = open_database(settings)?;
    migrate(&database.url)?;
    let mut conn = PgConnection::establish(&database.url)
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let summary = crate::demo::seed(&mut conn, email, &hash, chrono::Utc::now().date_naive())
        .map_err(|e| e.public_message())?;
    Ok(format!(
        "Created demo user {email} (password {password}) with {} transactions, 4 wallets, 2 budgets, 2 bills and a recurring subscription.",
        summary.transactions
    ))
}

/// `finai eval-ml`: the report as a table (or JSON).
pub fn eval_ml(
    path: &std::path::Path,
    columns: &crate::ml::eval::Columns,
    json: bool,
) -> Result<String, String> {
    let rows = crate::ml::eval::read_csv(path, columns)?;
    let report = crate::ml::eval::evaluate(rows, columns)?;
    if json {
        return serde_json::to_string_pretty(&report).map_err(|e| e.to_string());
    }
    let c = &report.categorization;
    let f = &report.forecast;
    let pct = |v: f64| format!("{:.1} %", v * 100.0);
    let mut out = format!(
        "{} rows from {}\n\nCategory suggestions (train {} rows, test {} rows, {} classes, trained in {} ms)\n\
         | measure | FinAI | payee's last category | most frequent |\n|---|---|---|---|\n\
         | top-1 accuracy | {} | {} | {} |\n| top-3 accuracy | {} | | |\n| macro-F1 | {:.3} | | |\n",
        report.rows,
        path.display(),
        c.train_rows,
        c.test_rows,
        c.classes,
        c.training_ms,
        pct(c.top1_accuracy),
        pct(c.last_seen_top1),
        pct(c.majority_top1),
        pct(c.top3_accuracy),
        c.macro_f1,
    );
    if let Some(unseen) = c.unseen_payee_top1 {
        out.push_str(&format!(
            "| top-1 on {} rows with a payee not seen in training | {} | | |\n",
            c.unseen_payee_rows,
            pct(unseen)
        ));
    }
    out.push_str(&format!(
        "\nMonthly spending forecast ({} months; one-step forecasts at {} months from {}, each from earlier months only)\n\
         | method | MAE |\n|---|---|\n",
        f.months,
        f.origins,
        f.first_origin.as_deref().unwrap_or("-"),
    ));
    for (method, mae) in &f.mae {
        out.push_str(&format!("| {method} | {mae} |\n"));
    }
    out.push_str(&format!(
        "\nFinAI chose: {:?}; 10–90 % interval held {} of the actual months.",
        f.chosen,
        pct(f.interval_coverage)
    ));
    for (title, scores) in [
        ("Per category, monthly, scored together", &f.per_category),
        ("Weekly total, from the 27th week", &f.weekly),
    ] {
        out.push_str(&format!(
            "\n\n{title} ({} series, {} forecasts; 10–90 % interval held {})\n\
             | method | MAE |\n|---|---|\n",
            scores.series,
            scores.forecasts,
            pct(scores.interval_coverage)
        ));
        for (method, mae) in &scores.mae {
            out.push_str(&format!("| {method} | {mae} |\n"));
        }
    }
    let a = &report.anomalies;
    out.push_str(&format!(
        "\n\nUnusual spending (the last {} expenses as they are, and with anomalies injected)\n\
         | injected | count | found |\n|---|---|---|\n",
        a.clean_rows
    ));
    for (kind, (count, found)) in &a.injected {
        out.push_str(&format!("| {kind} | {count} | {found} |\n"));
    }
    out.push_str(&format!(
        "\nFalse alarms on real expenses: {}; precision {}, recall {}.",
        a.false_alarms,
        pct(a.precision),
        pct(a.recall)
    ));
    Ok(out)
}

/// `finai seed-bench`: benchmark accounts `{prefix}1@example.com` ... with generated data (see
/// `bench_seed`). The password is `password`, or `FINAI_BENCH_PASSWORD`, else `Bench!pass1`.
pub fn seed_bench(
    settings: &Settings,
    options: &crate::bench_seed::BenchOptions,
    password: Option<&str>,
) -> Result<String, String> {
    let password = password
        .map(str::to_owned)
        .or_else(|| std::env::var("FINAI_BENCH_PASSWORD").ok())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "Bench!pass1".to_owned());
    let problems = crate::domain::password::policy_violations(&password);
    if !problems.is_empty() {
        return Err(format!("--password {}", problems.join("; ")));
    }
    // One hash for every account: bcrypt is the slow part of registering, not of the data.
    let hash = crate::auth::password::hash(&password, settings.auth.bcrypt_cost)
        .map_err(|e| e.to_string())?;
    let database = open_database(settings)?;
    migrate(&database.url)?;
    let mut conn = PgConnection::establish(&database.url)
        .map_err(|e| format!("cannot connect to the database: {e}"))?;
    let summary =
        crate::bench_seed::seed(&mut conn, options, &hash, chrono::Utc::now().date_naive())
            .map_err(|e| e.public_message())?;
    let accounts = match summary.emails.as_slice() {
        [] => "no accounts".to_owned(),
        [one] => one.clone(),
        [first, .., last] if summary.emails.len() > 10 => format!("{first} ... {last}"),
        all => all.join(", "),
    };
    Ok(format!(
        "Created {} benchmark users ({accounts}, password {password}) with {} transactions and {} budgets in {:.1} s.",
        summary.emails.len(),
        summary.transactions,
        summary.budgets,
        summary.seconds
    ))
}
