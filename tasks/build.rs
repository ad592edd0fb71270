//! Rebuilds the crate when a file is added to or removed from `meta/` or `migrations/`.
//!
//! `metadata!` and `sqlx::migrate!` read their directory at compile time and embed each file, so
//! an edit to a file is already seen; a new file is not, until the compiler is told that the
//! directory matters. (Cargo checks every file below a directory given here.)
fn main() {
    println!("cargo::rerun-if-changed=meta");
    println!("cargo::rerun-if-changed=migrations");
}
