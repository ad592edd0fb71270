//! Code generation for `#[task]`.

use std::path::Path;

use preheat_meta::DocumentSummary;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{ReturnType, spanned::Spanned};

use crate::ast::TaskFn;

/// Replaces the function by a unit struct of the same name (the handle), moves the function body
/// to `Handle::call`, implements `preheat::Task` and registers the task in the linker slice.
pub(crate) fn task(task: &TaskFn, file: &Path, document: &DocumentSummary) -> TokenStream {
    let item = &task.item;
    let vis = &item.vis;
    let name = &item.sig.ident;
    let id = &task.id;
    let docs = item.attrs.iter().filter(|attr| attr.path().is_ident("doc"));
    let mut call_sig = item.sig.clone();
    call_sig.ident = format_ident!("call", span = name.span());
    let attrs = &item.attrs;
    let block = &item.block;
    let ReturnType::Type(_, ret) = &item.sig.output else { unreachable!("checked in valid.rs") };

    let input_ty = match &task.input {
        Some(input) => {
            let ty = &input.ty;
            quote!(#ty)
        }
        None => quote!(()),
    };
    let call_args = match (&task.ctx, &task.input) {
        (Some(_), Some(_)) => quote!(ctx, input),
        (Some(_), None) => quote!(ctx),
        (None, Some(_)) => quote!(input),
        (None, None) => quote!(),
    };
    let unused = match (&task.ctx, &task.input) {
        (None, None) => quote!(let _ = (ctx, input);),
        (None, Some(_)) => quote!(let _ = ctx;),
        (Some(_), None) => quote!(let _ = input;),
        (Some(_), Some(_)) => quote!(),
    };
    // Bound checks spanned on the user's types, so an unsuitable type is reported where it is
    // written rather than inside generated code.
    let (ok_span, err_span) = result_args(ret).unwrap_or((ret.span(), ret.span()));
    let output_ty = quote_spanned!(ok_span=> <#ret as ::preheat::__private::TaskResult>::Ok);
    let error_ty = quote_spanned!(err_span=> <#ret as ::preheat::__private::TaskResult>::Err);
    let into_result = quote_spanned!(ret.span()=> <#ret as ::preheat::__private::TaskResult>::into_result(result));
    // Spanned on the return type so that a non-`Result` is reported there, once.
    let run_ret = quote_spanned!(ret.span()=>
        impl ::core::future::Future<Output = ::core::result::Result<Self::Output, Self::Error>>
            + ::core::marker::Send + 'static
    );
    let doc = format!("Handle of the task `{}`: pass it to `Runtime::submit`.", id.value());
    // Read at compile time to find the task's document: an edit must rebuild this crate.
    let file = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    let file = file.to_string_lossy();
    // What the runtime needs beyond the `Task` impl: how to make the input of a task that
    // runs by itself, and how to assemble one from several upstream outputs.
    let entry = match &task.input {
        None => quote!(::preheat::__private::TaskEntry::of_unit::<#name>),
        Some(_) => quote!(::preheat::__private::TaskEntry::of::<#name>),
    };
    let fan_in = match (&task.input, document.upstream.len()) {
        (Some(input), 2..) => {
            let ty = &input.ty;
            let parts = document.upstream.len();
            quote_spanned!(ty.span()=> .fan_in::<#ty>(#parts))
        }
        _ => quote!(),
    };
    // The variant this function implements: the one it names, else the first listed.
    let variant = task.variant.as_ref().map(syn::LitStr::value).or_else(|| document.variants.first().cloned());
    let variant = variant.map(|name| quote!(.variant(#name)));
    let crate_checks = crate::crate_scope::checks(task, &output_ty, &input_ty, document);

    quote! {
        #(#docs)*
        #[doc = #doc]
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #name;

        impl #name {
            /// Runs the task function directly, without a runtime (for unit tests).
            #(#attrs)*
            #vis #call_sig #block
        }

        const _: () = {
            const _: &[u8] = ::core::include_bytes!(#file);

            // Where the registry writes the task's index: a typed submit reads it, once.
            static __PREHEAT_SLOT: ::preheat::__private::TaskSlot = ::preheat::__private::TaskSlot::new();

            impl ::preheat::Task for #name {
                const ID: &'static str = #id;
                type Input = #input_ty;
                type Output = #output_ty;
                type Error = #error_ty;
                const __SLOT: ::core::option::Option<&'static ::preheat::__private::TaskSlot> =
                    ::core::option::Option::Some(&__PREHEAT_SLOT);

                fn run(
                    ctx: ::preheat::Ctx,
                    input: Self::Input,
                ) -> #run_ret {
                    #unused
                    async move {
                        let result = #name::call(#call_args).await;
                        #into_result
                    }
                }
            }


            #[::preheat::__private::linkme::distributed_slice(::preheat::__private::TASKS)]
            #[linkme(crate = ::preheat::__private::linkme)]
            static __PREHEAT_TASK: ::preheat::__private::TaskEntry = #entry(
                ::core::env!("CARGO_PKG_NAME"),
                ::core::file!(),
                ::core::line!(),
            )#fan_in #variant;

            #crate_checks
        };
    }
}

/// The spans of `T` and `E` when the return type is written `Result<T, E>`.
fn result_args(ret: &syn::Type) -> Option<(proc_macro2::Span, proc_macro2::Span)> {
    let syn::Type::Path(path) = ret else { return None };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        syn::GenericArgument::Type(ty) => Some(ty.span()),
        _ => None,
    });
    match (types.next(), types.next()) {
        (Some(ok), Some(err)) => Some((ok, err)),
        (Some(ok), None) => Some((ok, ret.span())),
        _ => None,
    }
}
