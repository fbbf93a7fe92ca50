//! A private PostgreSQL cluster run from the machine's own PostgreSQL binaries.
//!
//! `finai serve` uses it when `DATABASE_URL` is unset, and the test harness uses it for a
//! throwaway cluster. It listens on a Unix socket only (no TCP port), runs as an unprivileged
//! user when we are root (PostgreSQL refuses to run as root), survives a stale `postmaster.pid`
//! left by a crash, and stops with a fast shutdown when dropped.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{Gid, Pid, Uid, User};

const PORT: u16 = 5432;
/// The PostgreSQL role the cluster is initialised with, and that FinAI connects as.
pub const SUPERUSER: &str = "finai";
/// Longest Unix socket path the kernel accepts is 107 bytes; PostgreSQL adds `/.s.PGSQL.5432`.
const MAX_SOCKET_DIR_LEN: usize = 90;

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) were not found on PATH or under \
         /usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `apt-get install postgresql`, \
         Fedora: `dnf install postgresql-server`, macOS: `brew install postgresql`) or set \
         DATABASE_URL to use an existing PostgreSQL server."
    )]
    BinariesNotFound,
    #[error("{0}")]
    Failed(String),
}

fn failed(message: impl Into<String>) -> LaunchError {
    LaunchError::Failed(message.into())
}

/// Where and how to run a cluster.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// The cluster's data directory (PGDATA).
    pub cluster_dir: PathBuf,
    /// Directory for the Unix socket.
    pub socket_dir: PathBuf,
    /// PostgreSQL's own log.
    pub log_file: PathBuf,
    /// Trade durability for speed (no fsync): for throwaway test clusters only.
    pub ephemeral: bool,
    pub max_connections: u32,
}

impl ClusterOptions {
    /// The layout under FinAI's data directory: `postgres/` for the cluster, `run/` for the socket,
    /// `postgres.log` for the server log.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        let preferred = data_dir.join("run");
        ClusterOptions {
            cluster_dir: data_dir.join("postgres"),
            socket_dir: short_socket_dir(preferred, data_dir),
            log_file: data_dir.join("postgres.log"),
            ephemeral: false,
            max_connections: 100,
        }
    }
}

/// Keeps the socket path under the kernel's limit: a deep data directory gets its socket in
/// /tmp instead, under a name derived from the data directory.
fn short_socket_dir(preferred: PathBuf, data_dir: &Path) -> PathBuf {
    if preferred.as_os_str().len() <= MAX_SOCKET_DIR_LEN {
        return preferred;
    }
    let hash = data_dir
        .to_string_lossy()
        .bytes()
        .fold(0xcbf29ce484222325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        });
    std::env::temp_dir().join(format!("finai-{hash:016x}"))
}

/// The OS account the cluster runs as, when FinAI itself runs as root.
#[derive(Clone, Copy, Debug)]
struct RunAs {
    uid: Uid,
    gid: Gid,
}

/// A running cluster. Dropping it stops PostgreSQL.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    options: ClusterOptions,
    child: Option<Child>,
    pub bin_dir: PathBuf,
}

/// Finds the directory holding `initdb` and `postgres`: `POSTGRES_BIN_DIR`, then PATH, then the
/// newest `/usr/lib/postgresql/<version>/bin` (Debian and Ubuntu keep them there).
pub fn find_binaries() -> Result<PathBuf, LaunchError> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("POSTGRES_BIN_DIR").map(PathBuf::from) {
        if has_both(&dir) {
            return Ok(dir);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|d| has_both(d)) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry
                .file_name()
                .to_string_lossy()
                .split('.')
                .map(|part| part.parse::<u32>().ok())
                .collect::<Option<Vec<u32>>>()?;
            let bin = entry.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, dir)| dir)
        .ok_or(LaunchError::BinariesNotFound)
}

impl EmbeddedPostgres {
    /// Initialises the cluster on first use, then starts it and waits until it accepts
    /// connections.
    pub fn start(options: ClusterOptions) -> Result<Self, LaunchError> {
        let bin_dir = find_binaries()?;
        let run_as = run_as(&options.cluster_dir)?;
        prepare_dir(&options.socket_dir, run_as)?;
        if let Some(parent) = options.cluster_dir.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| failed(format!("cannot create {}: {e}", parent.display())))?;
        }
        if let Some(user) = run_as {
            check_reachable(&options.cluster_dir, user)?;
        }
        if !options.cluster_dir.join("PG_VERSION").is_file() {
            initdb(&bin_dir, &options, run_as)?;
        }
        take_over_stale_server(&options)?;

        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&options.log_file)
            .map_err(|e| failed(format!("cannot open {}: {e}", options.log_file.display())))?;
        let mut command = Command::new(bin_dir.join("postgres"));
        command
            .arg("-D")
            .arg(&options.cluster_dir)
            .arg("-k")
            .arg(&options.socket_dir)
            .args(["-h", "", "-p", &PORT.to_string()])
            .args(["-c", "unix_socket_permissions=0700"])
            .args([
                "-c",
                &format!("max_connections={}", options.max_connections),
            ]);
        if options.ephemeral {
            command.args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]);
        }
        command
            .stdin(Stdio::null())
            .stdout(clone_file(&log)?)
            .stderr(log)
            // Its own process group: a Ctrl-C in the terminal reaches FinAI, which then stops
            // PostgreSQL after the HTTP server has drained, instead of both dying at once.
            .process_group(0);
        as_user(&mut command, run_as);
        let child = command
            .spawn()
            .map_err(|e| failed(format!("cannot start postgres: {e}")))?;

        let mut cluster = EmbeddedPostgres {
            options,
            child: Some(child),
            bin_dir,
        };
        cluster.wait_until_ready(Duration::from_secs(60))?;
        Ok(cluster)
    }

    pub fn options(&self) -> &ClusterOptions {
        &self.options
    }

    /// A libpq URL for `database` over the cluster's socket.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgresql://{SUPERUSER}@/{database}?host={}&port={PORT}",
            percent_encode(&self.options.socket_dir.to_string_lossy())
        )
    }

    /// Creates `name` unless it exists.
    pub fn ensure_database(&self, name: &str) -> Result<(), LaunchError> {
        let mut conn = PgConnection::establish(&self.url("postgres"))
            .map_err(|e| failed(format!("cannot connect to the embedded PostgreSQL: {e}")))?;
        ensure_database(&mut conn, name)
            .map_err(|e| failed(format!("cannot create database {name}: {e}")))
    }

    fn wait_until_ready(&mut self, timeout: Duration) -> Result<(), LaunchError> {
        let deadline = Instant::now() + timeout;
        let url = self.url("postgres");
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(failed(format!(
                        "PostgreSQL exited during start-up ({status}). Its log ({}) ends with:\n{}",
                        self.options.log_file.display(),
                        log_tail(&self.options.log_file)
                    )));
                }
            }
            match PgConnection::establish(&url) {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    return Err(failed(format!(
                        "PostgreSQL did not accept connections within {}s: {e}",
                        timeout.as_secs()
                    )))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Fast shutdown: disconnects clients, checkpoints, exits. Idempotent.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = Pid::from_raw(child.id() as i32);
        let _ = kill(pid, Signal::SIGINT);
        if wait_for_exit(&mut child, Duration::from_secs(30)) {
            return;
        }
        log::warn!("PostgreSQL did not stop within 30s; sending an immediate shutdown");
        let _ = kill(pid, Signal::SIGQUIT);
        if !wait_for_exit(&mut child, Duration::from_secs(5)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The process id of the postmaster, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Creates database `name` through `conn` unless it exists.
pub fn ensure_database(conn: &mut PgConnection, name: &str) -> diesel::QueryResult<()> {
    use diesel::sql_types::Text;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let existing: Count =
        diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
            .bind::<Text, _>(name)
            .get_result(conn)?;
    if existing.n == 0 {
        diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(name))).execute(conn)?;
    }
    Ok(())
}

/// Quotes an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn wait_for_exit(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Root cannot run PostgreSQL: use the owner of an existing cluster, else `postgres`, else
/// `nobody`.
fn run_as(cluster_dir: &Path) -> Result<Option<RunAs>, LaunchError> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    use std::os::unix::fs::MetadataExt;
    if let Ok(meta) = fs::metadata(cluster_dir.join("PG_VERSION")) {
        if meta.uid() != 0 {
            return Ok(Some(RunAs {
                uid: Uid::from_raw(meta.uid()),
                gid: Gid::from_raw(meta.gid()),
            }));
        }
    }
    for name in ["postgres", "nobody"] {
        if let Ok(Some(user)) = User::from_name(name) {
            return Ok(Some(RunAs {
                uid: user.uid,
                gid: user.gid,
            }));
        }
    }
    Err(failed(
        "FinAI runs as root, and PostgreSQL refuses to: create a `postgres` system user \
         (`useradd --system postgres`) or run FinAI as an ordinary user",
    ))
}

fn as_user(command: &mut Command, run_as: Option<RunAs>) {
    if let Some(user) = run_as {
        command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
}

fn prepare_dir(dir: &Path, run_as: Option<RunAs>) -> Result<(), LaunchError> {
    fs::create_dir_all(dir).map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
    if let Some(user) = run_as {
        chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw())).map_err(|e| {
            failed(format!(
                "cannot hand {} to the postgres user: {e}",
                dir.display()
            ))
        })?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| failed(format!("cannot restrict {}: {e}", dir.display())))
}

/// The unprivileged user must be able to walk down to the cluster directory.
fn check_reachable(cluster_dir: &Path, user: RunAs) -> Result<(), LaunchError> {
    use std::os::unix::fs::MetadataExt;
    for ancestor in cluster_dir.ancestors().skip(1) {
        let Ok(meta) = fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.mode();
        let can_enter = (meta.uid() == user.uid.as_raw() && mode & 0o100 != 0)
            || (meta.gid() == user.gid.as_raw() && mode & 0o010 != 0)
            || mode & 0o001 != 0;
        if !can_enter {
            return Err(failed(format!(
                "PostgreSQL runs as uid {} and cannot enter {} (mode {:o}): choose a data \
                 directory outside it with FINAI_DATA_DIR, or set DATABASE_URL",
                user.uid,
                ancestor.display(),
                mode & 0o777
            )));
        }
    }
    Ok(())
}

/// Initialises into a scratch directory and renames it into place, so an interrupted first run
/// never leaves a half-made cluster behind.
fn initdb(
    bin_dir: &Path,
    options: &ClusterOptions,
    run_as: Option<RunAs>,
) -> Result<(), LaunchError> {
    let target = &options.cluster_dir;
    let scratch = target.with_extension("initdb-tmp");
    if target.exists() {
        let empty = fs::read_dir(target)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(failed(format!(
                "{} exists but holds no PostgreSQL cluster (no PG_VERSION); move it away",
                target.display()
            )));
        }
        fs::remove_dir(target)
            .map_err(|e| failed(format!("cannot remove {}: {e}", target.display())))?;
    }
    log::info!("initialising a PostgreSQL cluster in {}", target.display());
    // The C locale (byte-order sorting, English messages) but Unicode letters for case:
    // `lower()` and `ILIKE` (search, unique names) then fold "Ă" like "ă". Where the C.UTF-8
    // locale is missing, plain C.
    let mut attempts = [
        &["--locale=C", "--lc-ctype=C.UTF-8"][..],
        &["--no-locale"][..],
    ]
    .into_iter()
    .peekable();
    while let Some(locale) = attempts.next() {
        if scratch.exists() {
            fs::remove_dir_all(&scratch)
                .map_err(|e| failed(format!("cannot remove {}: {e}", scratch.display())))?;
        }
        prepare_dir(&scratch, run_as)?;
        let mut command = Command::new(bin_dir.join("initdb"));
        command
            .arg("-D")
            .arg(&scratch)
            .args(["-U", SUPERUSER, "--auth=trust", "--encoding=UTF8"])
            .args(locale)
            .arg("--no-instructions");
        if options.ephemeral {
            command.arg("--no-sync");
        }
        as_user(&mut command, run_as);
        // initdb reads the current directory; root's may be closed to the postgres user.
        command.current_dir(&scratch);
        let output = command
            .output()
            .map_err(|e| failed(format!("cannot run initdb: {e}")))?;
        if output.status.success() {
            break;
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        if attempts.peek().is_some() && stderr.contains("locale") {
            log::warn!(
                "initdb refused {locale:?} ({}); trying the C locale",
                stderr.trim()
            );
            continue;
        }
        return Err(failed(format!(
            "initdb failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            stderr
        )));
    }
    fs::rename(&scratch, target)
        .map_err(|e| failed(format!("cannot move the new cluster into place: {e}")))
}

/// Deals with a `postmaster.pid` left behind: a dead or unrelated process's file is removed; a
/// PostgreSQL orphaned by a crashed FinAI is shut down; one still served by another live FinAI
/// is an error (two servers must not share a cluster).
fn take_over_stale_server(options: &ClusterOptions) -> Result<(), LaunchError> {
    let pid_file = options.cluster_dir.join("postmaster.pid");
    let socket_lock = options.socket_dir.join(format!(".s.PGSQL.{PORT}.lock"));
    match live_postmaster(&pid_file, &options.cluster_dir) {
        None => {
            for stale in [&pid_file, &socket_lock] {
                if stale.exists() {
                    log::warn!("removing stale {}", stale.display());
                    let _ = fs::remove_file(stale);
                }
            }
            Ok(())
        }
        Some(pid) => {
            let parent = parent_pid(pid);
            let ours = parent == Some(std::process::id() as i32);
            let parent_is_finai = parent
                .and_then(|p| fs::read_to_string(format!("/proc/{p}/comm")).ok())
                .is_some_and(|comm| comm.trim().starts_with("finai"));
            if parent_is_finai && !ours {
                return Err(failed(format!(
                    "the PostgreSQL cluster in {} is in use by another FinAI server (pid {}); \
                     stop it first or use another FINAI_DATA_DIR",
                    options.cluster_dir.display(),
                    parent.unwrap_or_default()
                )));
            }
            log::warn!("stopping PostgreSQL (pid {pid}) left running by an earlier FinAI process");
            let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
            let deadline = Instant::now() + Duration::from_secs(30);
            while process_alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        }
    }
}

/// The pid in `postmaster.pid` if that process is a PostgreSQL serving `cluster_dir`.
fn live_postmaster(pid_file: &Path, cluster_dir: &Path) -> Option<i32> {
    let contents = fs::read_to_string(pid_file).ok()?;
    let pid: i32 = contents.lines().next()?.trim().parse().ok()?;
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    if !comm.trim().starts_with("postgres") {
        return None;
    }
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let cmdline = String::from_utf8_lossy(&cmdline);
    cmdline
        .contains(&*cluster_dir.to_string_lossy())
        .then_some(pid)
}

/// Alive and not a zombie. A zombie that is our own child (a leaked handle) is reaped.
fn process_alive(pid: i32) -> bool {
    use nix::sys::wait::{waitpid, WaitPidFlag};
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next().map(str::to_owned));
    if state.as_deref() == Some("Z") {
        let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        return false;
    }
    true
}

fn parent_pid(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn clone_file(file: &File) -> Result<File, LaunchError> {
    file.try_clone()
        .map_err(|e| failed(format!("cannot duplicate the log file handle: {e}")))
}

fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

/// A path for a URL's query: reserved bytes encoded, its slashes kept.
fn percent_encode(value: &str) -> String {
    const PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'.')
        .remove(b'-')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(value, PATH).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_data_dirs_get_a_short_socket_dir() {
        let deep = PathBuf::from(format!("/{}", "x".repeat(120)));
        let options = ClusterOptions::in_data_dir(&deep);
        assert!(options.socket_dir.as_os_str().len() <= MAX_SOCKET_DIR_LEN);
        let shallow = ClusterOptions::in_data_dir(Path::new("/srv/finai"));
        assert_eq!(shallow.socket_dir, PathBuf::from("/srv/finai/run"));
    }

    #[test]
    fn socket_paths_are_percent_encoded() {
        assert_eq!(percent_encode("/tmp/a b&c"), "/tmp/a%20b%26c");
    }

    #[test]
    fn parent_pid_reads_proc() {
        let me = std::process::id() as i32;
        let parent = parent_pid(me).unwrap();
        assert!(parent > 0);
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
