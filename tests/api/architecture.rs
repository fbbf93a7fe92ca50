//! The layers keep their arrows (STYLE.md, Layout): routes call services, services call `db`
//! for data and `domain`/`ml` for decisions. A route module names no other route module, no
//! `crate::startup` and no diesel; `domain` and `ml` name neither actix nor diesel nor the
//! database layers, and read no clock (they take `today` as an argument; `ml` may time its own
//! training with a monotonic `Instant`, which tells no date).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The code of a file without its comments, so a doc line may name what the code may not.
fn code_of(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn src(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir)
}

/// `(file, forbidden name)` for every file under `dir` naming one of `forbidden`.
fn breaches(dir: &str, forbidden: &[&str], except: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in rust_files(&src(dir)) {
        let name = file.strip_prefix(src("")).unwrap().display().to_string();
        if except.contains(&name.as_str()) {
            continue;
        }
        let code = code_of(&file);
        for word in forbidden {
            if code.contains(word) {
                found.push(format!("{name} names `{word}`"));
            }
        }
    }
    found
}

#[test]
fn route_modules_reach_only_downwards() {
    let routes: Vec<String> = std::fs::read_dir(src("routes"))
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            path.is_dir()
                .then(|| path.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    assert!(routes.len() > 10, "{routes:?}");
    let mut found = breaches(
        "routes",
        &[
            "crate::startup",
            "diesel::",
            "super::super",
            "crate::routes::",
        ],
        // The module that mounts every route is the one place that names them all.
        &["routes/mod.rs"],
    );
    for file in rust_files(&src("routes")) {
        let name = file.strip_prefix(src("")).unwrap().display().to_string();
        let own = name.split('/').nth(1).unwrap_or_default().to_owned();
        let code = code_of(&file);
        for other in routes.iter().filter(|r| **r != own) {
            if code.contains(&format!("routes::{other}")) {
                found.push(format!("{name} names the route module `{other}`"));
            }
        }
    }
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn domain_and_ml_are_pure() {
    let forbidden = [
        "actix",
        "diesel",
        "crate::db",
        "crate::services",
        "crate::routes",
        "crate::http",
        "crate::state",
        "Utc::now",
        "Local::now",
        "SystemTime::now",
        "chrono::offset",
    ];
    let mut found = breaches("domain", &forbidden, &[]);
    found.extend(breaches("ml", &forbidden, &[]));
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn services_and_db_never_answer_in_http_terms() {
    // Services return results and `ApiError`s; the envelope, status codes and extractors are
    // the routes' business. `db` returns rows and diesel errors.
    let mut found = breaches(
        "services",
        &["actix_web", "HttpResponse", "crate::routes"],
        &[],
    );
    found.extend(breaches(
        "db",
        &["actix_web", "crate::routes", "crate::services", "ApiError"],
        // The pool's one helper runs blocking work for the async layer and maps pool errors.
        &["db/mod.rs"],
    ));
    assert_eq!(found, Vec::<String>::new());
}
