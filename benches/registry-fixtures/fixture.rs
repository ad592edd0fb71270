// The body of every fixture crate's `src/lib.rs`, which includes this file: the crates differ
// only in their generated `src/tasks.rs` and `meta/`.

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

// `name = "id"` pairs written by `generate.sh`, with the YAML in `meta/`. (An `include!` path
// is relative to the file that names it, and this file is shared: anchor it at the crate.)
include!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/tasks.rs"));

preheat::metadata!("meta");
