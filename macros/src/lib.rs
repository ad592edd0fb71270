//! Procedural macros of [preheat](https://docs.rs/preheat). Use them through `preheat`
//! (`#[preheat::task]`, `preheat::metadata!`); this crate's paths are not a stable interface.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

mod ast;
mod expand;
mod metadata;
mod valid;

use proc_macro::TokenStream;

/// Turns an `async fn` into a registered task and a typed handle of the same name.
///
/// See the `preheat` crate documentation for the full tour.
#[proc_macro_attribute]
pub fn task(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    match ast::TaskFn::parse(args.into(), item.clone()).and_then(|task| {
        valid::check(&task)?;
        Ok(expand::task(&task))
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
/// The path is relative to the crate's `Cargo.toml`.
#[proc_macro]
pub fn metadata(input: TokenStream) -> TokenStream {
    metadata::expand(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
