//! The parsed form of a `#[task("id")] async fn` item, keeping the user's tokens for spans.

use proc_macro2::TokenStream;
use syn::{FnArg, ItemFn, LitStr, PatType, Type};

/// A task function as written.
pub(crate) struct TaskFn {
    /// The id literal, `"order.timeout_close"`.
    pub(crate) id: LitStr,
    pub(crate) item: ItemFn,
    /// The argument of type `Ctx`, if the function takes one.
    pub(crate) ctx: Option<PatType>,
    /// The input argument, if the function takes one.
    pub(crate) input: Option<PatType>,
}

impl TaskFn {
    pub(crate) fn parse(args: TokenStream, item: TokenStream) -> syn::Result<Self> {
        let item: ItemFn = syn::parse2(item)?;
        let id: LitStr = syn::parse2(args.clone()).map_err(|_| {
            let hint = "expected the task id as a string literal: `#[task(\"order.timeout_close\")]`";
            if args.is_empty() {
                // The call site of an attribute macro is the attribute itself.
                syn::Error::new(
                    proc_macro2::Span::call_site(),
                    "missing task id; write it as a string literal: `#[task(\"order.timeout_close\")]`",
                )
            } else {
                syn::Error::new_spanned(&args, hint)
            }
        })?;
        let mut ctx = None;
        let mut input = None;
        let typed: Vec<&PatType> = item
            .sig
            .inputs
            .iter()
            .filter_map(|arg| match arg {
                FnArg::Typed(pat) => Some(pat),
                FnArg::Receiver(_) => None,
            })
            .collect();
        match typed.as_slice() {
            [] => {}
            [only] if is_ctx(&only.ty) => ctx = Some((*only).clone()),
            [only] => input = Some((*only).clone()),
            [first, second, ..] => {
                ctx = Some((*first).clone());
                input = Some((*second).clone());
            }
        }
        Ok(Self { id, item, ctx, input })
    }
}

/// Whether a type is written as `Ctx` or `path::to::Ctx`: the context is recognised by name.
pub(crate) fn is_ctx(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path.qself.is_none() && path.path.segments.last().is_some_and(|s| s.ident == "Ctx"),
        _ => false,
    }
}
