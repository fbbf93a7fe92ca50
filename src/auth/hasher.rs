//! Where bcrypt runs: a few threads of its own, at a lower CPU priority than everything else.
//!
//! bcrypt at cost 12 is ~0.25 s of one core per login. On the blocking pool, a storm of logins
//! took every core and quadrupled the p99 of ordinary requests (README, Performance). Here at
//! most `BCRYPT_THREADS` hashes run at once (default: half the cores, at least one), on threads
//! at nice 10, so the scheduler serves requests first and logins queue instead of starving
//! them. The login endpoint's rate limit and lockout bound the queue.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Debug, Clone)]
pub struct Hasher {
    jobs: Sender<Job>,
}

/// The nice value of the bcrypt threads (0 is normal, 19 the lowest priority).
const NICENESS: i32 = 10;

impl Hasher {
    pub fn new(threads: usize) -> std::io::Result<Hasher> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("finai-bcrypt-{n}"))
                .spawn(move || work(&queue))?;
        }
        Ok(Hasher { jobs })
    }

    /// Queues `job` on a bcrypt thread without waiting for it.
    pub fn submit(&self, job: impl FnOnce() + Send + 'static) {
        if self.jobs.send(Box::new(job)).is_err() {
            log::warn!("the bcrypt threads have stopped");
        }
    }

    /// Runs `job` on a bcrypt thread and waits for its result without blocking the executor.
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = done.send(job());
            }))
            .map_err(|_| ApiError::internal("the bcrypt threads have stopped"))?;
        result
            .await
            .map_err(|_| ApiError::internal("a bcrypt job panicked"))
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        // The lock is held only while taking a job, not while running it.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return; // every sender is gone: the server is shutting down
        };
        // A panicking job drops its result sender (the caller gets a 500); the thread lives on.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// On Linux the nice value is per thread: this lowers only the calling thread's priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let tid = nix::unistd::gettid().as_raw();
        // SAFETY: setpriority has no memory-safety preconditions; it reads its integer arguments.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICENESS) };
        if result != 0 {
            log::debug!("could not lower the bcrypt thread's priority");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn runs_jobs_and_survives_a_panicking_one() {
        let hasher = Hasher::new(1).unwrap();
        assert_eq!(hasher.run(|| 2 + 2).await.unwrap(), 4);
        assert!(hasher.run(|| -> u8 { panic!("boom") }).await.is_err());
        assert_eq!(hasher.run(|| "still here").await.unwrap(), "still here");
    }

    #[cfg(target_os = "linux")]
    #[actix_web::test]
    async fn its_threads_run_at_a_lower_priority() {
        let hasher = Hasher::new(1).unwrap();
        // SAFETY: getpriority reads its integer arguments only.
        let nice = hasher
            .run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) })
            .await
            .unwrap();
        assert_eq!(nice, NICENESS);
    }
}
