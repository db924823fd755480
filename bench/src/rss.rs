//! Resident memory of a process, from `/proc/<pid>/status`, now or at its peak while a future
//! runs.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

/// `VmRSS` of `pid` in MiB (`None` when it cannot be read: not Linux, or gone).
pub fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs `work` while sampling `pid`'s RSS every 5 ms; returns its output and the peak in MiB.
pub async fn peak_while<T>(pid: u32, work: impl Future<Output = T>) -> (T, f64) {
    let peak_kib = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak_kib, done) = (Arc::clone(&peak_kib), Arc::clone(&done));
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Some(mib) = rss_mib(pid) {
                    peak_kib.fetch_max((mib * 1024.0) as u64, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let output = work.await;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    (output, peak_kib.load(Ordering::Relaxed) as f64 / 1024.0)
}
