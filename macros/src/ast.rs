//! The parsed form of a `#[task("id")] async fn` item, keeping the user's tokens for spans.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::{FnArg, Ident, ItemFn, LitStr, PatType, Token, Type};

/// A task function as written.
pub(crate) struct TaskFn {
    /// The id literal, `"order.timeout_close"`.
    pub(crate) id: LitStr,
    /// `metadata = "dir"`: where the id's document is, relative to this file.
    pub(crate) metadata: Option<LitStr>,
    /// `variant = "v2"`: which of the task's `variants` this function implements.
    pub(crate) variant: Option<LitStr>,
    pub(crate) item: ItemFn,
    /// The argument of type `Ctx`, if the function takes one.
    pub(crate) ctx: Option<PatType>,
    /// The input argument, if the function takes one.
    pub(crate) input: Option<PatType>,
}

impl TaskFn {
    pub(crate) fn parse(args: TokenStream, item: TokenStream) -> syn::Result<Self> {
        let item: ItemFn = syn::parse2(item)?;
        if args.is_empty() {
            // The call site of an attribute macro is the attribute itself.
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                "missing task id; write it as a string literal: `#[task(\"order.timeout_close\")]`",
            ));
        }
        let Args { id, metadata, variant } = syn::parse2(args)?;
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
        Ok(Self { id, metadata, variant, item, ctx, input })
    }

    /// The metadata directory as written, `meta` when the attribute names none.
    pub(crate) fn metadata_dir(&self) -> String {
        self.metadata.as_ref().map_or_else(|| "meta".to_owned(), LitStr::value)
    }
}

/// Whether a type is written as `Ctx` or `path::to::Ctx`: the context is recognised by name.
pub(crate) fn is_ctx(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path.qself.is_none() && path.path.segments.last().is_some_and(|s| s.ident == "Ctx"),
        _ => false,
    }
}

/// The attribute's arguments: `"id"` and optionally `, metadata = "dir"` and `, variant = "v2"`.
struct Args {
    id: LitStr,
    metadata: Option<LitStr>,
    variant: Option<LitStr>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let id: LitStr = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected the task id as a string literal: `#[task(\"order.timeout_close\")]`",
            )
        })?;
        let (mut metadata, mut variant) = (None, None);
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            let (slot, example) = match key.to_string().as_str() {
                "metadata" => (&mut metadata, "metadata = \"path/to/meta\""),
                "variant" => (&mut variant, "variant = \"v2\""),
                _ => {
                    return Err(syn::Error::new_spanned(
                        &key,
                        format!(
                            "unknown argument `{key}`; the arguments are `metadata = \"dir\"` (where the task's \
                             YAML is) and `variant = \"name\"` (which of its `variants` this function is)"
                        ),
                    ));
                }
            };
            let hint = |error: syn::Error| syn::Error::new(error.span(), format!("write `{example}`"));
            input.parse::<Token![=]>().map_err(hint)?;
            let value = input.parse::<LitStr>().map_err(hint)?;
            if slot.replace(value).is_some() {
                return Err(syn::Error::new_spanned(&key, format!("`{key}` is given twice; keep one")));
            }
        }
        Ok(Self { id, metadata, variant })
    }
}
