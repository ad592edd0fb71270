//! The registry: every linked task joined with its metadata, built once and checked whole.
//!
//! `#[task]` puts a [`TaskEntry`] in one linker-collected slice and `metadata!` puts a directory
//! of YAML documents in another, parsed and checked at compile time and emitted as static data.
//! [`Registry::global`] joins the two the first time it is called, with no file or network I/O
//! and no YAML parsing: what is left to check is what no single crate can see, tasks and
//! metadata of different crates meeting in one binary.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use linkme::distributed_slice;
use once_cell::sync::Lazy;
use preheat_meta::{MetaError, TaskMeta};

use crate::fan_in::FanIn;
use crate::pool::{ErasedPool, PoolContext};
use crate::task::Task;
use crate::warmup::{WARMERS, WarmerEntry};

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
    /// Whether the task takes no input, so that it can run by itself on a schedule.
    pub(crate) takes_no_input: bool,
    pub(crate) input: TypeInfo,
    pub(crate) output: TypeInfo,
    /// Clones an output for a downstream task's input.
    clone_output: fn(&(dyn Any + Send + Sync)) -> Box<dyn Any + Send>,
    /// For a task with several upstream tasks: how many, and its tuple input's parts.
    pub(crate) fan_in: Option<FanInEntry>,
}

/// A type, for the registry's edge checks and their messages.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TypeInfo {
    pub(crate) id: fn() -> TypeId,
    pub(crate) name: fn() -> &'static str,
}

impl TypeInfo {
    const fn of<T: 'static>() -> Self {
        Self { id: TypeId::of::<T>, name: std::any::type_name::<T> }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct FanInEntry {
    pub(crate) upstream: usize,
    pub(crate) parts: fn() -> Vec<(TypeId, &'static str)>,
    assemble: fn(Vec<ErasedInput>) -> Option<ErasedInput>,
}

/// A task input whose type only the task's pool knows.
pub(crate) type ErasedInput = Box<dyn Any + Send>;

fn clone_output<O: Clone + Send + 'static>(output: &(dyn Any + Send + Sync)) -> Box<dyn Any + Send> {
    match output.downcast_ref::<O>() {
        Some(output) => Box::new(output.clone()),
        None => unreachable!("a task's output has its entry's output type"),
    }
}

fn assemble<I: FanIn>(parts: Vec<ErasedInput>) -> Option<ErasedInput> {
    I::assemble(parts).map(|input| Box::new(input) as Box<dyn Any + Send>)
}

impl TaskEntry {
    /// The entry of task `T`, defined at `file:line` of crate `crate_name`.
    pub const fn of<T: Task>(crate_name: &'static str, file: &'static str, line: u32) -> Self {
        Self {
            id: T::ID,
            crate_name,
            file,
            line,
            type_id: TypeId::of::<T>,
            start_pool: crate::pool::start::<T>,
            takes_no_input: false,
            input: TypeInfo::of::<T::Input>(),
            output: TypeInfo::of::<T::Output>(),
            clone_output: clone_output::<T::Output>,
            fan_in: None,
        }
    }

    /// The entry of a task that takes no input.
    pub const fn of_unit<T: Task<Input = ()>>(crate_name: &'static str, file: &'static str, line: u32) -> Self {
        Self { takes_no_input: true, ..Self::of::<T>(crate_name, file, line) }
    }

    /// Marks the task as following `upstream` tasks, whose outputs its tuple input `I` holds.
    pub const fn fan_in<I: FanIn>(self, upstream: usize) -> Self {
        Self { fan_in: Some(FanInEntry { upstream, parts: I::parts, assemble: assemble::<I> }), ..self }
    }
}

/// What `metadata!` registers: a directory of YAML files embedded in the binary, and its
/// documents, parsed at compile time.
#[doc(hidden)]
#[derive(Debug)]
pub struct MetadataDir {
    pub crate_name: &'static str,
    pub path: &'static str,
    pub dir: include_dir::Dir<'static>,
    pub documents: &'static [MetadataDocument],
}

/// One parsed document of a [`MetadataDir`].
#[doc(hidden)]
#[derive(Debug)]
pub struct MetadataDocument {
    /// `crate/dir/file.yaml`, for messages.
    pub file: &'static str,
    pub meta: TaskMeta,
}

/// A document handed to [`Registry::build`], with the crate that embedded it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Source {
    pub(crate) crate_name: &'static str,
    pub(crate) document: &'static MetadataDocument,
}

/// All tasks of the binary with their metadata, validated.
#[derive(Debug)]
pub struct Registry {
    tasks: Vec<RegisteredTask>,
    /// By task index, the indices of the tasks each follows, in `upstream` order.
    upstream: Vec<Vec<usize>>,
    /// By task index, the indices of the tasks that follow it.
    downstream: Vec<Vec<usize>>,
    by_type: HashMap<TypeId, usize, BuildHasherDefault<TypeIdHasher>>,
    by_id: HashMap<String, usize>,
    /// One `#[warmup]` per resource, by resource name.
    warmers: Vec<&'static WarmerEntry>,
}

/// One task: its function and its metadata.
#[derive(Debug)]
pub struct RegisteredTask {
    pub(crate) entry: &'static TaskEntry,
    meta: &'static TaskMeta,
    metadata_file: &'static str,
}

impl RegisteredTask {
    /// The task id.
    pub fn id(&self) -> &'static str {
        let meta: &'static TaskMeta = self.meta;
        &meta.id
    }

    /// The task's metadata, defaults applied.
    pub fn meta(&self) -> &'static TaskMeta {
        self.meta
    }

    /// The metadata file, as `crate/dir/file.yaml`.
    pub fn metadata_file(&self) -> &'static str {
        self.metadata_file
    }

    /// Where the `#[task]` function is, as `file:line`.
    pub fn defined_at(&self) -> String {
        format!("{}:{}", self.entry.file, self.entry.line)
    }

    pub(crate) fn clone_output(&self, output: &(dyn Any + Send + Sync)) -> Box<dyn Any + Send> {
        (self.entry.clone_output)(output)
    }

    /// The tuple input of a task with several upstream tasks, from their outputs in order.
    pub(crate) fn assemble(&self, parts: Vec<Box<dyn Any + Send>>) -> Option<Box<dyn Any + Send>> {
        (self.entry.fan_in?.assemble)(parts)
    }
}

static GLOBAL: Lazy<Result<Registry, RegistryError>> = Lazy::new(|| Registry::from_linked(|_| true));

/// What is wrong with a task's place in the flow graph and its schedule, checked before any task
/// runs: each upstream output must be what the task takes as input.
fn edge_problems(tasks: &[RegisteredTask], task: &RegisteredTask, upstream: &[usize]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let entry = task.entry;
    if task.meta.schedule.is_some() && !entry.takes_no_input {
        problems.push(Problem::ScheduledWithInput { task: entry.id, input: (entry.input.name)() });
    }
    let mismatch = |up: usize, expected: (TypeId, &'static str)| {
        let up = &tasks[up];
        let found = ((up.entry.output.id)(), (up.entry.output.name)());
        (found.0 != expected.0).then_some(Problem::EdgeType {
            upstream: up.entry.id,
            downstream: entry.id,
            output: found.1,
            input: expected.1,
        })
    };
    match (upstream, entry.fan_in) {
        ([], _) => {}
        ([up], None) => problems.extend(mismatch(*up, ((entry.input.id)(), (entry.input.name)()))),
        (ups, Some(fan_in)) if fan_in.upstream == ups.len() => {
            problems.extend(ups.iter().zip((fan_in.parts)()).filter_map(|(up, part)| mismatch(*up, part)));
        }
        (ups, _) => {
            problems.push(Problem::FanInShape { task: entry.id, upstream: ups.len(), input: (entry.input.name)() })
        }
    }
    problems
}

/// Two warmers of one resource, and tasks that need a resource nobody warms.
fn resource_problems(tasks: &[RegisteredTask], warmers: &[&'static WarmerEntry]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (index, warmer) in warmers.iter().enumerate() {
        if let Some(first) = warmers[..index].iter().find(|earlier| earlier.resource == warmer.resource) {
            problems.push(Problem::DuplicateWarmer {
                resource: warmer.resource,
                locations: [first.defined_at(), warmer.defined_at()],
            });
        }
    }
    for task in tasks {
        for resource in task.meta.resources.iter() {
            if !warmers.iter().any(|warmer| warmer.resource == resource.as_ref()) {
                let names = warmers.iter().map(|warmer| warmer.resource);
                problems.push(Problem::UnknownResource {
                    task: task.entry.id,
                    resource: resource.to_string(),
                    file: task.metadata_file,
                    suggestion: preheat_meta::closest(resource, names).map(str::to_owned),
                });
            }
        }
    }
    problems
}

fn location(entry: &TaskEntry) -> String {
    format!("{}:{}", entry.file, entry.line)
}

impl Registry {
    /// The registry of this binary, built on first use from everything the linker collected.
    pub fn global() -> Result<&'static Registry, &'static RegistryError> {
        GLOBAL.as_ref()
    }

    /// The registry of the linked tasks and metadata of the crates `include` accepts.
    fn from_linked(include: impl Fn(&str) -> bool) -> Result<Self, RegistryError> {
        let mut problems = Vec::new();
        let mut dirs: Vec<&MetadataDir> = Vec::new();
        for dir in METADATA.iter().filter(|dir| include(dir.crate_name)) {
            if dirs.iter().any(|seen| (seen.crate_name, seen.path) == (dir.crate_name, dir.path)) {
                problems.push(Problem::MetadataEmbeddedTwice { crate_name: dir.crate_name, path: dir.path });
            } else {
                dirs.push(dir);
            }
        }
        let sources: Vec<Source> = dirs
            .iter()
            .flat_map(|dir| dir.documents.iter().map(|document| Source { crate_name: dir.crate_name, document }))
            .collect();
        let entries: Vec<&'static TaskEntry> = TASKS.iter().filter(|entry| include(entry.crate_name)).collect();
        let warmers: Vec<&'static WarmerEntry> = WARMERS.iter().filter(|warmer| include(warmer.crate_name)).collect();
        match Self::build(&entries, &sources, &warmers) {
            Ok(registry) if problems.is_empty() => Ok(registry),
            Ok(_) => Err(RegistryError { problems }),
            Err(error) => {
                problems.extend(error.problems);
                Err(RegistryError { problems })
            }
        }
    }

    /// Builds a registry of the linked tasks and metadata of the named crates only, as
    /// [`global`](Self::global) would for them; for benchmarks. Not a public API.
    #[doc(hidden)]
    pub fn __of_crates(crates: &[&str]) -> Result<Self, RegistryError> {
        Self::from_linked(|name| crates.contains(&name))
    }

    /// Joins task entries with metadata documents and reports every problem at once.
    pub(crate) fn build(
        entries: &[&'static TaskEntry],
        sources: &[Source],
        warmers: &[&'static WarmerEntry],
    ) -> Result<Self, RegistryError> {
        if entries.is_empty() && sources.is_empty() {
            return Err(RegistryError { problems: vec![Problem::NoTasks] });
        }
        // Each crate's documents were checked together at compile time; together with the
        // other crates' they may still clash or point at each other.
        let named: Vec<(&str, &TaskMeta)> = sources.iter().map(|s| (s.document.file, &s.document.meta)).collect();
        let mut problems: Vec<Problem> = preheat_meta::check_set(&named).into_iter().map(Problem::Metadata).collect();

        let mut unclaimed: HashMap<&str, Source> = HashMap::with_capacity(sources.len());
        for source in sources {
            unclaimed.entry(&source.document.meta.id).or_insert(*source);
        }
        let mut tasks: Vec<RegisteredTask> = Vec::with_capacity(entries.len());
        let mut by_id: HashMap<String, usize> = HashMap::with_capacity(entries.len());
        for &entry in entries {
            if let Some(&index) = by_id.get(entry.id) {
                problems.push(Problem::DuplicateTask {
                    task: entry.id.to_owned(),
                    locations: [tasks[index].defined_at(), location(entry)],
                });
                continue;
            }
            match unclaimed.remove(entry.id) {
                Some(source) => {
                    by_id.insert(entry.id.to_owned(), tasks.len());
                    let document = source.document;
                    tasks.push(RegisteredTask { entry, meta: &document.meta, metadata_file: document.file });
                }
                None => problems.push(Problem::MissingMetadata {
                    task: entry.id.to_owned(),
                    defined_at: location(entry),
                    crate_name: entry.crate_name.to_owned(),
                }),
            }
        }
        // In document order, so that the report reads like the files.
        for source in sources {
            let id: &str = &source.document.meta.id;
            if unclaimed.remove(id).is_some() {
                problems.push(Problem::MissingHandler {
                    task: id.to_owned(),
                    file: source.document.file.to_owned(),
                    crate_name: source.crate_name.to_owned(),
                    crate_linked: entries.iter().any(|entry| entry.crate_name == source.crate_name),
                });
            }
        }
        problems.extend(resource_problems(&tasks, warmers));
        if !problems.is_empty() {
            return Err(RegistryError { problems });
        }
        let upstream: Vec<Vec<usize>> = tasks
            .iter()
            .map(|task| task.meta.upstream.iter().filter_map(|id| by_id.get(id.as_ref()).copied()).collect())
            .collect();
        let mut downstream = vec![Vec::new(); tasks.len()];
        for (task, ups) in upstream.iter().enumerate() {
            for &up in ups {
                downstream[up].push(task);
            }
        }
        problems.extend(tasks.iter().zip(&upstream).flat_map(|(task, ups)| edge_problems(&tasks, task, ups)));
        if !problems.is_empty() {
            return Err(RegistryError { problems });
        }
        let by_type = tasks.iter().enumerate().map(|(index, task)| ((task.entry.type_id)(), index)).collect();
        // By name: the linker's order is not the source's, and reports should not depend on it.
        let mut warmers = warmers.to_vec();
        warmers.sort_by_key(|warmer| warmer.resource);
        Ok(Self { tasks, upstream, downstream, by_type, by_id, warmers })
    }

    /// Every `#[warmup]` function, one per resource, by resource name.
    pub(crate) fn warmers(&self) -> &[&'static WarmerEntry] {
        &self.warmers
    }

    /// The names of the resources warmed at start-up, sorted.
    pub fn resources(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.warmers.iter().map(|warmer| warmer.resource)
    }

    pub(crate) fn upstream(&self, task: usize) -> &[usize] {
        &self.upstream[task]
    }

    pub(crate) fn downstream(&self, task: usize) -> &[usize] {
        &self.downstream[task]
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
    use std::time::Duration;

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
    #[derive(Clone, Copy)]
    struct Count;
    impl Task for Count {
        const ID: &'static str = "stock.count";
        type Input = ();
        type Output = u32;
        type Error = String;
        async fn run(_: Ctx, _: ()) -> Result<u32, String> {
            Ok(1)
        }
    }
    static COUNT: TaskEntry = TaskEntry::of_unit::<Count>("shop-tasks", "src/stock.rs", 40);

    fake_task!(Close, "order.close");
    fake_task!(Reserve, "stock.reserve");
    fake_task!(CloseAgain, "order.close");

    static CLOSE: TaskEntry = TaskEntry::of::<Close>("shop-tasks", "src/order.rs", 10);
    static RESERVE: TaskEntry = TaskEntry::of::<Reserve>("shop-tasks", "src/stock.rs", 20);
    static CLOSE_AGAIN: TaskEntry = TaskEntry::of::<CloseAgain>("shop-tasks", "src/other.rs", 30);

    /// Parses a file's documents as `metadata!` would, leaked into the `'static` data it emits.
    fn file(crate_name: &'static str, name: &str, text: &str) -> Vec<Source> {
        let file: &'static str = Box::leak(format!("{crate_name}/meta/{name}").into_boxed_str());
        let metas = preheat_meta::parse_file(file, text).expect("valid documents");
        metas
            .into_iter()
            .map(|meta| Source { crate_name, document: Box::leak(Box::new(MetadataDocument { file, meta })) })
            .collect()
    }

    fn problems(entries: &[&'static TaskEntry], files: &[Vec<Source>]) -> Vec<String> {
        let error = Registry::build(entries, &files.concat(), &[]).expect_err("registry should be rejected");
        error.problems().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn joins_tasks_with_their_metadata() {
        let files = [file(
            "shop-tasks",
            "a.yaml",
            "id: order.close\ntimeout: 5s\n---\nid: stock.reserve\nupstream: [order.close]",
        )];
        let registry = Registry::build(&[&CLOSE, &RESERVE], &files.concat(), &[]).unwrap();
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
            file("other-tasks", "b.yaml", "id: order.close"),
        ];
        let problems = problems(&[&CLOSE, &RESERVE, &CLOSE_AGAIN], &files);
        assert_eq!(
            problems,
            [
                "other-tasks/meta/b.yaml: task `order.close`: field `id`: task `order.close` is already defined in shop-tasks/meta/a.yaml; keep one",
                "shop-tasks/meta/a.yaml: task `order.close`: field `upstream.0`: unknown task `order.gone`; did you mean `order.close`?",
                "task `stock.reserve` (src/stock.rs:20) has no metadata: add a document with `id: stock.reserve` to a YAML file in the `metadata!` directory of crate `shop-tasks`",
                "task `order.close` is defined twice, at src/order.rs:10 and at src/other.rs:30; give each function its own id",
                "shop-tasks/meta/a.yaml: task `order.orphan` has metadata but no `#[task(\"order.orphan\")]` function in this binary",
            ]
        );
    }

    #[test]
    fn edge_types_are_checked_before_anything_runs() {
        let files = [file(
            "shop-tasks",
            "a.yaml",
            "id: stock.count\nschedule: { every: 1s }\n---\nid: order.close\nupstream: [stock.count]\n---\n\
             id: stock.reserve\nupstream: [stock.count, order.close]",
        )];
        let problems = problems(&[&COUNT, &CLOSE, &RESERVE], &files);
        assert_eq!(
            problems,
            [
                "task `order.close` follows `stock.count`, so it takes `stock.count`'s output `u32` as input, but its \
                 input is `()`",
                "task `stock.reserve` follows 2 task(s), so its input must be a tuple of their outputs, one per upstream \
                 task in order, but it is `()`",
            ]
        );
    }

    static DB: WarmerEntry = WarmerEntry::new("db", "shop-tasks", "src/db.rs", 5, Duration::from_secs(1), 1, warm);
    static DB_AGAIN: WarmerEntry =
        WarmerEntry::new("db", "shop-tasks", "src/pool.rs", 9, Duration::from_secs(1), 1, warm);

    fn warm() -> crate::warmup::WarmFuture {
        Box::pin(async { Ok(()) })
    }

    #[test]
    fn resources_must_have_one_warmer() {
        let files = [file(
            "shop-tasks",
            "a.yaml",
            "id: order.close\nresources: [dbb]\n---\nid: stock.reserve\nresources: [db]",
        )];
        let error = Registry::build(&[&CLOSE, &RESERVE], &files.concat(), &[&DB, &DB_AGAIN]).unwrap_err();
        let problems: Vec<String> = error.problems().iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "resource `db` has two `#[warmup]` functions, at src/db.rs:5 and at src/pool.rs:9; keep one",
                "shop-tasks/meta/a.yaml: task `order.close` needs resource `dbb` (`resources:`), but no \
                 `#[warmup(\"dbb\")]` function is linked into this binary; did you mean `db`?",
            ]
        );
        let files = [file("shop-tasks", "b.yaml", "id: order.close\n---\nid: stock.reserve\nresources: [db]")];
        let registry = Registry::build(&[&CLOSE, &RESERVE], &files.concat(), &[&DB]).unwrap();
        assert_eq!(registry.resources().collect::<Vec<_>>(), ["db"]);
    }

    #[test]
    fn upstream_cycle_across_crates_is_named() {
        let files = [
            file("shop-tasks", "a.yaml", "id: order.close\nupstream: [stock.reserve]"),
            file("stock-tasks", "b.yaml", "id: stock.reserve\nupstream: [order.close]"),
        ];
        let problems = problems(&[&CLOSE, &RESERVE], &files);
        assert_eq!(
            problems,
            ["shop-tasks/meta/a.yaml: task `order.close`: field `upstream`: tasks follow each other in a cycle: \
              order.close → stock.reserve → order.close; remove one `upstream` edge"]
        );
    }
}
