//! The build script of the scratch crate of `tests/rebuild.rs`, as the README asks for: cargo
//! reruns it, and so rebuilds the crate, when any file below `meta/` changes or is added.
fn main() {
    println!("cargo::rerun-if-changed=meta");
}
