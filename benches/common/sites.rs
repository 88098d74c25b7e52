//! The generated sites of the design and memory benches
//! (`drydock_core::testing::sites::generate`).

use drydock::core::design::Source;

/// A generated site of `n` nodes, as the source `site_<n>.yaml`.
pub(crate) fn site(n: usize) -> Source {
    Source::new(
        format!("site_{n}.yaml"),
        drydock_core::testing::sites::generate(n),
    )
}
