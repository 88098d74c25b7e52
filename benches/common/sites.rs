//! The synthetic sites of `shared/corpus/sites/`, shared by the design and memory benches.

use std::path::PathBuf;

use drydock::core::design::Source;

/// `site_<n>.yaml` as a source (the `shared/` folder must sit beside the repository).
pub(crate) fn site(n: usize) -> Source {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/sites"
    ))
    .join(format!("site_{n}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (shared/ must sit beside the repository)",
            path.display()
        )
    });
    Source::new(path.display().to_string(), text)
}
