//! The linker ABI: what `#[task]` and `metadata!` put into the binary, collected by `linkme`.
//!
//! `#[task]` puts a [`TaskEntry`] in one linker-collected slice and `metadata!` puts a directory
//! of YAML documents in another, parsed and checked at compile time and emitted as static data.
//! Everything here is `const`: an entry is built by the compiler, not at start-up.

use std::any::{Any, TypeId};

use linkme::distributed_slice;
use preheat_meta::TaskMeta;

use crate::erased::{ErasedInput, TaskVTable};
use crate::fan_in::FanIn;
use crate::task::{Task, TaskSlot};

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
    pub(crate) id: &'static str,
    pub(crate) crate_name: &'static str,
    pub(crate) file: &'static str,
    pub(crate) line: u32,
    /// The task's few typed functions; everything else the engine does is shared.
    pub(crate) vtable: TaskVTable,
    /// Where the global registry writes the task's index, for typed submits.
    pub(crate) slot: Option<&'static TaskSlot>,
    /// Whether the task takes no input, so that it can run by itself on a schedule.
    pub(crate) takes_no_input: bool,
    pub(crate) input: TypeInfo,
    pub(crate) output: TypeInfo,
    /// For a task with several upstream tasks: how many, and its tuple input's parts.
    pub(crate) fan_in: Option<FanInEntry>,
    /// For a task with `variants`: which one this function is.
    pub(crate) variant: Option<&'static str>,
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

/// How a task with several upstream tasks takes their outputs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FanInEntry {
    pub(crate) upstream: usize,
    pub(crate) parts: fn() -> Vec<(TypeId, &'static str)>,
    assemble: fn(Vec<Box<dyn Any + Send>>) -> Option<ErasedInput>,
}

fn assemble<I: FanIn + Sync>(parts: Vec<Box<dyn Any + Send>>) -> Option<ErasedInput> {
    I::assemble(parts).map(|input| Box::new(input) as ErasedInput)
}

impl TaskEntry {
    /// The entry of task `T`, defined at `file:line` of crate `crate_name`.
    pub const fn of<T: Task>(crate_name: &'static str, file: &'static str, line: u32) -> Self {
        Self {
            id: T::ID,
            crate_name,
            file,
            line,
            vtable: TaskVTable::of::<T>(),
            slot: T::__SLOT,
            takes_no_input: false,
            input: TypeInfo::of::<T::Input>(),
            output: TypeInfo::of::<T::Output>(),
            fan_in: None,
            variant: None,
        }
    }

    /// The entry of a task that takes no input.
    pub const fn of_unit<T: Task<Input = ()>>(crate_name: &'static str, file: &'static str, line: u32) -> Self {
        Self { takes_no_input: true, ..Self::of::<T>(crate_name, file, line) }
    }

    /// Marks the task as following `upstream` tasks, whose outputs its tuple input `I` holds.
    pub const fn fan_in<I: FanIn + Sync>(self, upstream: usize) -> Self {
        Self { fan_in: Some(FanInEntry { upstream, parts: I::parts, assemble: assemble::<I> }), ..self }
    }

    /// Marks the function as the variant `name` of its task.
    pub const fn variant(self, name: &'static str) -> Self {
        Self { variant: Some(name), ..self }
    }

    /// Where the function is, as `file:line`.
    pub(crate) fn defined_at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// The tuple input of a task with several upstream tasks, from their outputs in order.
    pub(crate) fn assemble(&self, parts: Vec<Box<dyn Any + Send>>) -> Option<ErasedInput> {
        (self.fan_in?.assemble)(parts)
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
