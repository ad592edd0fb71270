//! Procedural macros of [preheat](https://docs.rs/preheat). Use them through `preheat`
//! (`#[preheat::task]`, `preheat::metadata!`); this crate's paths are not a stable interface.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

mod ast;
mod crate_scope;
mod directory;
mod expand;
mod lookup;
mod metadata;
mod valid;
mod warmup;

use proc_macro::TokenStream;

/// The directory metadata paths are relative to: the crate's, where its Cargo.toml is.
///
/// `PREHEAT_MANIFEST_DIR` overrides it for harnesses that compile a crate's files out of tree,
/// such as trybuild, where `CARGO_MANIFEST_DIR` is a generated project's.
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("PREHEAT_MANIFEST_DIR")
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(Into::into)
        .unwrap_or_default()
}

/// Turns an `async fn` into a registered task and a typed handle of the same name.
///
/// See the `preheat` crate documentation for the full tour.
#[proc_macro_attribute]
pub fn task(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    match ast::TaskFn::parse(args.into(), item.clone()).and_then(|task| {
        // Every problem at once: the signature's and the metadata's.
        let checked = valid::check(&task);
        // An invalid id is reported by `check`; looking it up would only add noise.
        let found = match preheat_meta::validate_id(&task.id.value()) {
            Ok(()) => lookup::find(&task).and_then(|(file, document)| {
                valid::agrees(&task, &document)?;
                Ok(Some((file, document)))
            }),
            Err(_) => Ok(None),
        };
        match (checked, found) {
            (Ok(()), Ok(Some((file, document)))) => Ok(expand::task(&task, &file, &document)),
            (Err(mut errors), Err(missing)) => {
                errors.combine(missing);
                Err(errors)
            }
            (Err(errors), _) | (_, Err(errors)) => Err(errors),
            (Ok(()), Ok(None)) => unreachable!("`check` rejects an id that `validate_id` rejects"),
        }
    }) {
        Ok(tokens) => tokens.into(),
        // Emit the user's function beside the error so that other diagnostics and the IDE keep
        // working on it.
        Err(error) => {
            let error = error.to_compile_error();
            quote::quote!(#item #error).into()
        }
    }
}

/// Embeds a directory of task metadata YAML files and registers it with the runtime.
///
/// The path is relative to the crate's `Cargo.toml`. Call it once per directory, at the crate
/// root (lib.rs or main.rs): it also defines the marker type through which the crate's tasks
/// are checked against each other at compile time, and fails the build anywhere else.
#[proc_macro]
pub fn metadata(input: TokenStream) -> TokenStream {
    metadata::expand(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Registers an `async fn() -> Result<_, E: Display>` as the warmer of a named resource.
///
/// `#[warmup("db")]`, optionally with `timeout = "10s"` (each attempt's deadline, default
/// `30s`) and `max_attempts = 5` (default `3`). See the `preheat` crate documentation.
#[proc_macro_attribute]
pub fn warmup(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    warmup::expand(args.into(), item.clone())
        .unwrap_or_else(|error| {
            // Keep the user's function beside the error, as `#[task]` does.
            let error = error.to_compile_error();
            quote::quote!(#item #error)
        })
        .into()
}
