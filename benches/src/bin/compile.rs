//! What `#[task]` costs at compile time: the rebuild of a crate of 100 tasks after an edit, and
//! its release binary's size, beside the same functions wired to tokio by hand.
//!
//! Run with `cargo run --release -p preheat-benches --bin compile [-- --rounds N]`.
//!
//! The binary writes two standalone cargo projects into a scratch directory, each with its own
//! `[workspace]` table (so it is a member of no workspace), edition 2024, and the release profile
//! a user gets (no `[profile]` section):
//!
//! - **`tasks-100`**: depends on this workspace's `preheat` by absolute path, with
//!   `default-features = false` as a slim service has it, plus `serde` (derive) and `tokio`
//!   (`rt-multi-thread`, `macros`). 100 functions `#[preheat::task("bench.task_NNN")] async fn
//!   task_NNN(input: InputNNN) -> Result<OutputNNN, String>`, each with its own serde input and
//!   output structs, one YAML document each in `meta/` (embedded by `preheat::metadata!("meta")`,
//!   with the `build.rs` the README asks for), and a `main` that starts the runtime and submits
//!   each task once, awaiting its outcome.
//! - **`handwritten-100`**: the same 100 functions and structs without the attribute, and a
//!   dispatcher written the common way: an `async fn` with a `match` on the task id that parses
//!   the input from JSON (`serde_json`) and awaits the function; `main` runs each job once as a
//!   tokio task (`tokio::spawn` of the dispatcher). No timeout, retry or pool: what a hand-wired
//!   dispatcher has and nothing more.
//!
//! Both compute the same checksum from the same inputs, which this binary checks by running them
//! once after the first build. The generated files depend only on this source and the path of
//! the workspace: every run writes the same bytes (a file already holding them is left alone).
//! The workspace's `Cargo.lock` is copied into each project first, so they build with the
//! versions this workspace uses and need no index update.
//!
//! **Method.** Each project is built once (`cargo build --release`: every dependency, not
//! timed). Then [`DEFAULT_ROUNDS`] rounds (or `--rounds N`), interleaved (tasks, handwritten,
//! tasks, ...): the last line of the project's `src/main.rs`, a comment, is rewritten with the
//! round's number, and `cargo build --release` is timed, wall clock, from spawn to exit. Cargo
//! must report that it compiled the project's own crate, or the run fails; that it compiled
//! nothing else is printed. Each project has its own target directory, kept between rounds and
//! runs, so only the crate itself is rebuilt. Medians reported; the binary sizes are those of
//! the last build.
//!
//! The scratch directory is `$PREHEAT_COMPILE_BENCH_DIR` if set, else `compile-bench/` in the
//! target directory (`$CARGO_TARGET_DIR`, or `target/` at the workspace root): never in the
//! source tree.
//!
//! The run ends with `key=value` lines (see [`Report`]).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use preheat_benches::report::Report;
use preheat_benches::samples::Samples;

/// Tasks in each generated project.
const TASKS: usize = 100;
/// Timed rebuilds per project, unless `--rounds` says otherwise.
const DEFAULT_ROUNDS: usize = 3;
/// The project's goal for the rebuild of `tasks-100` against `handwritten-100`.
const GOAL: f64 = 3.0;
/// Overrides the scratch directory.
const DIR_ENV: &str = "PREHEAT_COMPILE_BENCH_DIR";
/// The benchmarks' crate, as the build saw it; the workspace root is its parent.
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// The first words of the last line of every generated `src/main.rs`; the rounds rewrite it.
const MARKER: &str = "// Rebuild marker (rewritten by each round of the benchmark):";
/// What `--help` prints.
const USAGE: &str = "usage: compile [--rounds N]\n\n\
    Times `cargo build --release` of a generated crate of 100 #[task] fns after an edit, beside the same fns \
    wired by hand.\nScratch directory: $PREHEAT_COMPILE_BENCH_DIR, else <target dir>/compile-bench.";

fn main() -> ExitCode {
    let rounds = match parse_args(std::env::args().skip(1)) {
        Ok(Some(rounds)) => rounds,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("error: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(rounds) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The number of rounds from the command line, or `None` for `--help`.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<usize>, String> {
    let mut rounds = DEFAULT_ROUNDS;
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--rounds" => args.next().ok_or("`--rounds` needs a number")?,
            other => match other.strip_prefix("--rounds=") {
                Some(value) => value.to_owned(),
                None => return Err(format!("unknown argument `{other}`")),
            },
        };
        rounds = match value.parse() {
            Ok(0) | Err(_) => return Err(format!("`--rounds` takes a whole number of at least 1, not `{value}`")),
            Ok(rounds) => rounds,
        };
    }
    Ok(Some(rounds))
}

/// Generates both projects, builds them once, times the rebuilds and prints the report.
fn run(rounds: usize) -> Result<(), String> {
    let workspace = workspace_root()?;
    let scratch = scratch_dir(&workspace)?;
    let lock = std::fs::read_to_string(workspace.join("Cargo.lock"))
        .map_err(|error| format!("cannot read {}: {error}", workspace.join("Cargo.lock").display()))?;
    let projects = [Project::tasks(&scratch, &workspace, &lock), Project::handwritten(&scratch, &lock)];

    println!("compile: {TASKS} #[task] fns (tasks-100) beside the same fns wired by hand (handwritten-100)");
    println!("  scratch directory: {}", scratch.display());
    let mut checksums = Vec::new();
    for project in &projects {
        project.write(0)?;
        let build = project.build()?;
        let checksum = project.run_binary()?;
        println!(
            "  first build of {:<16} {:>7.1} s  (every dependency; not timed)  it runs: {checksum}",
            project.name, build.seconds
        );
        checksums.push(checksum);
    }
    if checksums.iter().any(|checksum| *checksum != checksums[0]) {
        return Err(format!("the two projects disagree: {}", checksums.join(" against ")));
    }

    println!("\nrebuild after an edit of src/main.rs (`cargo build --release`, {rounds} rounds interleaved)");
    let mut times: [Vec<f64>; 2] = Default::default();
    for round in 1..=rounds {
        for (project, times) in projects.iter().zip(&mut times) {
            project.write(round)?;
            let build = project.build()?;
            let others = if build.others.is_empty() {
                String::new()
            } else {
                format!("  (also compiled: {})", build.others.join(", "))
            };
            println!("  round {round:<2} {:<16} {:>7.2} s{others}", project.name, build.seconds);
            times.push(build.seconds);
        }
    }
    let [tasks, handwritten] = times.map(Samples::new);
    for (project, samples) in projects.iter().zip([&tasks, &handwritten]) {
        println!(
            "  {:<25} median {:>7.2} s   (min {:.2}, max {:.2})",
            project.name,
            samples.median(),
            samples.min(),
            samples.max()
        );
    }
    let ratio = tasks.median() / handwritten.median();
    println!("  tasks-100 / handwritten-100: {ratio:.2} (goal: at most {GOAL})");

    let [tasks_bytes, handwritten_bytes] = [&projects[0], &projects[1]].map(Project::binary_bytes);
    let (tasks_bytes, handwritten_bytes) = (tasks_bytes?, handwritten_bytes?);
    let per_task = (tasks_bytes as f64 - handwritten_bytes as f64) / TASKS as f64;
    println!("\nrelease binary (the default profile)");
    println!("  tasks-100        {tasks_bytes:>12} bytes");
    println!("  handwritten-100  {handwritten_bytes:>12} bytes");
    println!("  difference per #[task]: {per_task:.0} bytes");

    let mut report = Report::new();
    report.add("tasks_100_rebuild_s", format!("{:.2}", tasks.median()));
    report.add("handwritten_100_rebuild_s", format!("{:.2}", handwritten.median()));
    report.add("compile_vs_handwritten", format!("{ratio:.2}"));
    report.add("tasks_100_bytes", tasks_bytes);
    report.add("handwritten_100_bytes", handwritten_bytes);
    report.add("release_bytes_per_task", format!("{per_task:.0}"));
    println!();
    report.print();
    Ok(())
}

/// The root of this workspace, absolute: the generated `Cargo.toml` names `core/` by its path.
fn workspace_root() -> Result<PathBuf, String> {
    let root = Path::new(MANIFEST_DIR).join("..");
    let root =
        root.canonicalize().map_err(|error| format!("cannot find the workspace at {}: {error}", root.display()))?;
    if !root.join("core/Cargo.toml").is_file() {
        return Err(format!("{} has no core/Cargo.toml; is it the preheat workspace?", root.display()));
    }
    Ok(root)
}

/// Where the projects go: `$PREHEAT_COMPILE_BENCH_DIR`, else `compile-bench/` in the target
/// directory. Absolute, so that the projects can be built from anywhere.
fn scratch_dir(workspace: &Path) -> Result<PathBuf, String> {
    let dir = match (std::env::var_os(DIR_ENV), std::env::var_os("CARGO_TARGET_DIR")) {
        (Some(dir), _) if !dir.is_empty() => PathBuf::from(dir),
        (_, Some(target)) if !target.is_empty() => PathBuf::from(target).join("compile-bench"),
        _ => workspace.join("target/compile-bench"),
    };
    std::path::absolute(&dir).map_err(|error| format!("cannot make {} absolute: {error}", dir.display()))
}

/// One generated project: its files, and where it is built.
#[derive(Debug)]
struct Project {
    /// The package and binary name, and the name of its directory.
    name: &'static str,
    /// Its root, with `Cargo.toml`.
    dir: PathBuf,
    /// Its own target directory, kept between rounds.
    target: PathBuf,
    /// Every file but `src/main.rs`, by path relative to [`dir`](Self::dir).
    files: Vec<(String, String)>,
    /// `src/main.rs` without its last line, the marker.
    main: String,
}

/// One `cargo build` of a project.
#[derive(Debug)]
struct Build {
    /// Wall clock from spawn to exit.
    seconds: f64,
    /// Crates compiled besides the project's own.
    others: Vec<String>,
}

impl Project {
    /// `tasks-100`: the tasks with `#[preheat::task]`, their YAML, and a runtime.
    fn tasks(scratch: &Path, workspace: &Path, lock: &str) -> Self {
        let core = workspace.join("core");
        let manifest = format!(
            "{HEADER}[package]\nname = \"tasks-100\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             {STANDALONE}[dependencies]\npreheat = {{ path = {}, default-features = false }}\n{COMMON_DEPS}",
            toml_string(&core.to_string_lossy())
        );
        let build_script = format!("{RUST_HEADER}fn main() {{\n    println!(\"cargo::rerun-if-changed=meta\");\n}}\n");
        let mut files = vec![
            ("Cargo.toml".to_owned(), manifest),
            ("Cargo.lock".to_owned(), lock.to_owned()),
            ("build.rs".to_owned(), build_script),
        ];
        files.extend((0..TASKS).map(|i| (format!("meta/task_{i:03}.yaml"), task_yaml(i))));
        Self {
            name: "tasks-100",
            dir: scratch.join("tasks-100"),
            target: scratch.join("target-tasks-100"),
            files,
            main: tasks_main(),
        }
    }

    /// `handwritten-100`: the same functions, a `match` on the id, JSON inputs.
    fn handwritten(scratch: &Path, lock: &str) -> Self {
        let manifest = format!(
            "{HEADER}[package]\nname = \"handwritten-100\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             {STANDALONE}[dependencies]\n{COMMON_DEPS}serde_json = \"1\"\n"
        );
        Self {
            name: "handwritten-100",
            dir: scratch.join("handwritten-100"),
            target: scratch.join("target-handwritten-100"),
            files: vec![("Cargo.toml".to_owned(), manifest), ("Cargo.lock".to_owned(), lock.to_owned())],
            main: handwritten_main(),
        }
    }

    /// Writes every file, `src/main.rs` ending with marker `round`. A file that already holds
    /// the same bytes is not written, so that its modification time stays.
    fn write(&self, round: usize) -> Result<(), String> {
        let main = format!("{}{MARKER} {round}\n", self.main);
        for (path, text) in
            self.files.iter().map(|(path, text)| (path.as_str(), text.as_str())).chain([("src/main.rs", &*main)])
        {
            let path = self.dir.join(path);
            if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
                continue;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
            }
            std::fs::write(&path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        }
        Ok(())
    }

    /// Runs `cargo build --release` in the project and times it; fails if cargo fails or did not
    /// compile the project's own crate.
    fn build(&self) -> Result<Build, String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let mut command = Command::new(&cargo);
        command
            .args(["build", "--release", "--manifest-path"])
            .arg(self.dir.join("Cargo.toml"))
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("CARGO_TERM_COLOR", "never")
            .env("CARGO_TERM_PROGRESS_WHEN", "never");
        let began = Instant::now();
        let output = command
            .output()
            .map_err(|error| format!("cannot run {} for {}: {error}", Path::new(&cargo).display(), self.name))?;
        let seconds = began.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            return Err(format!(
                "`cargo build --release` of {} failed ({}):\n{stderr}",
                self.dir.display(),
                output.status
            ));
        }
        let compiled: Vec<&str> = stderr
            .lines()
            .filter_map(|line| line.trim_start().strip_prefix("Compiling "))
            .filter_map(|crate_| crate_.split(' ').next())
            .collect();
        if !compiled.contains(&self.name) {
            return Err(format!("cargo did not rebuild {} after its source changed; it printed:\n{stderr}", self.name));
        }
        let others = compiled.into_iter().filter(|name| *name != self.name).map(str::to_owned).collect();
        Ok(Build { seconds, others })
    }

    /// The release binary of the last build.
    fn binary(&self) -> PathBuf {
        self.target.join("release").join(format!("{}{}", self.name, std::env::consts::EXE_SUFFIX))
    }

    /// Runs the binary and returns its last line (`checksum=...`).
    fn run_binary(&self) -> Result<String, String> {
        let binary = self.binary();
        let output =
            Command::new(&binary).output().map_err(|error| format!("cannot run {}: {error}", binary.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        match stdout.lines().last() {
            Some(line) if output.status.success() && line.starts_with("checksum=") => Ok(line.to_owned()),
            _ => Err(format!(
                "{} failed ({}): {stdout}{}",
                binary.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )),
        }
    }

    /// The size of the release binary, in bytes.
    fn binary_bytes(&self) -> Result<u64, String> {
        let binary = self.binary();
        std::fs::metadata(&binary).map(|meta| meta.len()).map_err(|error| format!("{}: {error}", binary.display()))
    }
}

/// The first line of every generated TOML file.
const HEADER: &str =
    "# Generated by the `compile` benchmark of preheat-benches, rewritten by every run; do not edit.\n\n";
/// Keeps the project out of any workspace above it (the scratch directory may be in `target/`).
const STANDALONE: &str = "[workspace]\n\n";
/// The dependencies both projects have.
const COMMON_DEPS: &str = "serde = { version = \"1\", features = [\"derive\"] }\n\
    tokio = { version = \"1\", features = [\"rt-multi-thread\", \"macros\"] }\n";
/// The first line of every generated Rust file.
const RUST_HEADER: &str =
    "// Generated by the `compile` benchmark of preheat-benches, rewritten by every run; do not edit.\n\n";

/// `text` as a TOML basic string, quoted.
fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04X}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A field of a generated input struct, beside the `id` every input has.
#[derive(Clone, Copy, Debug)]
enum Field {
    Name,
    Amount,
    Quantity,
    Tags,
    Express,
    Note,
}

impl Field {
    /// Every kind, in the order [`of`](Self::of) picks them.
    const ALL: [Self; 6] = [Self::Name, Self::Amount, Self::Quantity, Self::Tags, Self::Express, Self::Note];

    /// The fields of task `i`'s input: one to four, a different set from one task to the next.
    fn of(i: usize) -> impl Iterator<Item = Self> {
        (0..i % 4 + 1).map(move |k| Self::ALL[(i + k) % Self::ALL.len()])
    }

    /// Its name in the struct and in the JSON.
    fn name(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Amount => "amount",
            Self::Quantity => "quantity",
            Self::Tags => "tags",
            Self::Express => "express",
            Self::Note => "note",
        }
    }

    /// Its Rust type.
    fn ty(self) -> &'static str {
        match self {
            Self::Name => "String",
            Self::Amount => "i64",
            Self::Quantity => "u32",
            Self::Tags => "Vec<String>",
            Self::Express => "bool",
            Self::Note => "Option<String>",
        }
    }

    /// Task `i`'s value of the field, as a Rust expression.
    fn rust_value(self, i: usize) -> String {
        match self {
            Self::Name => format!("\"item-{i:03}\".to_owned()"),
            Self::Amount => (i as i64 * 37 - 1500).to_string(),
            Self::Quantity => (i % 7 + 1).to_string(),
            Self::Tags => format!("vec![\"tag-a\".to_owned(), \"tag-{i:03}\".to_owned()]"),
            Self::Express => i.is_multiple_of(2).to_string(),
            Self::Note if i.is_multiple_of(3) => format!("Some(\"note-{i:03}\".to_owned())"),
            Self::Note => "None".to_owned(),
        }
    }

    /// The same value as JSON.
    fn json_value(self, i: usize) -> String {
        match self {
            Self::Name => format!("\"item-{i:03}\""),
            Self::Tags => format!("[\"tag-a\",\"tag-{i:03}\"]"),
            Self::Note if i.is_multiple_of(3) => format!("\"note-{i:03}\""),
            Self::Note => "null".to_owned(),
            Self::Amount | Self::Quantity | Self::Express => self.rust_value(i),
        }
    }

    /// What the task adds to its checksum for this field.
    fn fold(self) -> &'static str {
        match self {
            Self::Name => "input.name.len() as u64",
            Self::Amount => "input.amount.unsigned_abs()",
            Self::Quantity => "u64::from(input.quantity)",
            Self::Tags => "input.tags.iter().map(|tag| tag.len() as u64).sum::<u64>()",
            Self::Express => "u64::from(input.express)",
            Self::Note => "input.note.as_ref().map_or(0, |note| note.len() as u64)",
        }
    }
}

/// The `id` of task `i`'s input.
fn input_id(i: usize) -> usize {
    1000 + i
}

/// Task `i`'s input and output structs and its function, with `attribute` (if any) on the
/// function. The same text in both projects but for the attribute.
fn task_items(out: &mut String, i: usize, attribute: Option<&str>) {
    let _ = writeln!(out, "/// The input of `bench.task_{i:03}`.");
    let _ = writeln!(out, "#[derive(Clone, Debug, Serialize, Deserialize)]");
    let _ = writeln!(out, "pub struct Input{i:03} {{");
    let _ = writeln!(out, "    pub id: u64,");
    for field in Field::of(i) {
        let _ = writeln!(out, "    pub {}: {},", field.name(), field.ty());
    }
    let _ = writeln!(out, "}}\n");
    let _ = writeln!(out, "/// The output of `bench.task_{i:03}`.");
    let _ = writeln!(out, "#[derive(Clone, Debug, Serialize, Deserialize)]");
    let _ = writeln!(out, "pub struct Output{i:03} {{\n    pub id: u64,\n    pub checksum: u64,\n}}\n");
    let _ = writeln!(out, "/// Task {i} of the compile benchmark: folds its input into a checksum.");
    if let Some(attribute) = attribute {
        let _ = writeln!(out, "{attribute}");
    }
    let _ = writeln!(out, "pub async fn task_{i:03}(input: Input{i:03}) -> Result<Output{i:03}, String> {{");
    let _ = writeln!(out, "    let mut checksum = input.id.wrapping_mul({});", i + 1);
    for field in Field::of(i) {
        let _ = writeln!(out, "    checksum = checksum.wrapping_mul(31).wrapping_add({});", field.fold());
    }
    let _ = writeln!(out, "    if checksum == 0 {{");
    let _ = writeln!(out, "        return Err(\"task_{i:03}: nothing to fold\".to_owned());");
    let _ = writeln!(out, "    }}");
    let _ = writeln!(out, "    Ok(Output{i:03} {{ id: input.id, checksum }})");
    let _ = writeln!(out, "}}\n");
}

/// Task `i`'s input as a Rust struct expression.
fn rust_input(i: usize) -> String {
    let mut fields = vec![format!("id: {}", input_id(i))];
    fields.extend(Field::of(i).map(|field| format!("{}: {}", field.name(), field.rust_value(i))));
    format!("Input{i:03} {{ {} }}", fields.join(", "))
}

/// Task `i`'s input as JSON.
fn json_input(i: usize) -> String {
    let mut fields = vec![format!("\"id\":{}", input_id(i))];
    fields.extend(Field::of(i).map(|field| format!("\"{}\":{}", field.name(), field.json_value(i))));
    format!("{{{}}}", fields.join(","))
}

/// How both `main`s fold each task's output into the checksum they print.
const FOLD_FN: &str = "/// Folds one task's output into the running total.
fn fold(total: u64, id: u64, checksum: u64) -> u64 {
    total.wrapping_mul(1_000_003).wrapping_add(id ^ checksum)
}

";

/// YAML metadata of task `i`: the fields a real document sets, varied from task to task.
fn task_yaml(i: usize) -> String {
    let timeout = ["1s", "5s", "30s", "2m"][i % 4];
    let capacity = [64, 128, 256][i % 3];
    let on_full = if i.is_multiple_of(2) { "block" } else { "reject" };
    format!(
        "# Generated by the `compile` benchmark of preheat-benches, rewritten by every run; do not edit.\n\
         id: bench.task_{i:03}\n\
         description: Compile-benchmark task {i}; folds its input into a checksum\n\
         timeout: {timeout}\n\
         retry: {{ max_attempts: {}, backoff: {{ base: 100ms, max: 5s }}, jitter: {} }}\n\
         workers: {{ min: 1, max: {} }}\n\
         queue: {{ capacity: {capacity}, on_full: {on_full} }}\n\
         warmup: eager\n",
        i % 3 + 1,
        i.is_multiple_of(2),
        i % 2 + 1,
    )
}

/// `src/main.rs` of `tasks-100`, without the marker line.
fn tasks_main() -> String {
    let mut out = String::from(RUST_HEADER);
    out.push_str(
        "//! 100 `#[preheat::task]` functions, and a `main` that starts the runtime and submits each once.\n\n",
    );
    out.push_str("use preheat::Runtime;\nuse serde::{Deserialize, Serialize};\n\n");
    for i in 0..TASKS {
        task_items(&mut out, i, Some(&format!("#[preheat::task(\"bench.task_{i:03}\")]")));
    }
    out.push_str("preheat::metadata!(\"meta\");\n\n");
    out.push_str(FOLD_FN);
    out.push_str("#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {\n");
    out.push_str("    let rt = Runtime::builder().start().await?;\n    let mut total = 0;\n");
    for i in 0..TASKS {
        let _ = writeln!(out, "    let output = rt.submit(task_{i:03}, {}).await?.await?;", rust_input(i));
        out.push_str("    total = fold(total, output.id, output.checksum);\n");
    }
    out.push_str("    rt.shutdown().await?;\n    println!(\"checksum={total}\");\n    Ok(())\n}\n\n");
    out
}

/// `src/main.rs` of `handwritten-100`, without the marker line.
fn handwritten_main() -> String {
    let mut out = String::from(RUST_HEADER);
    out.push_str(
        "//! 100 functions wired by hand: a `match` on the task id parses the input from JSON and awaits the\n\
         //! function; `main` runs each job once as a tokio task.\n\n",
    );
    out.push_str("use serde::{Deserialize, Serialize};\n\n");
    for i in 0..TASKS {
        task_items(&mut out, i, None);
    }
    out.push_str("/// Every job `main` runs: a task id and its input as JSON, as a queue would hand them over.\n");
    let _ = writeln!(out, "const JOBS: [(&str, &str); {TASKS}] = [");
    for i in 0..TASKS {
        let _ = writeln!(out, "    (\"bench.task_{i:03}\", r#\"{}\"#),", json_input(i));
    }
    out.push_str("];\n\n");
    out.push_str("/// Runs task `task` on `input` (JSON); returns its output's id and checksum.\n");
    out.push_str("async fn run(task: &str, input: &str) -> Result<(u64, u64), String> {\n    match task {\n");
    for i in 0..TASKS {
        let _ = writeln!(out, "        \"bench.task_{i:03}\" => {{");
        let _ = writeln!(
            out,
            "            let input: Input{i:03} = serde_json::from_str(input).map_err(|error| format!(\"{{task}}: {{error}}\"))?;"
        );
        let _ = writeln!(out, "            let output = task_{i:03}(input).await?;");
        out.push_str("            Ok((output.id, output.checksum))\n        }\n");
    }
    out.push_str("        other => Err(format!(\"unknown task `{other}`\")),\n    }\n}\n\n");
    out.push_str(FOLD_FN);
    out.push_str("#[tokio::main]\nasync fn main() -> Result<(), String> {\n    let mut total = 0;\n");
    out.push_str("    for (task, input) in JOBS {\n");
    out.push_str(
        "        let (id, checksum) = tokio::spawn(run(task, input)).await.map_err(|error| error.to_string())??;\n",
    );
    out.push_str("        total = fold(total, id, checksum);\n    }\n");
    out.push_str("    println!(\"checksum={total}\");\n    Ok(())\n}\n\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let parse = |args: &[&str]| parse_args(args.iter().map(|arg| (*arg).to_owned()));
        assert_eq!(parse(&[]), Ok(Some(DEFAULT_ROUNDS)));
        assert_eq!(parse(&["--rounds", "5"]), Ok(Some(5)));
        assert_eq!(parse(&["--rounds=1"]), Ok(Some(1)));
        assert_eq!(parse(&["--help"]), Ok(None));
        assert!(parse(&["--rounds", "0"]).is_err());
        assert!(parse(&["--rounds"]).is_err());
        assert!(parse(&["--rounds", "x"]).is_err());
        assert!(parse(&["--quick"]).is_err());
    }

    #[test]
    fn a_path_in_toml_is_escaped() {
        assert_eq!(toml_string("/a/b"), "\"/a/b\"");
        assert_eq!(toml_string("C:\\a \"b\""), "\"C:\\\\a \\\"b\\\"\"");
    }

    #[test]
    fn inputs_agree_between_rust_and_json() {
        assert_eq!(
            rust_input(3),
            "Input003 { id: 1003, tags: vec![\"tag-a\".to_owned(), \"tag-003\".to_owned()], express: false, \
             note: Some(\"note-003\".to_owned()), name: \"item-003\".to_owned() }"
        );
        assert_eq!(
            json_input(3),
            "{\"id\":1003,\"tags\":[\"tag-a\",\"tag-003\"],\"express\":false,\"note\":\"note-003\",\"name\":\"item-003\"}"
        );
        assert_eq!(json_input(0), "{\"id\":1000,\"name\":\"item-000\"}");
    }
}
