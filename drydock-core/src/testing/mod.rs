//! Test support shared by every crate of the workspace (feature `testing`).
//!
//! Holds the helpers for tests that need something outside the project (a simulator binary, a
//! tool), so that such a test is never silently green: under `DRYDOCK_REQUIRE_ALL=1` (set by CI)
//! a missing tool fails the test with the command that installs it; elsewhere the test is skipped
//! with a line on the real standard error, which the test harness does not capture.

#[cfg(feature = "orchestrator")]
pub mod drivers;
#[cfg(feature = "orchestrator")]
mod faulty;
pub mod sites;
#[cfg(feature = "orchestrator")]
pub mod store;

#[cfg(feature = "orchestrator")]
pub use faulty::FaultyStore;

use std::io::Write;
use std::path::PathBuf;

/// Environment variable that turns every visible skip into a failure (CI sets it to `1`).
pub const REQUIRE_ALL_ENV: &str = "DRYDOCK_REQUIRE_ALL";

/// Whether skips are forbidden in this run (`DRYDOCK_REQUIRE_ALL` set to anything but `0` or empty).
pub fn require_all() -> bool {
    std::env::var(REQUIRE_ALL_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Finds an executable named `name` on `PATH`.
pub fn find_executable(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Returns the path of the tool `name` a test needs, or handles its absence.
///
/// When the tool is missing: panics with `install` (the command that provides it) if
/// [`require_all`] holds, otherwise prints `SKIPPED <test>: ...` on the process's standard error
/// (bypassing the harness's capture, so the skip is visible) and returns `None`.
///
/// ```
/// // `sh` is on every machine this project runs on.
/// let sh = drydock_core::testing::require_tool("doc-example", "sh", "apt-get install -y dash");
/// assert!(sh.is_some());
/// ```
pub fn require_tool(test: &str, name: &str, install: &str) -> Option<PathBuf> {
    if let Some(path) = find_executable(name) {
        return Some(path);
    }
    skip_or_fail(
        test,
        &format!("`{name}` is not installed (install it with: {install})"),
    )
}

/// Skips the test `test` visibly for `reason`, or panics when skips are forbidden.
pub fn skip_or_fail<T>(test: &str, reason: &str) -> Option<T> {
    if require_all() {
        panic!("{test}: {reason}; {REQUIRE_ALL_ENV} is set, so this test may not be skipped");
    }
    // Write to the real stderr: `eprintln!` output of a passing test is captured and hidden.
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {reason}");
    None
}

/// Environment variable naming the outside corpus directory (default: `shared/corpus` beside the
/// workspace, that is `<workspace>/../shared/corpus`).
pub const CORPUS_ENV: &str = "DRYDOCK_CORPUS";

/// Environment variable naming the Python interpreter of the virtual environment that holds the
/// Python peers (`scripts/test` sets it to `target/drydock-venv/bin/python`).
pub const PYTHON_ENV: &str = "DRYDOCK_PYTHON";

/// The workspace root (the directory of the facade's `Cargo.toml`).
fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The outside corpus's `sub` directory or file (e.g. `"drydock-samples"`), or a visible skip.
///
/// The corpus is material this project did not write (the reference's own samples and outputs,
/// captures, real site repositories). It lives outside the repository, at `$DRYDOCK_CORPUS` or
/// `../shared/corpus` beside the workspace. When it is missing the test is skipped visibly, or
/// fails under [`require_all`], through [`skip_or_fail`].
pub fn corpus(test: &str, sub: &str) -> Option<PathBuf> {
    let base = std::env::var_os(CORPUS_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/corpus"));
    let path = base.join(sub);
    if path.exists() {
        return Some(path);
    }
    skip_or_fail(
        test,
        &format!(
            "the outside corpus `{}` is missing (set {CORPUS_ENV} to the corpus directory)",
            path.display()
        ),
    )
}

/// Environment variable naming the outside reference directory (default: `shared/reference`
/// beside the workspace).
pub const REFERENCE_ENV: &str = "DRYDOCK_REFERENCE";

/// The outside reference's `sub` file or directory (e.g. `"maas-api-ops.tsv"`), or a visible
/// skip: like [`corpus`], for the descriptions of the Python Drydock and its peers that the
/// project compares itself with, at `$DRYDOCK_REFERENCE` or `../shared/reference`.
pub fn reference(test: &str, sub: &str) -> Option<PathBuf> {
    outside(test, REFERENCE_ENV, "reference", sub)
}

/// Environment variable naming the outside peers directory (default: `shared/peers` beside the
/// workspace, that is `<workspace>/../shared/peers`).
pub const PEERS_ENV: &str = "DRYDOCK_PEERS";

/// The outside peer `sub` (e.g. `"drydock-client"`, the Python Drydock's API client), or a
/// visible skip.
///
/// Peers are other projects' programs the tests run against (never copied into this
/// repository). They live at `$DRYDOCK_PEERS` or `../shared/peers` beside the workspace; when
/// missing the test is skipped visibly, or fails under [`require_all`].
pub fn peers(test: &str, sub: &str) -> Option<PathBuf> {
    outside(test, PEERS_ENV, "peers", sub)
}

/// `sub` of the outside directory `$<env>` or `../shared/<dir>`, or a visible skip.
fn outside(test: &str, env: &str, dir: &str, sub: &str) -> Option<PathBuf> {
    let base = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared").join(dir));
    let path = base.join(sub);
    if path.exists() {
        return Some(path);
    }
    skip_or_fail(
        test,
        &format!(
            "the outside {dir} `{}` is missing (set {env} to the {dir} directory)",
            path.display()
        ),
    )
}

/// The Python interpreter that has the Python peers installed, or a visible skip.
///
/// Looks at `$DRYDOCK_PYTHON`, then `target/drydock-venv/bin/python` in the workspace; checks
/// that `import <module>` works for every module of `modules`.
pub fn python(test: &str, modules: &[&str]) -> Option<PathBuf> {
    let candidate = std::env::var_os(PYTHON_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/drydock-venv/bin/python"));
    if !candidate.is_file() {
        return skip_or_fail(
            test,
            &format!(
                "no Python environment with the test peers at `{}` (run scripts/test, which makes it)",
                candidate.display()
            ),
        );
    }
    let script = modules
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    let ok = std::process::Command::new(&candidate)
        .args(["-c", &script])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some(candidate)
    } else {
        skip_or_fail(
            test,
            &format!(
                "`{}` cannot import {} (run scripts/test, which installs scripts/deps/python-*.txt)",
                candidate.display(),
                modules.join(", ")
            ),
        )
    }
}
