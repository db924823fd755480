//! The Python environment the official clients run in: a venv under the target dir with
//! `clients/requirements.txt` installed, made once and reused while the requirements are
//! unchanged.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use tokio::{process::Command, sync::OnceCell};

/// The repository's `clients/` folder.
pub fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients")
}

/// The venv's python, creating the venv on first use.
pub async fn python() -> &'static Path {
    static PYTHON: OnceCell<PathBuf> = OnceCell::const_new();
    PYTHON.get_or_init(create_venv).await
}

async fn create_venv() -> PathBuf {
    let requirements = clients_dir().join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("clients/requirements.txt");
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("clients-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("installed-requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
        return python;
    }
    run(Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg("--clear")
        .arg(&venv))
    .await;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements))
    .await;
    std::fs::write(&stamp, wanted).expect("write the venv stamp");
    python
}

async fn run(command: &mut Command) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .await
        .expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs a script under `clients/` with the venv's python and returns its JSON output.
pub async fn run_client(script: &str, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let mut command = Command::new(python().await);
    command
        .arg(clients_dir().join(script))
        .args(args)
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().await.expect("python starts");
    assert!(
        output.status.success(),
        "{script} {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{script} printed no JSON ({error}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
