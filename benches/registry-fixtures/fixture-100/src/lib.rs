//! A fixture of the registry benchmark (`benches/src/bin/registry.rs`): no-op tasks, each with a
//! YAML document in `meta/`. See `benches/registry-fixtures/README.md`.
//!
//! Only the benchmark binary that names this crate links it, so its tasks stay out of the other
//! binaries' registries.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

/// One `#[preheat::task]` per `name = "id"` pair, each doing nothing.
macro_rules! fixture_tasks {
    ($($name:ident = $id:literal,)*) => {$(
        /// A fixture task: does nothing; only its metadata matters.
        #[preheat::task($id)]
        pub async fn $name() -> Result<(), std::convert::Infallible> {
            Ok(())
        }
    )*};
}

// `name = "id"` pairs written by `../generate.sh`, with the YAML in `meta/`.
include!("tasks.rs");

preheat::metadata!("meta");
