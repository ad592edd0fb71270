//! Code generation for `#[task]`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{ReturnType, spanned::Spanned};

use crate::ast::TaskFn;

/// Replaces the function by a unit struct of the same name (the handle), moves the function body
/// to `Handle::call`, implements `preheat::Task` and registers the task in the linker slice.
pub(crate) fn task(task: &TaskFn) -> TokenStream {
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
    let input_check = task.input.as_ref().map(|input| {
        let ty = &input.ty;
        quote_spanned!(ty.span()=> ::preheat::__private::assert_input::<#ty>();)
    });
    let result_check = quote_spanned!(ret.span()=> ::preheat::__private::assert_result::<#ret>(););
    let doc = format!("Handle of the task `{}`: pass it to `Runtime::submit`.", id.value());

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

        impl ::preheat::Task for #name {
            const ID: &'static str = #id;
            type Input = #input_ty;
            type Output = <#ret as ::preheat::__private::TaskResult>::Ok;
            type Error = <#ret as ::preheat::__private::TaskResult>::Err;

            fn run(
                ctx: ::preheat::Ctx,
                input: Self::Input,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<Self::Output, Self::Error>>
                   + ::core::marker::Send + 'static {
                #unused
                #name::call(#call_args)
            }
        }

        const _: () = {
            #[allow(clippy::unit_arg)]
            fn __preheat_checks() {
                #input_check
                #result_check
            }

            #[::preheat::__private::linkme::distributed_slice(::preheat::__private::TASKS)]
            #[linkme(crate = ::preheat::__private::linkme)]
            static __PREHEAT_TASK: ::preheat::__private::TaskEntry = ::preheat::__private::TaskEntry::of::<#name>(
                ::core::env!("CARGO_PKG_NAME"),
                ::core::file!(),
                ::core::line!(),
            );
        };
    }
}
