//! Placeholder; the fake MAAS example comes with the fake.
fn main() {}
