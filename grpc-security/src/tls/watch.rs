//! When TLS files are read again (every few seconds, and at once on SIGHUP) and whether they
//! changed: a digest of their content, so a Kubernetes Secret's symlink swap counts too, and an
//! unusable change is logged once rather than at every look.

use std::{path::Path, time::Duration};

use sha2::{Digest as _, Sha256};

use super::{TlsError, pem::PemFile};

/// How often the files are read for a change.
const RELOAD_EVERY: Duration = Duration::from_secs(3);

/// The SHA-256 of the named files' contents, in order.
pub(crate) fn digest_of(files: &[(&'static str, &Path)]) -> Result<[u8; 32], TlsError> {
    let mut digest = Sha256::new();
    for (variable, path) in files {
        PemFile::read(variable, path)?.digest_into(&mut digest);
    }
    Ok(digest.finalize().into())
}

/// What was last seen of a set of files.
#[derive(Debug)]
pub(crate) struct Changes {
    /// `None`: some file could not be read at the last look.
    last_seen: Option<[u8; 32]>,
}

impl Changes {
    /// Starting from the files whose digest is `started_from`, already in use.
    pub(crate) fn since(started_from: [u8; 32]) -> Self {
        Self {
            last_seen: Some(started_from),
        }
    }

    /// When `now` (the files' digest) differs from the last look: `load`'s value if it can be
    /// used, else `None` with one warning. `load` returns the digest of what it read.
    pub(crate) fn check<T>(
        &mut self,
        now: Result<[u8; 32], TlsError>,
        load: impl FnOnce() -> Result<(T, [u8; 32]), TlsError>,
    ) -> Option<T> {
        if now.as_ref().ok() == self.last_seen.as_ref() {
            return None;
        }
        self.last_seen = now.as_ref().ok().copied();
        match now.and_then(|_| load()) {
            Ok((value, digest)) => {
                self.last_seen = Some(digest);
                Some(value)
            }
            Err(error) => {
                tracing::warn!(%error, "gRPC TLS files changed but cannot be used: the current ones stay");
                None
            }
        }
    }
}

/// When to read the files again: every [`RELOAD_EVERY`], and at once on SIGHUP.
pub(crate) struct Reloads {
    ticks: tokio::time::Interval,
    #[cfg(unix)]
    hangups: Option<tokio::signal::unix::Signal>,
}

impl Reloads {
    pub(crate) fn new() -> Self {
        let mut ticks = tokio::time::interval(RELOAD_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            ticks,
            #[cfg(unix)]
            hangups: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                .inspect_err(|error| tracing::warn!(%error, "no SIGHUP reloads of gRPC TLS"))
                .ok(),
        }
    }

    /// Resolves at the next time to look (cancel safe).
    pub(crate) async fn next(&mut self) {
        #[cfg(unix)]
        if let Some(hangups) = &mut self.hangups {
            tokio::select! {
                _ = self.ticks.tick() => {}
                _ = hangups.recv() => {}
            }
            return;
        }
        self.ticks.tick().await;
    }
}
