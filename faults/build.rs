//! Rebuilds the crate when a file is added to or removed from `meta/`: `metadata!` embeds the
//! directory's files, and a new one is only seen once Cargo is told the directory matters.
fn main() {
    println!("cargo::rerun-if-changed=meta");
}
