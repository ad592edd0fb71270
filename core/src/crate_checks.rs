//! What `#[task]` and `metadata!` expand to so that rustc checks a crate's tasks against each
//! other: one function per task id, and flow edges whose types agree.
//!
//! A macro sees one item. To see the others it needs a name that every module of the crate can
//! reach, and the crate root is the one place a path can name from anywhere: `metadata!("meta")`,
//! called there, defines the marker type `crate::__preheat_metadata_meta_<hash>`. Each `#[task]`
//! whose document is in that directory implements [`UniqueTaskId`] of the marker for
//! `TaskIdHash<{hash of its id}>`, with its output type as the associated type. A second function
//! with the same id is then a second impl of the same trait for the same type, which coherence
//! refuses (E0119, on both ids); and a task that follows others reads each upstream output
//! through those impls and requires its input to be that type ([`input_from_upstream`]).
//!
//! Across crates none of this applies (each crate has its own markers): the registry checks the
//! same rules at start-up. So does a duplicate id in two directories of one crate.

/// A task id, by the 128-bit FNV-1a hash the macro computes: const generics take integers, not
/// strings. A collision between two ids of one crate would read as a duplicate; at 128 bits it
/// does not happen in practice, and the registry still checks ids by their text at start-up.
#[derive(Debug)]
pub struct TaskIdHash<const ID: u128>;

/// Implemented once per `#[task]` for its id and its metadata directory's marker; a second
/// function with the same id is a conflicting impl.
#[diagnostic::on_unimplemented(
    message = "a task named in `upstream` has metadata in this crate but no `#[task]` function in it",
    label = "the upstream task of this one",
    note = "write the upstream task's `#[task(\"...\")]` function in this crate, or drop it from `upstream`"
)]
pub trait UniqueTaskId<Directory> {
    /// The task's output type: what a task that follows it receives.
    type Output;
}

/// Holds when a task's input is the output of its upstream task (or the tuple of its upstream
/// tasks' outputs, in the order of `upstream`).
#[diagnostic::on_unimplemented(
    message = "this task's input is `{Self}`, but it follows tasks (`upstream`) whose output is `{Upstream}`",
    label = "expected `{Upstream}`",
    note = "a task that follows one task takes its output; one that follows several takes a tuple of their outputs, in the order of `upstream`"
)]
pub trait InputFromUpstream<Upstream> {}

impl<T> InputFromUpstream<T> for T {}

/// The check a downstream task expands to, evaluated in a `const`: it compiles only when
/// `Input` is `Upstream`.
pub const fn input_from_upstream<Input: InputFromUpstream<Upstream>, Upstream>() {}

/// Implemented once per variant of a task with `variants`, by the variant's function, keyed by
/// the hash of the id and the variant's name: a second function of one variant is a conflicting
/// impl, and each variant's function reads the next one's types through it.
#[diagnostic::on_unimplemented(
    message = "a variant listed in this task's `variants` has no `#[task]` function in this crate",
    label = "the variant listed after this function's has no function",
    note = "every variant in `variants` needs a function `#[task(\"id\", variant = \"name\")]` with the same input and output; the function of the first variant may leave out `variant = ...`"
)]
pub trait VariantOf<Directory> {
    /// The variant's input type.
    type Input;
    /// The variant's output type.
    type Output;
}

/// Holds when two variants of a task take the same input and return the same output.
#[diagnostic::on_unimplemented(
    message = "the variants of one task must take the same input and return the same output: this function's are `{Self}`, but the next variant's in `variants` are `{Next}`",
    label = "(input, output) of this variant",
    note = "a submit may run any variant, so each must accept what the others accept and return what they return"
)]
pub trait SameAsNextVariant<Next> {}

impl<T> SameAsNextVariant<T> for T {}

/// The check each variant's function expands to, in a `const`: it compiles only when its
/// `(input, output)` is the next variant's.
pub const fn same_as_next_variant<This: SameAsNextVariant<Next>, Next>() {}

/// Fails the build when `metadata!` is called below the crate root, where the tasks of other
/// modules would not find its marker type. `module_path` is the caller's `module_path!()`.
pub const fn at_crate_root(module_path: &str) {
    let bytes = module_path.as_bytes();
    let mut at = 0;
    while at + 1 < bytes.len() {
        if bytes[at] == b':' && bytes[at + 1] == b':' {
            panic!(
                "`preheat::metadata!` must be called at the crate root (lib.rs or main.rs), where every `#[task]` of the crate finds it"
            );
        }
        at += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crate_root_has_no_path_separator() {
        at_crate_root("shop_tasks");
        assert!(std::panic::catch_unwind(|| at_crate_root("shop_tasks::order")).is_err());
    }
}
