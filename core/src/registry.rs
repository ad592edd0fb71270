//! The registry: every linked task joined with its metadata, built once and checked whole.
//!
//! `#[task]` puts a [`TaskEntry`] in one linker-collected slice and `metadata!` puts a directory
//! of YAML files in another. [`Registry::global`] joins the two the first time it is called,
//! with no file or network I/O: the YAML is already in the binary.

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use linkme::distributed_slice;
use once_cell::sync::Lazy;
use preheat_meta::{MetaError, TaskMeta};

use crate::pool::{ErasedPool, PoolContext};
use crate::task::Task;

/// Every `#[task]` function linked into the binary.
#[distributed_slice]
pub static TASKS: [TaskEntry];

/// Every `metadata!` directory linked into the binary.
#[distributed_slice]
pub static METADATA: [MetadataDir];

/// What `#[task]` registers for one function.
#[doc(hidden)]
#[derive(Debug)]
pub struct TaskEntry {
    id: &'static str,
    crate_name: &'static str,
    file: &'static str,
    line: u32,
    type_id: fn() -> TypeId,
    pub(crate) start_pool: fn(PoolContext) -> std::sync::Arc<dyn ErasedPool>,
}

impl TaskEntry {
    /// The entry of task `T`, defined at `file:line` of crate `crate_name`.
    pub const fn of<T: Task>(crate_name: &'static str, file: &'static str, line: u32) -> Self {
        Self { id: T::ID, crate_name, file, line, type_id: TypeId::of::<T>, start_pool: crate::pool::start::<T> }
    }
}

/// What `metadata!` registers: a directory of YAML files embedded in the binary.
#[doc(hidden)]
#[derive(Debug)]
pub struct MetadataDir {
    pub crate_name: &'static str,
    pub path: &'static str,
    pub dir: include_dir::Dir<'static>,
}

/// A metadata file handed to [`Registry::build`].
#[derive(Debug)]
pub(crate) struct MetadataFile<'a> {
    /// `crate/dir/file.yaml`, for messages.
    pub(crate) name: String,
    pub(crate) crate_name: &'a str,
    pub(crate) text: &'a str,
}

/// All tasks of the binary with their metadata, validated.
#[derive(Debug)]
pub struct Registry {
    tasks: Vec<RegisteredTask>,
    by_type: HashMap<TypeId, usize, BuildHasherDefault<TypeIdHasher>>,
    by_id: HashMap<String, usize>,
}

/// One task: its function and its metadata.
#[derive(Debug)]
pub struct RegisteredTask {
    pub(crate) entry: &'static TaskEntry,
    meta: TaskMeta,
    metadata_file: String,
}

impl RegisteredTask {
    /// The task id.
    pub fn id(&self) -> &str {
        &self.meta.id
    }

    /// The task's metadata, defaults applied.
    pub fn meta(&self) -> &TaskMeta {
        &self.meta
    }

    /// The metadata file, as `crate/dir/file.yaml`.
    pub fn metadata_file(&self) -> &str {
        &self.metadata_file
    }

    /// Where the `#[task]` function is, as `file:line`.
    pub fn defined_at(&self) -> String {
        format!("{}:{}", self.entry.file, self.entry.line)
    }
}

static GLOBAL: Lazy<Result<Registry, RegistryError>> = Lazy::new(|| {
    let mut problems = Vec::new();
    let mut dirs: Vec<&MetadataDir> = Vec::new();
    for dir in METADATA {
        if dirs.iter().any(|seen| (seen.crate_name, seen.path) == (dir.crate_name, dir.path)) {
            problems.push(Problem::MetadataEmbeddedTwice { crate_name: dir.crate_name, path: dir.path });
        } else {
            dirs.push(dir);
        }
    }
    let files = dirs.into_iter().flat_map(|dir| {
        let mut files = Vec::new();
        collect_yaml(&dir.dir, &mut files);
        files.into_iter().map(move |file| {
            let name = format!("{}/{}/{}", dir.crate_name, dir.path, file.path().display());
            (dir.crate_name, name, file.contents_utf8())
        })
    });
    let mut texts = Vec::new();
    for (crate_name, name, text) in files {
        match text {
            Some(text) => texts.push(MetadataFile { name, crate_name, text }),
            None => problems.push(Problem::Metadata(MetaError::new(name, "file is not UTF-8"))),
        }
    }
    let entries: Vec<&'static TaskEntry> = TASKS.iter().collect();
    match Registry::build(&entries, &texts) {
        Ok(registry) if problems.is_empty() => Ok(registry),
        Ok(_) => Err(RegistryError { problems }),
        Err(error) => {
            problems.extend(error.problems);
            Err(RegistryError { problems })
        }
    }
});

fn collect_yaml<'a>(dir: &'a include_dir::Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    for file in dir.files() {
        if file.path().extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
            out.push(file);
        }
    }
    for sub in dir.dirs() {
        collect_yaml(sub, out);
    }
}

impl Registry {
    /// The registry of this binary, built on first use from everything the linker collected.
    pub fn global() -> Result<&'static Registry, &'static RegistryError> {
        GLOBAL.as_ref()
    }

    /// Joins task entries with metadata documents and reports every problem at once.
    pub(crate) fn build(entries: &[&'static TaskEntry], files: &[MetadataFile<'_>]) -> Result<Self, RegistryError> {
        let mut problems = Vec::new();
        if entries.is_empty() && files.is_empty() {
            problems.push(Problem::NoTasks);
            return Err(RegistryError { problems });
        }

        let mut metas: HashMap<String, (TaskMeta, &MetadataFile<'_>)> = HashMap::new();
        let mut meta_order = Vec::new();
        for file in files {
            match preheat_meta::parse_file(&file.name, file.text) {
                Ok(documents) => {
                    for meta in documents {
                        if let Some((_, first)) = metas.get(&meta.id) {
                            problems.push(Problem::DuplicateMetadata {
                                task: meta.id.clone(),
                                files: [first.name.clone(), file.name.clone()],
                            });
                            continue;
                        }
                        meta_order.push(meta.id.clone());
                        metas.insert(meta.id.clone(), (meta, file));
                    }
                }
                Err(errors) => problems.extend(errors.into_iter().map(Problem::Metadata)),
            }
        }

        let mut tasks = Vec::new();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for &entry in entries {
            if let Some(&index) = by_id.get(entry.id) {
                let first: &RegisteredTask = &tasks[index];
                problems.push(Problem::DuplicateTask {
                    task: entry.id.to_owned(),
                    locations: [first.defined_at(), format!("{}:{}", entry.file, entry.line)],
                });
                continue;
            }
            match metas.remove(entry.id) {
                Some((meta, file)) => {
                    by_id.insert(meta.id.clone(), tasks.len());
                    tasks.push(RegisteredTask { entry, meta, metadata_file: file.name.clone() });
                }
                // A duplicate whose first copy already took the metadata is reported above.
                None => problems.push(Problem::MissingMetadata {
                    task: entry.id.to_owned(),
                    defined_at: format!("{}:{}", entry.file, entry.line),
                    crate_name: entry.crate_name.to_owned(),
                }),
            }
        }
        for id in meta_order {
            if let Some((_, file)) = metas.remove(&id) {
                let crate_linked = entries.iter().any(|entry| entry.crate_name == file.crate_name);
                problems.push(Problem::MissingHandler {
                    task: id,
                    file: file.name.clone(),
                    crate_name: file.crate_name.to_owned(),
                    crate_linked,
                });
            }
        }

        for task in &tasks {
            for upstream in &task.meta.upstream {
                if !by_id.contains_key(upstream) {
                    problems.push(Problem::UnknownUpstream {
                        task: task.meta.id.clone(),
                        upstream: upstream.clone(),
                        file: task.metadata_file.clone(),
                    });
                }
            }
        }
        let edges: Vec<(&str, &[String])> =
            tasks.iter().map(|t| (t.meta.id.as_str(), t.meta.upstream.as_slice())).collect();
        if let Some(cycle) = preheat_meta::find_cycle(&edges) {
            problems.push(Problem::Cycle { path: cycle.into_iter().map(str::to_owned).collect() });
        }

        if !problems.is_empty() {
            return Err(RegistryError { problems });
        }
        let by_type = tasks.iter().enumerate().map(|(index, task)| ((task.entry.type_id)(), index)).collect();
        Ok(Self { tasks, by_type, by_id })
    }

    /// Every task, in link order.
    pub fn tasks(&self) -> &[RegisteredTask] {
        &self.tasks
    }

    /// The task with this id.
    pub fn get(&self, id: &str) -> Option<&RegisteredTask> {
        self.index_of_id(id).map(|index| &self.tasks[index])
    }

    pub(crate) fn index_of_id(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub(crate) fn index_of<T: Task>(&self) -> Option<usize> {
        self.by_type.get(&TypeId::of::<T>()).copied()
    }
}

/// Hashes a `TypeId` by taking its bits as they are: they are already a hash, and every submit
/// looks its task up by type, so SipHash would be a measurable share of the per-task cost.
#[derive(Default)]
struct TypeIdHasher(u64);

impl Hasher for TypeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, bits: u64) {
        self.0 ^= bits;
    }
}

/// Why the registry could not be built: every problem found, not just the first.
#[derive(Debug)]
pub struct RegistryError {
    problems: Vec<Problem>,
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
    /// A metadata file is invalid.
    #[error("{0}")]
    Metadata(MetaError),
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
    /// Two functions claim the same id.
    #[error("task `{task}` is defined twice, at {} and at {}; give each function its own id", locations[0], locations[1])]
    DuplicateTask {
        /// The task id.
        task: String,
        /// `file:line` of both functions.
        locations: [String; 2],
    },
    /// Two metadata documents have the same id.
    #[error("task `{task}` has two metadata documents, in {} and in {}; keep one", files[0], files[1])]
    DuplicateMetadata {
        /// The task id.
        task: String,
        /// Both files.
        files: [String; 2],
    },
    /// An `upstream` id names no task.
    #[error("{file}: task `{task}`: field `upstream`: unknown task `{upstream}`")]
    UnknownUpstream {
        /// The task whose metadata has the edge.
        task: String,
        /// The unknown id.
        upstream: String,
        /// The metadata file.
        file: String,
    },
    /// The `upstream` edges form a cycle.
    #[error("tasks follow each other in a cycle: {}; remove one `upstream` edge", path.join(" → "))]
    Cycle {
        /// The ids along the cycle, the first repeated at the end.
        path: Vec<String>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::Ctx;

    macro_rules! fake_task {
        ($name:ident, $id:literal) => {
            #[derive(Clone, Copy)]
            struct $name;
            impl Task for $name {
                const ID: &'static str = $id;
                type Input = ();
                type Output = ();
                type Error = String;
                async fn run(_: Ctx, _: ()) -> Result<(), String> {
                    Ok(())
                }
            }
        };
    }
    fake_task!(Close, "order.close");
    fake_task!(Reserve, "stock.reserve");
    fake_task!(CloseAgain, "order.close");

    static CLOSE: TaskEntry = TaskEntry::of::<Close>("shop-tasks", "src/order.rs", 10);
    static RESERVE: TaskEntry = TaskEntry::of::<Reserve>("shop-tasks", "src/stock.rs", 20);
    static CLOSE_AGAIN: TaskEntry = TaskEntry::of::<CloseAgain>("shop-tasks", "src/other.rs", 30);

    fn file<'a>(crate_name: &'a str, name: &str, text: &'a str) -> MetadataFile<'a> {
        MetadataFile { name: format!("{crate_name}/meta/{name}"), crate_name, text }
    }

    fn problems(entries: &[&'static TaskEntry], files: &[MetadataFile<'_>]) -> Vec<String> {
        let error = Registry::build(entries, files).expect_err("registry should be rejected");
        error.problems().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn joins_tasks_with_their_metadata() {
        let files = [file(
            "shop-tasks",
            "a.yaml",
            "id: order.close\ntimeout: 5s\n---\nid: stock.reserve\nupstream: [order.close]",
        )];
        let registry = Registry::build(&[&CLOSE, &RESERVE], &files).unwrap();
        let close = registry.get("order.close").unwrap();
        assert_eq!(close.meta().timeout, std::time::Duration::from_secs(5));
        assert_eq!(close.metadata_file(), "shop-tasks/meta/a.yaml");
        assert_eq!(close.defined_at(), "src/order.rs:10");
        assert_eq!(registry.index_of::<Reserve>(), Some(1));
        assert_eq!(registry.index_of::<CloseAgain>(), None);
    }

    #[test]
    fn empty_binary_explains_the_linker() {
        let problems = problems(&[], &[]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("no tasks are registered") && problems[0].contains("use shop_tasks as _;"));
    }

    #[test]
    fn metadata_of_a_dropped_crate_explains_the_linker() {
        let files = [file("shop-tasks", "a.yaml", "id: order.close"), file("coupons", "c.yaml", "id: coupon.issue")];
        let problems = problems(&[&CLOSE], &files);
        assert_eq!(
            problems,
            ["coupons/meta/c.yaml: task `coupon.issue` has metadata but no `#[task(\"coupon.issue\")]` function in \
              this binary; no task of crate `coupons` was linked at all: if its functions exist, the linker dropped \
              the crate, so name it from `main` (for example `use coupons as _;`)"]
        );
    }

    #[test]
    fn reports_every_problem_at_once() {
        let files = [
            file("shop-tasks", "a.yaml", "id: order.close\nupstream: [order.gone]\n---\nid: order.orphan"),
            file("shop-tasks", "b.yaml", "id: order.close"),
            file("shop-tasks", "c.yaml", "id: broken\nworkers: { min: 3, max: 1 }"),
        ];
        let problems = problems(&[&CLOSE, &RESERVE, &CLOSE_AGAIN], &files);
        assert_eq!(
            problems,
            [
                "task `order.close` has two metadata documents, in shop-tasks/meta/a.yaml and in shop-tasks/meta/b.yaml; keep one",
                "shop-tasks/meta/c.yaml: task `broken`: field `workers.min`: `min` (3) is greater than `max` (1); raise `max` or lower `min`",
                "task `stock.reserve` (src/stock.rs:20) has no metadata: add a document with `id: stock.reserve` to a YAML file in the `metadata!` directory of crate `shop-tasks`",
                "task `order.close` is defined twice, at src/order.rs:10 and at src/other.rs:30; give each function its own id",
                "shop-tasks/meta/a.yaml: task `order.orphan` has metadata but no `#[task(\"order.orphan\")]` function in this binary",
                "shop-tasks/meta/a.yaml: task `order.close`: field `upstream`: unknown task `order.gone`",
            ]
        );
    }

    #[test]
    fn upstream_cycle_is_named() {
        let files = [file(
            "shop-tasks",
            "a.yaml",
            "id: order.close\nupstream: [stock.reserve]\n---\nid: stock.reserve\nupstream: [order.close]",
        )];
        let problems = problems(&[&CLOSE, &RESERVE], &files);
        assert_eq!(
            problems,
            [
                "tasks follow each other in a cycle: order.close → stock.reserve → order.close; remove one `upstream` edge"
            ]
        );
    }
}
