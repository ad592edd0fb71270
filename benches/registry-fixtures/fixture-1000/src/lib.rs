//! A fixture of the registry benchmark (`benches/src/bin/registry.rs`): no-op tasks, each with a
//! YAML document in `meta/`. See `benches/registry-fixtures/README.md`.
//!
//! Only the benchmark binary that names this crate links it, so its tasks stay out of the other
//! binaries' registries.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

include!("../../fixture.rs");
