//! The problems the registry finds, each with a message that says where to fix it.

use std::fmt;

use preheat_meta::MetaError;

/// Why the registry could not be built: every problem found, not just the first. Its `Debug`
/// form is its message, one problem per line.
pub struct RegistryError {
    pub(crate) problems: Vec<Problem>,
}

impl RegistryError {
    /// Each problem found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the task registry has {} problem(s):", self.problems.len())?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for RegistryError {}

/// One problem in the registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// Neither tasks nor metadata were linked into the binary.
    #[error(
        "no tasks are registered: no `#[task]` function and no `metadata!` directory were linked into this binary; \
         depend on the crate that defines your tasks and name it from `main` (for example `use shop_tasks as _;`) \
         so that the linker keeps it"
    )]
    NoTasks,
    /// Metadata documents clash: an id defined twice, an unknown `upstream` id, a cycle.
    #[error("{0}")]
    Metadata(MetaError),
    /// A task's upstream output is not the task's input.
    #[error(
        "task `{downstream}` follows `{upstream}`, so it takes `{upstream}`'s output `{output}` as input, \
         but its input is `{input}`"
    )]
    EdgeType {
        /// The task whose output is handed on.
        upstream: &'static str,
        /// The task that receives it.
        downstream: &'static str,
        /// The upstream task's output type.
        output: &'static str,
        /// The downstream task's input type (or its tuple element).
        input: &'static str,
    },
    /// A task's input does not have one tuple element per upstream task.
    #[error(
        "task `{task}` follows {upstream} task(s), so its input must be a tuple of their outputs, one per \
         upstream task in order, but it is `{input}`"
    )]
    FanInShape {
        /// The task.
        task: &'static str,
        /// How many tasks it follows.
        upstream: usize,
        /// Its input type.
        input: &'static str,
    },
    /// A scheduled task takes an input nobody can give it.
    #[error("task `{task}` has a `schedule` but takes an input (`{input}`); a scheduled task runs without a caller")]
    ScheduledWithInput {
        /// The task.
        task: &'static str,
        /// Its input type.
        input: &'static str,
    },
    /// A crate calls `metadata!` twice for the same directory.
    #[error(
        "crate `{crate_name}` embeds its metadata directory `{path}` twice (two `metadata!(\"{path}\")` calls); keep one"
    )]
    MetadataEmbeddedTwice {
        /// The crate.
        crate_name: &'static str,
        /// The directory, relative to the crate's Cargo.toml.
        path: &'static str,
    },
    /// A `#[task]` function has no metadata document.
    #[error(
        "task `{task}` ({defined_at}) has no metadata: add a document with `id: {task}` to a YAML file in the \
         `metadata!` directory of crate `{crate_name}`"
    )]
    MissingMetadata {
        /// The task id.
        task: String,
        /// `file:line` of the function.
        defined_at: String,
        /// The crate of the function.
        crate_name: String,
    },
    /// A crate has `#[task]` functions but embeds no metadata: it never calls `metadata!`.
    #[error(
        "crate `{crate_name}` embeds no metadata, so none of its tasks has any ({}): add \
         `preheat::metadata!(\"meta\");` to the crate's lib.rs or main.rs, naming the directory of its YAML \
         files relative to its Cargo.toml",
        tasks.iter().map(|task| format!("`{task}`")).collect::<Vec<_>>().join(", ")
    )]
    NoMetadataEmbedded {
        /// The crate.
        crate_name: String,
        /// Its tasks, in link order.
        tasks: Vec<String>,
    },
    /// A metadata document has no `#[task]` function in the binary.
    #[error("{}", missing_handler(task, file, crate_name, *crate_linked))]
    MissingHandler {
        /// The task id.
        task: String,
        /// The metadata file.
        file: String,
        /// The crate that embedded the file.
        crate_name: String,
        /// Whether any task of that crate was linked; if none was, the linker probably dropped it.
        crate_linked: bool,
    },
    /// A task needs a resource that no `#[warmup]` function warms.
    #[error(
        "{file}: task `{task}` needs resource `{resource}` (`resources:`), but no `#[warmup(\"{resource}\")]` \
         function is linked into this binary{}",
        suggestion.as_ref().map(|close| format!("; did you mean `{close}`?")).unwrap_or_default()
    )]
    UnknownResource {
        /// The task.
        task: &'static str,
        /// The resource it names.
        resource: String,
        /// The task's metadata file.
        file: &'static str,
        /// A linked resource with a close name.
        suggestion: Option<String>,
    },
    /// Two `#[warmup]` functions warm the same resource.
    #[error("resource `{resource}` has two `#[warmup]` functions, at {} and at {}; keep one", locations[0], locations[1])]
    DuplicateWarmer {
        /// The resource.
        resource: &'static str,
        /// `file:line` of both functions.
        locations: [String; 2],
    },
    /// Two functions claim the same id.
    #[error("task `{task}` is defined twice, at {} and at {}; give each function its own id", locations[0], locations[1])]
    DuplicateTask {
        /// The task id.
        task: String,
        /// `file:line` of both functions.
        locations: [String; 2],
    },
    /// Two functions claim the same variant of a task.
    #[error(
        "variant `{variant}` of task `{task}` is defined twice, at {} and at {}; give each function its own variant",
        locations[0], locations[1]
    )]
    DuplicateVariant {
        /// The task id.
        task: String,
        /// The variant both name.
        variant: &'static str,
        /// `file:line` of both functions.
        locations: [String; 2],
    },
    /// A function's variant is not listed in its task's `variants`, or its task has none.
    #[error(
        "task `{task}` ({defined_at}) is variant `{variant}`, but {file} lists {}",
        if listed.is_empty() { "no `variants` for it".to_owned() } else { format!("only {listed} in `variants`") }
    )]
    UnknownVariant {
        /// The task id.
        task: String,
        /// The variant the function names.
        variant: &'static str,
        /// `file:line` of the function.
        defined_at: String,
        /// The metadata file.
        file: &'static str,
        /// The variants the file lists, quoted and comma-separated.
        listed: String,
    },
    /// A variant listed in `variants` has no function in the binary.
    #[error(
        "{file}: task `{task}` lists variant `{variant}` in `variants`, but no `#[task(\"{task}\", variant = \"{variant}\")]` \
         function is linked into this binary; write one, or drop `{variant}` from `variants`"
    )]
    MissingVariant {
        /// The task id.
        task: String,
        /// The variant without a function.
        variant: String,
        /// The metadata file.
        file: &'static str,
    },
}

fn missing_handler(task: &str, file: &str, crate_name: &str, crate_linked: bool) -> String {
    let mut message =
        format!("{file}: task `{task}` has metadata but no `#[task(\"{task}\")]` function in this binary");
    if !crate_linked {
        message.push_str(&format!(
            "; no task of crate `{crate_name}` was linked at all: if its functions exist, the linker dropped the crate, \
             so name it from `main` (for example `use {} as _;`)",
            crate_name.replace('-', "_")
        ));
    }
    message
}
