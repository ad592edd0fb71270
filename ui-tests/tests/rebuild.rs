//! Rebuild tests of `metadata!`: after a YAML file is edited or added, the next build must see it.
//!
//! The macros read YAML at compile time, behind cargo's back. Cargo rebuilds a crate only when a
//! file it was told about is newer than the last build: the files in rustc's dep-info (the
//! sources, and every file read with `include_bytes!`) and the `rerun-if-changed` paths of the
//! crate's build script. `metadata!` embeds each file of its directory with include_dir, whose
//! expansion is one `include_bytes!` per file, and `#[task]` `include_bytes!` the file where it
//! found its id, so an edit to an existing file rebuilds the crate. A file *added* to the
//! directory is in no list: stable Rust gives a macro no way to say "this directory matters"
//! (`proc_macro::tracked_path` is unstable), so the README asks crates for a build script with
//! `cargo::rerun-if-changed=meta`, which makes cargo look at everything below the directory.
//!
//! Each test builds a scratch crate twice or more and changes its YAML in between:
//!
//! - `edits_and_added_files_rebuild_with_the_build_script`: the crate as the README describes
//!   it. Breaking `meta/jobs.yaml` fails the next build with the macro's message, undoing the
//!   edit makes it pass again, and adding a broken `meta/extra.yaml` fails it again.
//! - `added_files_are_missed_without_the_build_script`: the same crate without `build.rs`. The
//!   edit is still seen (that is the macros' own tracking, with no build script to help), but
//!   the added file is not: the build after it does nothing. This documents the limitation; if
//!   a future Rust, cargo or macro change makes it fail, new files are tracked without a build
//!   script, and the README (and `tasks/build.rs`) can say so.
//!
//! The scratch crates are copies of `tests/rebuild/` (a `main.rs`, a `build.rs` and
//! `meta/jobs.yaml`) with a generated `Cargo.toml` that depends on this workspace's `preheat` by
//! absolute path, and the workspace's `Cargo.lock`, so that they build with the versions the
//! workspace uses and without asking the registry. They live at a stable path, next to the
//! target directory they share, `<target>/tests/rebuild/`, as trybuild's projects do: the
//! dependencies compile on the first run only, and runs do not pile up artifacts. Each is a
//! workspace of its own (an empty `[workspace]` table), so this workspace does not claim it.
//!
//! Modification times: cargo compares them, and some file systems keep them to the second or
//! two. Rather than sleeping, an edit sets its file's time a few seconds ahead, so that it is
//! newer than the last build however coarse the clock; undoing the edit puts the old time back,
//! so that a later step is never rebuilt because of an earlier one. (The build in between failed
//! and left no output, so cargo rebuilds the crate after the undo whatever the times say.)
//!
//! Like the UI driver, these tests only run on stable: the limitation they pin down is stable's
//! (nightly has `proc_macro::tracked_path`), and one channel is enough to pay for the first run,
//! which compiles the dependencies once more for the scratch crates.

use std::fmt;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// `meta/jobs.yaml` broken: the macro names the field in its error.
const BROKEN_JOBS: &str = "id: scratch.job\nworkers: { min: 5, max: 1 }\n";

/// A broken file to add, so that a build that reads it fails and one that does not succeeds.
const EXTRA: (&str, &str) = ("meta/extra.yaml", "id: scratch.extra\ntimeout: soon\n");

/// How far ahead of the clock a change's modification time is set: more than the granularity
/// of any file system cargo runs on (FAT keeps two seconds).
const AHEAD: Duration = Duration::from_secs(5);

#[rustversion::attr(not(stable), ignore)]
#[test]
fn edits_and_added_files_rebuild_with_the_build_script() {
    let scratch = Scratch::new("rebuild-with-build-script", BuildScript::Yes);
    scratch.check_edits_rebuild();

    scratch.add(EXTRA);
    let build = scratch.build();
    assert!(
        !build.success && build.stderr.contains(EXTRA.0),
        "adding `{}` to a crate whose build script says `cargo::rerun-if-changed=meta` must fail the \
         next build with the macro's error about the new file, as the README promises:\n{build}",
        EXTRA.0,
    );
}

#[rustversion::attr(not(stable), ignore)]
#[test]
fn added_files_are_missed_without_the_build_script() {
    let scratch = Scratch::new("rebuild-without-build-script", BuildScript::No);
    scratch.check_edits_rebuild();

    // Without this, the step below could not tell "the new file is not tracked" from "the crate
    // was not rebuilt anyway": a build with nothing changed must do nothing.
    let build = scratch.build();
    assert!(
        build.success && !build.compiled(scratch.name),
        "a build with nothing changed rebuilt the scratch crate, so this test cannot tell whether an \
         added file is tracked; see cargo's reason (the `Dirty` line):\n{build}",
    );

    scratch.add(EXTRA);
    let build = scratch.build();
    assert!(
        build.success && !build.compiled(scratch.name),
        "adding `{}` rebuilt a crate that has no build script: files added to a metadata directory \
         are now tracked without `cargo::rerun-if-changed`. That is good news: remove the paragraph \
         about the build script from the README (\"A file *added* to the directory does too once the \
         crate has a build script\"), consider removing `tasks/build.rs`, and turn this test into a \
         check that an added file rebuilds the crate. The build:\n{build}",
        EXTRA.0,
    );
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BuildScript {
    Yes,
    No,
}

/// A scratch crate: a copy of `tests/rebuild/` built with cargo.
struct Scratch {
    /// The package name, also the name of its directory.
    name: &'static str,
    dir: PathBuf,
    target: PathBuf,
}

impl Scratch {
    /// Sets up the crate afresh, over whatever an earlier run left.
    fn new(name: &'static str, build_script: BuildScript) -> Self {
        let ui_tests = Path::new(env!("CARGO_MANIFEST_DIR"));
        let workspace = ui_tests.parent().expect("ui-tests/ is in the workspace");
        let fixture = ui_tests.join("tests/rebuild");
        let root = rebuild_dir();
        let dir = root.join(name);
        match fs::remove_dir_all(&dir) {
            Err(error) if error.kind() != ErrorKind::NotFound => panic!("cannot remove `{}`: {error}", dir.display()),
            _ => {}
        }

        let mut files = vec!["src/main.rs", "meta/jobs.yaml"];
        if build_script == BuildScript::Yes {
            files.push("build.rs");
        }
        for file in files {
            let to = dir.join(file);
            fs::create_dir_all(to.parent().expect("a file is in a directory")).expect("create the scratch crate");
            fs::copy(fixture.join(file), &to).unwrap_or_else(|error| panic!("cannot copy `{file}`: {error}"));
        }
        // A literal TOML string: no escapes, so a Windows path stays as it is.
        let preheat = workspace.join("core");
        let manifest = format!(
            "[package]\n\
             name = \"{name}\"\n\
             version = \"0.1.0\"\n\
             edition = \"2024\"\n\
             publish = false\n\
             \n\
             [dependencies]\n\
             preheat = {{ path = '{}' }}\n\
             \n\
             # A workspace of its own, not a member of preheat's.\n\
             [workspace]\n",
            preheat.display(),
        );
        fs::write(dir.join("Cargo.toml"), manifest).expect("write the scratch crate's Cargo.toml");
        // The workspace's versions: nothing to resolve, so no registry access. Cargo drops what
        // the scratch crate does not use. (A checkout without a lock file resolves afresh.)
        match fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")) {
            Err(error) if error.kind() != ErrorKind::NotFound => panic!("cannot copy Cargo.lock: {error}"),
            _ => {}
        }
        Self { name, dir, target: root.join("target") }
    }

    /// Breaking `meta/jobs.yaml` must fail the next build, and undoing it must fix it.
    fn check_edits_rebuild(&self) {
        let build = self.build();
        assert!(build.success, "the scratch crate does not build as copied from tests/rebuild/:\n{build}");

        let jobs = self.edit("meta/jobs.yaml", BROKEN_JOBS);
        let build = self.build();
        assert!(
            !build.success && build.stderr.contains("workers.min"),
            "after `meta/jobs.yaml` was edited to `workers: {{ min: 5, max: 1 }}`, the build must fail \
             with the macro's error about `workers.min`; either the edit did not rebuild the crate, \
             or the message changed:\n{build}",
        );

        jobs.undo();
        let build = self.build();
        assert!(build.success, "after `meta/jobs.yaml` was set back, the build must succeed:\n{build}");
    }

    /// Replaces a file's text, with a time newer than any build so far; the result undoes it.
    fn edit(&self, file: &str, text: &str) -> Edit {
        let path = self.dir.join(file);
        let old = fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read `{file}`: {error}"));
        let modified = fs::metadata(&path).and_then(|metadata| metadata.modified()).expect("a modification time");
        write(&path, text, SystemTime::now() + AHEAD);
        Edit { path, old, modified }
    }

    /// Adds a file, with a time newer than any build so far.
    fn add(&self, (file, text): (&str, &str)) {
        write(&self.dir.join(file), text, SystemTime::now() + AHEAD);
    }

    fn build(&self) -> Build {
        // `--verbose` makes cargo say why it rebuilds a crate (its `Dirty` lines), for the
        // assertion messages. `PREHEAT_MANIFEST_DIR` would make the macros read another crate's
        // directory (see tests/ui.rs).
        let output = Command::new(env!("CARGO"))
            .args(["build", "--verbose", "--color=never"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("PREHEAT_MANIFEST_DIR")
            .output()
            .expect("run cargo");
        Build { success: output.status.success(), stderr: String::from_utf8_lossy(&output.stderr).into_owned() }
    }
}

/// An edit to undo.
struct Edit {
    path: PathBuf,
    old: String,
    modified: SystemTime,
}

impl Edit {
    /// Puts the text back with its old time, so that the file is not newer than the next
    /// successful build and no later step is rebuilt because of it.
    fn undo(self) {
        write(&self.path, &self.old, self.modified);
    }
}

fn write(path: &Path, text: &str, modified: SystemTime) {
    fs::write(path, text).unwrap_or_else(|error| panic!("cannot write `{}`: {error}", path.display()));
    File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(modified))
        .unwrap_or_else(|error| panic!("cannot set the modification time of `{}`: {error}", path.display()));
}

/// `<target>/tests/rebuild`, beside trybuild's `<target>/tests/trybuild`.
fn rebuild_dir() -> PathBuf {
    // This test runs as `<target>/<profile>/deps/rebuild-<hash>` (with `--target`, the target
    // directory has one more level, which only moves this one down), wherever CARGO_TARGET_DIR
    // or a cargo config put the target directory.
    let exe = std::env::current_exe().expect("the test executable's path");
    let target = exe.ancestors().nth(3).expect("the test executable is in <target>/<profile>/deps/");
    target.join("tests/rebuild")
}

/// What a `cargo build` did.
struct Build {
    success: bool,
    stderr: String,
}

impl Build {
    /// Whether the build compiled (rather than reused) the scratch crate.
    fn compiled(&self, name: &str) -> bool {
        self.stderr.contains(&format!("Compiling {name} v"))
    }
}

impl fmt::Display for Build {
    /// Cargo's output without its `Fresh` and `Running` lines, which only list dependencies and
    /// compiler command lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "cargo build {}", if self.success { "succeeded" } else { "failed" })?;
        for line in self.stderr.lines() {
            let trimmed = line.trim_start();
            if !trimmed.starts_with("Fresh ") && !trimmed.starts_with("Running `") {
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}
