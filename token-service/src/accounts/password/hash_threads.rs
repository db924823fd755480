//! The threads argon2 and the policy's scoring run on: fixed sets (one thread per hash allowed
//! at once; one per core for scoring), each below the CPU priority of the threads that serve
//! requests (nice [`NICE`]). A burst of resets then keeps
//! every core busy hashing while a token check that arrives meanwhile is scheduled first,
//! instead of queueing behind 19 MiB of memory-hard work on the same core.

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex, mpsc},
};

use crate::Error;

/// How far below normal priority hashing runs: the kernel gives a runnable request thread about
/// ten times a hash thread's share, and a hash still progresses on a busy machine.
pub(crate) const HASHING_NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// Hands work to the hash threads; they stop when the last handle is dropped.
#[derive(Clone, Debug)]
pub(crate) struct HashThreads {
    jobs: mpsc::Sender<Job>,
}

impl HashThreads {
    /// Starts `count` threads named `<name>-<n>`, at `nice` (0: the process's own priority).
    pub(crate) fn start(name: &str, count: usize, nice: i32) -> std::io::Result<Self> {
        let (jobs, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..count.max(1) {
            let receiver = Arc::clone(&receiver);
            std::thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || serve(&receiver, nice))?;
        }
        Ok(Self { jobs })
    }

    /// Runs `work` on a hash thread and answers its result.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(work());
        });
        self.jobs
            .send(job)
            .map_err(|_| Error::Internal("the hash threads have stopped".to_owned()))?;
        answered
            .await
            .map_err(|_| Error::Internal("a hash job failed".to_owned()))
    }
}

/// One hash thread: lowers its own priority, then runs jobs until the pool is gone. A job that
/// panics drops its answer (the caller sees an internal error) and the thread carries on.
fn serve(receiver: &Mutex<mpsc::Receiver<Job>>, nice: i32) {
    if nice > 0 {
        lower_priority(nice);
    }
    loop {
        let job = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}

/// On Linux `setpriority(PRIO_PROCESS, tid)` sets one thread's nice value (never raised: a
/// process started nicer stays so). Where it is not allowed the thread hashes at its normal
/// priority: slower checks under load, nothing wrong.
fn lower_priority(nice: i32) {
    let thread = Some(rustix::thread::gettid());
    let lowered = match rustix::process::getpriority_process(thread) {
        Ok(current) if current >= nice => Ok(()),
        _ => rustix::process::setpriority_process(thread, nice),
    };
    if let Err(error) = lowered {
        tracing::warn!(%error, "a hash thread keeps its normal priority");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_a_hash_thread_below_normal_priority() {
        let threads = HashThreads::start("argon2", 1, HASHING_NICE).unwrap();
        let (name, nice) = threads
            .run(|| {
                let name = std::thread::current().name().map(str::to_owned);
                let nice = rustix::process::getpriority_process(Some(rustix::thread::gettid()));
                (name, nice.unwrap())
            })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("argon2-0"));
        assert!(nice >= HASHING_NICE, "nice {nice}");
    }

    #[tokio::test]
    async fn a_job_that_panics_fails_alone_and_the_thread_serves_the_next() {
        let threads = HashThreads::start("argon2", 1, HASHING_NICE).unwrap();
        let failed = threads.run(|| -> u8 { panic!("boom") }).await;
        assert!(matches!(failed, Err(Error::Internal(_))));
        assert_eq!(threads.run(|| 7).await.unwrap(), 7);
    }
}
