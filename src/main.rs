use std::process::ExitCode;

use clap::{Parser, Subcommand};
use finai::config::Settings;

/// FinAI: a JSON REST API for personal and small-business finance.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). Without DATABASE_URL, runs a private PostgreSQL.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Print the AsyncAPI document of the event streams.
    Asyncapi,
    /// Create an admin account, or promote an existing one. The password is read from
    /// FINAI_ADMIN_PASSWORD, or else from one line of standard input.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// Promote an existing account whose address was never verified (it keeps the
        /// password its registrant chose).
        #[arg(long)]
        promote_unverified: bool,
    },
    /// Create a demo account with a year of realistic data (password from FINAI_DEMO_PASSWORD,
    /// else Demo!pass1).
    SeedDemo {
        #[arg(long, default_value = "demo@finai.local")]
        email: String,
    },
    /// Evaluate category suggestions and spending forecasts on a CSV of transactions
    /// (chronological split: train on the first 75 %, score on the rest). No database needed.
    EvalMl {
        #[arg(long)]
        csv: std::path::PathBuf,
        #[arg(long, default_value = "Date")]
        date_col: String,
        #[arg(long, default_value = "Description")]
        text_col: String,
        #[arg(long, default_value = "Category")]
        category_col: String,
        #[arg(long, default_value = "Amount")]
        amount_col: String,
        /// A column whose value `credit` marks incoming money (left out of spending).
        #[arg(long)]
        type_col: Option<String>,
        /// A category to leave out of the spending series (repeatable).
        #[arg(long)]
        exclude_category: Vec<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create benchmark accounts {prefix}1@example.com ... with generated transactions and
    /// budgets, for bench/run.sh (password from --password, FINAI_BENCH_PASSWORD, else
    /// Bench!pass1).
    SeedBench {
        #[arg(long, default_value_t = 1)]
        users: u32,
        #[arg(long, default_value_t = 10_000)]
        transactions_per_user: u32,
        #[arg(long, default_value_t = 50)]
        budgets_per_user: u32,
        #[arg(long, default_value = "bench")]
        prefix: String,
        #[arg(long)]
        password: Option<String>,
    },
}

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Openapi) => {
            print!("{}", finai::openapi::spec_json());
            return ExitCode::SUCCESS;
        }
        Some(Command::Asyncapi) => {
            print!("{}", finai::asyncapi::document_json());
            return ExitCode::SUCCESS;
        }
        Some(Command::EvalMl {
            csv,
            date_col,
            text_col,
            category_col,
            amount_col,
            type_col,
            exclude_category,
            json,
        }) => {
            let columns = finai::ml::eval::Columns {
                date: date_col,
                text: text_col,
                category: category_col,
                amount: amount_col,
                kind: type_col,
                exclude: exclude_category,
            };
            return match finai::commands::eval_ml(&csv, &columns, json) {
                Ok(out) => {
                    println!("{out}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("finai: {error}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp_millis()
        .init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => finai::commands::serve(settings),
        Command::Migrate => finai::commands::migrate_only(&settings),
        Command::CreateAdmin {
            email,
            name,
            promote_unverified,
        } => finai::commands::create_admin(
            &settings,
            &email,
            name.as_deref(),
            promote_unverified,
            finai::commands::admin_password_from_env_or_stdin,
        )
        .map(|done| println!("{done}")),
        Command::SeedDemo { email } => {
            finai::commands::seed_demo(&settings, &email).map(|done| println!("{done}"))
        }
        Command::SeedBench {
            users,
            transactions_per_user,
            budgets_per_user,
            prefix,
            password,
        } => finai::commands::seed_bench(
            &settings,
            &finai::bench_seed::BenchOptions {
                users,
                transactions_per_user,
                budgets_per_user,
                prefix,
            },
            password.as_deref(),
        )
        .map(|done| println!("{done}")),
        Command::Openapi | Command::Asyncapi | Command::EvalMl { .. } => {
            unreachable!("handled above")
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            log::error!("{error}");
            eprintln!("finai: {error}");
            ExitCode::FAILURE
        }
    }
}
