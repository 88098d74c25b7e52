//! Test support shared by every crate of the workspace (feature `testing`).
//!
//! Holds the helpers for tests that need something outside the project (a simulator binary, a
//! tool), so that such a test is never silently green: under `DRYDOCK_REQUIRE_ALL=1` (set by CI)
//! a missing tool fails the test with the command that installs it; elsewhere the test is skipped
//! with a line on the real standard error, which the test harness does not capture.

pub mod drivers;
pub mod store;

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
