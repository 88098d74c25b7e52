//! Owner-only permissions on the store's directory and files.
//!
//! The store holds design snapshots, which hold BMC credentials. The directory is created with
//! mode 0700 before sled opens it, and after opening (and after retention) every directory
//! below it is set to 0700 and every file to 0600, whatever the process's umask. Files sled
//! creates later (new snapshot files) get the umask's mode, but sit in a 0700 directory that
//! only the owner can enter; the next open or retention run tightens them too.

use std::io;
use std::path::Path;

/// Creates `dir` (and missing parents) with mode 0700, and sets `dir` itself to 0700.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        set_mode(dir, 0o700)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Sets every directory under `dir` to 0700 and every file to 0600.
pub(crate) fn restrict_tree(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            set_mode(&path, 0o700)?;
            restrict_tree(&path)?;
        } else if kind.is_file() {
            set_mode(&path, 0o600)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}
