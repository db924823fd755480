//! The workspace's binaries, for tests that run them as a platform does.

use std::path::PathBuf;

/// The binary `name` of this workspace: next to the running test's own directory
/// (`target/<profile>/deps`). It must be built (`cargo test --workspace` builds every binary
/// before any test runs).
pub fn workspace_binary(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let path = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps")
        .join(name);
    assert!(
        path.exists(),
        "{} is not built: run the tests with `cargo test --workspace`",
        path.display()
    );
    path
}
