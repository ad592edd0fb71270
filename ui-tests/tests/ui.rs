//! Compile tests of `#[preheat::task]` and `preheat::metadata!`.
//!
//! Each file under `tests/ui/` is a small crate of its own with `fn main() {}`:
//!
//! - `tests/ui/pass/*.rs` must compile and run. Main stays empty: a pass case shows that a
//!   signature is accepted and that the generated handle type-checks where users will use it.
//! - `tests/ui/fail/*.rs` must fail to compile with exactly the diagnostics in the `.stderr`
//!   file next to it. The snapshots are committed and reviewed like code: a message a newcomer
//!   cannot act on, or one that points inside generated code, is a bug in the macro. A case whose
//!   snapshot records such a bug says so in a `// Known gap:` comment, so that fixing the macro
//!   shows up as a diff of that snapshot.
//!
//! What the cases cover, by file name:
//!
//! - `metadata_*`: `metadata!` over a directory of YAML. Errors name the file (and the line and
//!   column where the parser knows them) and are spanned on the macro's string literal: invalid
//!   YAML, an unknown field or value (with "did you mean"), a wrong type, an invalid duration,
//!   `workers.min` above `workers.max`, a zero queue capacity or `max_attempts`, a duplicate id
//!   across two files, an unknown or cyclic `upstream`, a `schedule` that does not parse (bad
//!   cron field, both `every` and `cron`, unknown time zone), several errors in one build, a
//!   missing directory, a path that is not a literal.
//! - `id_*`, `attribute_*`: the `#[task("id", metadata = "dir")]` attribute. An id with no
//!   document (with and without a close id to suggest), an invalid or missing id, a `metadata`
//!   directory that does not exist, malformed arguments.
//! - `variant_*`: a task's `variants` and their functions: a variant with no function, a
//!   function whose variant the YAML does not list, variants whose input or output types
//!   differ, a variant defined twice, a weight that is not a number (`pass/variants.rs` is the
//!   accepted form).
//! - `warmup_*`: `#[warmup("resource")]`: its signature (all problems at once), a bad name,
//!   duration or attempt count, an unknown option, an error type that is not `Display`.
//! - The other fail cases: the function's signature (not `async`, generic, `self`, the number,
//!   order and kinds of arguments, the input, output and error types, a non-`Result` return),
//!   `Runtime::submit` with the wrong input type, and several problems reported at once
//!   (`not_async_and_generic`, `signature_and_metadata_errors`) with the user's item still
//!   emitted (`item_still_emitted`).
//!
//! Two functions claiming the same id is not a compile error: each `#[task]` only sees its own
//! function, so the registry reports it at start-up, tested in `core/tests/registry_error.rs`.
//!
//! To add a case or update the snapshots after changing a message, run
//!
//! ```text
//! TRYBUILD=overwrite cargo test -p preheat-ui-tests --test ui
//! ```
//!
//! then read every diff under `tests/ui/fail/` before committing it.
//!
//! Where a case's metadata lives: trybuild compiles each case as a binary of a generated project
//! under `target/tests/trybuild/`, so `CARGO_MANIFEST_DIR` is that project's and the default
//! `meta/` would not be found. The driver sets `PREHEAT_MANIFEST_DIR` to this crate's directory,
//! which the macros read in its place, so paths in cases are relative to `ui-tests/`:
//!
//! - `#[task]` cases share `metadata = "tests/ui/meta/tasks"`, one file of valid documents.
//! - A `metadata!` case, pass or fail, names its own fixture directory,
//!   `tests/ui/meta/<case name>/`, which holds exactly the YAML that case is about.
//!
//! The shared directory is a sibling of the fixtures, not their parent, because a metadata
//! directory is read with every directory below it: the broken fixtures must stay out of it.
//!
//! The driver only runs on stable: compiler messages change between channels and releases, and
//! the snapshots follow the stable toolchain.

#[rustversion::attr(not(stable), ignore)]
#[test]
fn ui() {
    // SAFETY: set before trybuild starts any thread or child process, and this test binary runs
    // this one test (the only one in the file); the variable is read by the compilers trybuild
    // spawns, which inherit it.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PREHEAT_MANIFEST_DIR", env!("CARGO_MANIFEST_DIR"));
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
