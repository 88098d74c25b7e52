//! Fake MAAS (in progress).
