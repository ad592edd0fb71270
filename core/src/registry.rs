//! The registry: every linked task joined with its metadata, built once and checked whole.
//!
//! [`Registry::global`] joins the linker's slices (see `entry.rs`) the first time it is called,
//! with no file or network I/O and no YAML parsing: what is left to check is what no single
//! crate can see, tasks and metadata of different crates meeting in one binary. The result is
//! data only: the tasks in order, their flow edges, their warmers.

use std::any::TypeId;
use std::collections::HashMap;

use once_cell::sync::Lazy;
use preheat_meta::TaskMeta;

use crate::entry::{METADATA, MetadataDir, MetadataDocument, TASKS, TaskEntry};
use crate::erased::TaskVTable;
use crate::problem::{Problem, RegistryError};
use crate::warmup::{WARMERS, WarmerEntry};

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
    by_id: HashMap<String, usize>,
    /// One `#[warmup]` per resource, by resource name.
    warmers: Vec<&'static WarmerEntry>,
    /// The tasks with `variants`, each with its functions' indices.
    groups: Vec<VariantGroup>,
    /// By task index, its group in `groups`, if its task has variants.
    variants: Vec<Option<usize>>,
}

/// A task with `variants`: one registered function, and so one pool, per variant.
#[derive(Debug)]
pub(crate) struct VariantGroup {
    /// The task's own index (its first variant's), which flows and submits name.
    pub(crate) task: usize,
    /// In the document's order.
    pub(crate) members: Vec<Member>,
}

/// One variant of a [`VariantGroup`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member {
    /// The variant function's index.
    pub(crate) index: usize,
    pub(crate) name: &'static str,
    /// The weight the YAML gives it.
    pub(crate) weight: u32,
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
        self.entry.defined_at()
    }

    /// The variant this function is, for a task with `variants`.
    pub fn variant(&self) -> Option<&'static str> {
        self.entry.variant
    }

    /// The task's table of typed functions.
    pub(crate) fn vtable(&self) -> &'static TaskVTable {
        let entry: &'static TaskEntry = self.entry;
        &entry.vtable
    }
}

static GLOBAL: Lazy<Result<Registry, RegistryError>> = Lazy::new(|| {
    let registry = Registry::from_linked(|_| true)?;
    // Only the global registry numbers the tasks' slots: a typed submit finds its pool by them.
    // Every variant's handle names the task itself, and routing picks the variant.
    for (index, task) in registry.tasks.iter().enumerate() {
        if let Some(slot) = task.entry.slot {
            slot.set(registry.task_of(index));
        }
    }
    Ok(registry)
});

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

/// Each embedded directory once. Two targets of one package (its lib and a bin, or an
/// integration test, each with tasks) embed the same directory under the same crate name: the
/// same documents, kept once. The same name and path with other documents (two versions of one
/// crate) is a problem, not a second copy of each document. Within one target rustc already
/// refuses a second `metadata!` of a directory (it defines a marker type per directory).
fn distinct_dirs<'a>(dirs: impl Iterator<Item = &'a MetadataDir>, problems: &mut Vec<Problem>) -> Vec<&'a MetadataDir> {
    let mut distinct: Vec<&MetadataDir> = Vec::new();
    for dir in dirs {
        match distinct.iter().find(|seen| (seen.crate_name, seen.path) == (dir.crate_name, dir.path)) {
            None => distinct.push(dir),
            Some(seen) if same_documents(seen, dir) => {}
            Some(_) => problems.push(Problem::MetadataEmbeddedTwice { crate_name: dir.crate_name, path: dir.path }),
        }
    }
    distinct
}

fn same_documents(one: &MetadataDir, other: &MetadataDir) -> bool {
    one.documents.len() == other.documents.len()
        && one.documents.iter().zip(other.documents).all(|(a, b)| (a.file, &a.meta) == (b.file, &b.meta))
}

impl Registry {
    /// The registry of this binary, built on first use from everything the linker collected.
    pub fn global() -> Result<&'static Registry, &'static RegistryError> {
        GLOBAL.as_ref()
    }

    /// The registry of the linked tasks and metadata of the crates `include` accepts.
    fn from_linked(include: impl Fn(&str) -> bool) -> Result<Self, RegistryError> {
        let mut problems = Vec::new();
        let dirs = distinct_dirs(METADATA.iter().filter(|dir| include(dir.crate_name)), &mut problems);
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

        let mut documents: HashMap<&str, Source> = HashMap::with_capacity(sources.len());
        for source in sources {
            documents.entry(&source.document.meta.id).or_insert(*source);
        }
        let mut claimed: HashMap<&str, Vec<usize>> = HashMap::with_capacity(sources.len());
        let mut tasks: Vec<RegisteredTask> = Vec::with_capacity(entries.len());
        let mut by_id: HashMap<String, usize> = HashMap::with_capacity(entries.len());
        let mut unembedded: Vec<(&'static str, Vec<String>)> = Vec::new();
        for &entry in entries {
            let Some(source) = documents.get(entry.id) else {
                // A crate that embeds nothing is one mistake, not one per task.
                if !sources.iter().any(|source| source.crate_name == entry.crate_name) {
                    match unembedded.iter_mut().find(|(crate_name, _)| *crate_name == entry.crate_name) {
                        Some((_, tasks)) => tasks.push(entry.id.to_owned()),
                        None => unembedded.push((entry.crate_name, vec![entry.id.to_owned()])),
                    }
                } else {
                    problems.push(Problem::MissingMetadata {
                        task: entry.id.to_owned(),
                        defined_at: entry.defined_at(),
                        crate_name: entry.crate_name.to_owned(),
                    });
                }
                continue;
            };
            let functions = claimed.get(entry.id).map_or(&[][..], Vec::as_slice);
            if let Some(&twin) = functions.iter().find(|&&index| tasks[index].entry.variant == entry.variant) {
                let locations = [tasks[twin].defined_at(), entry.defined_at()];
                problems.push(match entry.variant {
                    Some(variant) => Problem::DuplicateVariant { task: entry.id.to_owned(), variant, locations },
                    None => Problem::DuplicateTask { task: entry.id.to_owned(), locations },
                });
                continue;
            }
            let document = source.document;
            let variants = &document.meta.variants;
            match entry.variant {
                Some(variant) if !variants.iter().any(|listed| listed.name == variant) => {
                    let listed = variants.iter().map(|v| format!("`{}`", v.name)).collect::<Vec<_>>().join(", ");
                    problems.push(Problem::UnknownVariant {
                        task: entry.id.to_owned(),
                        variant,
                        defined_at: entry.defined_at(),
                        file: document.file,
                        listed,
                    });
                    continue;
                }
                // Only an entry made by hand: `#[task]` names the first variant for a function
                // that names none.
                None if !variants.is_empty() => {
                    problems.push(Problem::MissingVariant {
                        task: entry.id.to_owned(),
                        variant: document.meta.first_variant().unwrap_or_default().to_owned(),
                        file: document.file,
                    });
                    continue;
                }
                _ => {}
            }
            // The task's index is its first variant's (or its only function's): what flows,
            // schedules and typed submits name, and what routing starts from.
            if entry.variant.is_none() || entry.variant == document.meta.first_variant() {
                by_id.insert(entry.id.to_owned(), tasks.len());
            }
            // Claimed only once accepted: a rejected function leaves its document unclaimed.
            claimed.entry(entry.id).or_default().push(tasks.len());
            tasks.push(RegisteredTask { entry, meta: &document.meta, metadata_file: document.file });
        }
        problems.extend(
            unembedded
                .into_iter()
                .map(|(crate_name, tasks)| Problem::NoMetadataEmbedded { crate_name: crate_name.to_owned(), tasks }),
        );
        // In document order, so that the report reads like the files.
        let mut groups = Vec::new();
        for source in sources {
            let meta = &source.document.meta;
            let Some(functions) = claimed.get(meta.id.as_ref()) else {
                problems.push(Problem::MissingHandler {
                    task: meta.id.to_string(),
                    file: source.document.file.to_owned(),
                    crate_name: source.crate_name.to_owned(),
                    crate_linked: entries.iter().any(|entry| entry.crate_name == source.crate_name),
                });
                continue;
            };
            if meta.variants.is_empty() || !std::ptr::eq(documents[meta.id.as_ref()].document, source.document) {
                continue;
            }
            let mut members = Vec::with_capacity(meta.variants.len());
            for variant in meta.variants.iter() {
                match functions.iter().find(|&&index| tasks[index].entry.variant == Some(variant.name.as_ref())) {
                    Some(&index) => members.push(Member {
                        index,
                        name: tasks[index].entry.variant.unwrap_or_default(),
                        weight: variant.weight,
                    }),
                    None => problems.push(Problem::MissingVariant {
                        task: meta.id.to_string(),
                        variant: variant.name.to_string(),
                        file: source.document.file,
                    }),
                }
            }
            if members.len() == meta.variants.len() {
                groups.push(VariantGroup { task: members[0].index, members });
            }
        }
        problems.extend(resource_problems(&tasks, warmers));
        if !problems.is_empty() {
            return Err(RegistryError { problems });
        }
        // Only a task's own index has edges: its other variants are pools to route to.
        let upstream: Vec<Vec<usize>> = tasks
            .iter()
            .enumerate()
            .map(|(index, task)| match by_id.get(task.id()) {
                Some(&own) if own == index => {
                    task.meta.upstream.iter().filter_map(|id| by_id.get(id.as_ref()).copied()).collect()
                }
                _ => Vec::new(),
            })
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
        // By name: the linker's order is not the source's, and reports should not depend on it.
        let mut warmers = warmers.to_vec();
        warmers.sort_by_key(|warmer| warmer.resource);
        let mut variants = vec![None; tasks.len()];
        for (group, members) in groups.iter().enumerate() {
            for member in &members.members {
                variants[member.index] = Some(group);
            }
        }
        Ok(Self { tasks, upstream, downstream, by_id, warmers, groups, variants })
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

    /// The task a function's index belongs to: itself, or its task's first variant.
    pub(crate) fn task_of(&self, index: usize) -> usize {
        self.variants_at(index).map_or(index, |group| group.task)
    }

    /// The variants of the task at `index`, if it has any.
    pub(crate) fn variants_at(&self, index: usize) -> Option<&VariantGroup> {
        self.group_index(index).map(|group| &self.groups[group])
    }

    /// Which of [`variant_groups`](Self::variant_groups) the task at `index` is in.
    pub(crate) fn group_index(&self, index: usize) -> Option<usize> {
        self.variants[index]
    }

    /// Every task with `variants`.
    pub(crate) fn variant_groups(&self) -> &[VariantGroup] {
        &self.groups
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::task::{Ctx, Task};

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
        assert_eq!(registry.index_of_id("stock.reserve"), Some(1));
        assert_eq!(registry.downstream(0), [1]);
        assert_eq!(registry.upstream(1), [0]);
    }

    #[test]
    fn a_directory_embedded_by_two_targets_counts_once_unless_it_differs() {
        let meta = preheat_meta::parse_file("shop-tasks/meta/a.yaml", "id: a.one").expect("valid").remove(0);
        let one: &'static [MetadataDocument] =
            Box::leak(Box::new([MetadataDocument { file: "shop-tasks/meta/a.yaml", meta }]));
        let dir = |crate_name, documents: &'static [MetadataDocument]| MetadataDir {
            crate_name,
            path: "meta",
            dir: include_dir::Dir::new("", &[]),
            documents,
        };
        let (lib, bin, other) = (dir("shop-tasks", one), dir("shop-tasks", one), dir("other-tasks", &[]));
        let mut problems = Vec::new();
        let kept = distinct_dirs([&lib, &bin, &other].into_iter(), &mut problems);
        assert_eq!((kept.len(), problems.len()), (2, 0), "the lib's and the bin's copy are one");

        let older = dir("shop-tasks", &[]);
        let kept = distinct_dirs([&lib, &older].into_iter(), &mut problems);
        assert_eq!(kept.len(), 1);
        assert_eq!(
            problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [
                "crate `shop-tasks` embeds its metadata directory `meta` twice (two `metadata!(\"meta\")` calls); keep one"
            ]
        );
    }

    #[test]
    fn empty_binary_explains_the_linker() {
        let problems = problems(&[], &[]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("no tasks are registered") && problems[0].contains("use shop_tasks as _;"));
    }

    #[test]
    fn a_crate_without_metadata_is_one_problem_that_names_the_fix() {
        let problems = problems(&[&CLOSE, &RESERVE], &[file("other-tasks", "b.yaml", "id: other.task")]);
        assert_eq!(
            problems[0],
            "crate `shop-tasks` embeds no metadata, so none of its tasks has any (`order.close`, `stock.reserve`): \
             add `preheat::metadata!(\"meta\");` to the crate's lib.rs or main.rs, naming the directory of its YAML \
             files relative to its Cargo.toml"
        );
        assert_eq!(problems.len(), 2, "and the other crate's orphan document: {problems:?}");
    }

    #[test]
    fn a_start_error_debugs_as_its_message_for_main_returning_result() {
        let error = Registry::build(&[&CLOSE], &[], &[]).expect_err("no metadata");
        let error: &'static RegistryError = Box::leak(Box::new(error));
        let start = crate::StartError::Registry(error);
        assert_eq!(format!("{start:?}"), start.to_string());
        assert!(format!("{start:?}").starts_with("the task registry has 1 problem(s):\n  - crate `shop-tasks`"));
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

    static RESERVE_V1: TaskEntry = TaskEntry::of::<Reserve>("shop-tasks", "src/stock.rs", 50).variant("v1");
    static RESERVE_V2: TaskEntry = TaskEntry::of::<Reserve>("shop-tasks", "src/stock.rs", 60).variant("v2");
    static RESERVE_V2_AGAIN: TaskEntry = TaskEntry::of::<Reserve>("shop-tasks", "src/other.rs", 70).variant("v2");
    static CLOSE_V9: TaskEntry = TaskEntry::of::<Close>("shop-tasks", "src/order.rs", 80).variant("v9");

    #[test]
    fn variants_join_under_their_task_and_route_from_its_first() {
        let files = [file(
            "shop-tasks",
            "a.yaml",
            "id: stock.reserve\nvariants: { v1: 3, v2: 1 }\nupstream: [order.close]\n---\nid: order.close",
        )];
        let registry = Registry::build(&[&RESERVE_V2, &CLOSE, &RESERVE_V1], &files.concat(), &[]).unwrap();
        let task = registry.index_of_id("stock.reserve").unwrap();
        assert_eq!(registry.tasks()[task].variant(), Some("v1"), "the task's index is its first variant's");
        let group = registry.variants_at(task).unwrap();
        let members: Vec<_> = group.members.iter().map(|m| (m.name, m.weight, registry.task_of(m.index))).collect();
        assert_eq!(members, [("v1", 3, task), ("v2", 1, task)]);
        assert_eq!(registry.downstream(registry.index_of_id("order.close").unwrap()), [task], "one edge, to the task");
        assert!(registry.upstream(group.members[1].index).is_empty(), "a variant's pool has no edges of its own");
    }

    #[test]
    fn variants_without_functions_or_twice_are_named() {
        let files =
            [file("shop-tasks", "a.yaml", "id: stock.reserve\nvariants: { v1: 3, v2: 1 }\n---\nid: order.close")];
        let problems = problems(&[&RESERVE_V2, &RESERVE_V2_AGAIN, &CLOSE_V9], &files);
        assert_eq!(
            problems,
            [
                "variant `v2` of task `stock.reserve` is defined twice, at src/stock.rs:60 and at src/other.rs:70; give each function its own variant",
                "task `order.close` (src/order.rs:80) is variant `v9`, but shop-tasks/meta/a.yaml lists no `variants` for it",
                "shop-tasks/meta/a.yaml: task `stock.reserve` lists variant `v1` in `variants`, but no `#[task(\"stock.reserve\", variant = \"v1\")]` function is linked into this binary; write one, or drop `v1` from `variants`",
                "shop-tasks/meta/a.yaml: task `order.close` has metadata but no `#[task(\"order.close\")]` function in this binary",
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
