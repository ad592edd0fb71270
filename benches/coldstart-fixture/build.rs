//! Rebuilds the crate when a file is added to or removed from `meta/`.
//!
//! `metadata!` reads the directory at compile time and embeds each file with `include_bytes!`,
//! so an edit to a file is already seen; a new file is not, until the compiler is told that the
//! directory matters. (Cargo checks every file below a directory given here.)
fn main() {
    println!("cargo::rerun-if-changed=meta");
}
