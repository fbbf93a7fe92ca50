//! The file readers: `FINAI_OCR_WORKERS` threads per instance, each with its own database
//! connections, reading one queued receipt (`services::receipts::process_next`) or bank file
//! (`services::imports::process_next`) at a time, at a lower CPU priority than the server (a
//! receipt's OCR runs in child processes at that priority too), so requests keep their cores.
//! Woken when a file is queued on this instance, and every few seconds for files queued on
//! another (or left by an instance that died while reading them). Between files they remove
//! stored files no row uses any more.

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::config::OcrSettings;
use crate::db::PgPool;
use crate::realtime::Hub;
use crate::services::{attachments, imports, receipts};
use crate::storage::FileStore;

/// The longest a reader sleeps without looking.
const IDLE_LOOK: Duration = Duration::from_secs(5);
/// Unused files removed per round.
const SWEEP_BATCH: i64 = 100;
/// How often the first reader walks the store for files no row uses (`attachments::reconcile`),
/// and how old such a file must be.
const RECONCILE_EVERY: Duration = Duration::from_secs(3600);

/// Starts the readers for the application that owns `hub`; they end with it.
pub fn spawn(
    pool: PgPool,
    files: Arc<dyn FileStore>,
    settings: OcrSettings,
    scratch: PathBuf,
    hub: Weak<Hub>,
) -> std::io::Result<()> {
    for n in 0..settings.workers.max(1) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        let (pool, files, settings, scratch, hub) = (
            pool.clone(),
            files.clone(),
            settings.clone(),
            scratch.clone(),
            hub.clone(),
        );
        std::thread::Builder::new()
            .name(format!("finai-files-{n}"))
            .spawn(move || {
                lower_priority();
                let mut reconciled: Option<std::time::Instant> = None;
                loop {
                    let Some(woken) = hub.upgrade().map(|hub| hub.files.clone()) else {
                        return;
                    };
                    let reconcile =
                        n == 0 && reconciled.is_none_or(|at| at.elapsed() >= RECONCILE_EVERY);
                    if reconcile {
                        reconciled = Some(std::time::Instant::now());
                    }
                    round(&pool, files.as_ref(), &settings, &scratch, reconcile);
                    runtime.block_on(async {
                        tokio::select! {
                            _ = woken.notified() => {}
                            _ = tokio::time::sleep(IDLE_LOOK) => {}
                        }
                    });
                }
            })?;
    }
    Ok(())
}

/// Lowers the calling thread's priority to nice 10 (on Linux the nice value is per thread;
/// Tesseract and Poppler start at nice 10 of their own). Linux's idle class (`SCHED_IDLE`)
/// was tried: it did not shorten other requests' slowest answers (bench/receipts.sh), and a
/// busy machine starved the readers outright.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let tid = nix::unistd::gettid().as_raw();
        // SAFETY: setpriority has no memory-safety preconditions.
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10) } != 0 {
            log::debug!("could not lower the file reader's priority");
        }
    }
}

/// Whether a reader took a file (and logs what came of it); `None` after an error, which ends
/// the round (and gives up its connections).
fn took(what: &str, outcome: Result<Option<uuid::Uuid>, crate::error::ApiError>) -> Option<bool> {
    match outcome {
        Ok(Some(id)) => {
            log::info!("{what} {id} read");
            Some(true)
        }
        Ok(None) => Some(false),
        Err(e) => {
            log::error!("{what}s: {e}");
            None
        }
    }
}

/// Reads every waiting receipt and bank file, then sweeps unused files (after queueing, when
/// `reconcile`, those no row ever used).
fn round(
    pool: &PgPool,
    files: &dyn FileStore,
    settings: &OcrSettings,
    scratch: &std::path::Path,
    reconcile: bool,
) {
    // Two connections: an import's progress is written beside its open transaction.
    let (mut conn, mut side) = match (pool.get(), pool.get()) {
        (Ok(conn), Ok(side)) => (conn, side),
        (Err(e), _) | (_, Err(e)) => {
            log::warn!("file readers: no database connection: {e}");
            return;
        }
    };
    loop {
        let now = chrono::Utc::now();
        let receipt = took(
            "receipt",
            receipts::process_next(&mut conn, files, settings, scratch, now),
        );
        let import = took(
            "import",
            imports::process_next(&mut conn, &mut side, files, now),
        );
        match (receipt, import) {
            (Some(true), Some(_)) | (Some(_), Some(true)) => {}
            (Some(false), Some(false)) => break,
            // An error may have left the connection inside a transaction: it is given up.
            _ => return,
        }
    }
    if reconcile {
        let cutoff = std::time::SystemTime::now() - RECONCILE_EVERY;
        match attachments::reconcile(&mut conn, files, cutoff) {
            Ok(0) => {}
            Ok(queued) => log::warn!("{queued} stored files no row uses are queued for removal"),
            Err(e) => log::error!("looking for files no row uses: {e}"),
        }
    }
    if let Err(e) = attachments::sweep(&mut conn, files, SWEEP_BATCH) {
        log::error!("removing unused files: {e}");
    }
}
