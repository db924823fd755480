//! One service on a free port: the workspace's binary as a child process, or its library
//! entry point on this process's runtime.

use std::{net::SocketAddr, path::PathBuf, pin::Pin, process::Stdio};

use anyhow::Context as _;

use crate::ports::wait_until_listening;

/// Starts a service's library entry point on this process's runtime, as its binary would
/// (the smoke test passes one, so this crate need not link the services).
pub type InProcess =
    fn(
        Kind,
        Vec<String>,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<tokio::task::JoinHandle<()>>> + Send>>;

/// How the services run.
#[derive(Debug, Clone)]
pub(super) enum How {
    /// The workspace's binaries in this directory, as child processes.
    Binaries(PathBuf),
    /// Inside this process.
    InProcess(InProcess),
}
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `token-service`.
    Tokens,
    /// `mail-service`.
    Mail,
    /// `gateway`.
    Gateway,
}

impl Kind {
    /// The binary's (and the program's) name.
    pub fn binary(self) -> &'static str {
        match self {
            Self::Tokens => "token-service",
            Self::Mail => "mail-service",
            Self::Gateway => "gateway",
        }
    }
}

/// One running service: a child process, or a task of this process.
#[derive(Debug)]
pub struct Service {
    /// Its gRPC or HTTP address.
    pub addr: SocketAddr,
    running: Running,
}

#[derive(Debug)]
enum Running {
    Process(tokio::process::Child),
    Task(tokio::task::JoinHandle<()>),
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Running::Task(task) = &self.running {
            task.abort();
        }
    }
}

impl Service {
    pub(super) async fn start(kind: Kind, args: Vec<String>, how: &How) -> anyhow::Result<Self> {
        let addr_flag = match kind {
            Kind::Gateway => "--http-addr",
            Kind::Tokens | Kind::Mail => "--grpc-addr",
        };
        let addr: SocketAddr = args
            .iter()
            .skip_while(|arg| *arg != addr_flag)
            .nth(1)
            .context("the service's address flag")?
            .parse()?;
        let running = match how {
            How::Binaries(dir) => Running::Process(
                tokio::process::Command::new(dir.join(kind.binary()))
                    .args(&args)
                    .env_remove("RUST_LOG")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .kill_on_drop(true)
                    .spawn()
                    .with_context(|| format!("starting {}", kind.binary()))?,
            ),
            How::InProcess(start) => Running::Task(start(kind, args).await?),
        };
        let service = Self { addr, running };
        wait_until_listening(addr, kind.binary()).await?;
        Ok(service)
    }

    /// The process id, when it runs as its own process.
    pub fn pid(&self) -> Option<u32> {
        match &self.running {
            Running::Process(child) => child.id(),
            Running::Task(_) => None,
        }
    }
}

/// The directory of the workspace's binaries, beside this one (`target/<profile>/`). Under
/// cargo (`cargo run --release -p bench`) they are built first, so a run never measures stale
/// binaries.
pub(super) fn binary_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent().context("the bench's directory")?.to_owned();
    if dir.ends_with("deps") {
        dir.pop();
    }
    if let Ok(cargo) = std::env::var("CARGO") {
        let mut build = std::process::Command::new(cargo);
        build.args([
            "build",
            "-p",
            "token-service",
            "-p",
            "mail-service",
            "-p",
            "gateway",
        ]);
        if dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().context("running cargo build")?;
        anyhow::ensure!(status.success(), "building the services' binaries failed");
    }
    for kind in [Kind::Tokens, Kind::Mail, Kind::Gateway] {
        let binary = dir.join(kind.binary());
        anyhow::ensure!(
            binary.exists(),
            "{} is not built: cargo build --release -p {}",
            binary.display(),
            kind.binary()
        );
    }
    Ok(dir)
}
