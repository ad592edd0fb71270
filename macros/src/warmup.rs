//! `#[warmup("db")]`: registers an `async fn() -> Result<_, E: Display>` as the warmer of a
//! resource, with its deadline and retry count.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, LitInt, LitStr, ReturnType, Token};

/// Each attempt's deadline when the attribute gives none.
const DEFAULT_TIMEOUT: &str = "30s";
/// Attempts in all when the attribute gives none.
const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The attribute's arguments: `"resource"`, then optionally `timeout = "10s"` and
/// `max_attempts = 5`.
struct Args {
    resource: LitStr,
    timeout: Option<LitStr>,
    max_attempts: Option<LitInt>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let resource: LitStr = input.parse().map_err(|error| {
            syn::Error::new(error.span(), "expected the resource name as a string literal: `#[warmup(\"db\")]`")
        })?;
        let (mut timeout, mut max_attempts) = (None, None);
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let twice = || syn::Error::new_spanned(&key, format!("`{key}` is given twice; keep one"));
            if key == "timeout" {
                timeout.replace(input.parse::<LitStr>()?).map_or(Ok(()), |_| Err(twice()))?;
            } else if key == "max_attempts" {
                max_attempts.replace(input.parse::<LitInt>()?).map_or(Ok(()), |_| Err(twice()))?;
            } else {
                return Err(syn::Error::new_spanned(
                    &key,
                    format!("unknown argument `{key}`; the arguments are `timeout = \"30s\"` and `max_attempts = 3`"),
                ));
            }
        }
        Ok(Self { resource, timeout, max_attempts })
    }
}

/// Expands `#[warmup(args)] item`, or says everything that is wrong with it.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let item: ItemFn = syn::parse2(item)?;
    if args.is_empty() {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "missing resource name; write it as a string literal: `#[warmup(\"db\")]`",
        ));
    }
    let Args { resource, timeout, max_attempts } = syn::parse2(args)?;
    let mut errors: Vec<syn::Error> = Vec::new();
    if let Err(message) = preheat_meta::validate_resource(&resource.value()) {
        errors.push(syn::Error::new_spanned(&resource, message));
    }
    let timeout = match &timeout {
        Some(literal) => preheat_meta::parse_duration(&literal.value()).map_err(|message| {
            errors.push(syn::Error::new_spanned(literal, message));
        }),
        None => preheat_meta::parse_duration(DEFAULT_TIMEOUT).map_err(drop),
    }
    .unwrap_or_default();
    if timeout.is_zero() && errors.is_empty() {
        errors.push(syn::Error::new(Span::call_site(), "`timeout` must be greater than zero"));
    }
    let max_attempts = match &max_attempts {
        Some(literal) => match literal.base10_parse::<u32>() {
            Ok(0) | Err(_) => {
                errors.push(syn::Error::new_spanned(literal, "`max_attempts` is a whole number from 1 (no retry) up"));
                1
            }
            Ok(n) => n,
        },
        None => DEFAULT_MAX_ATTEMPTS,
    };
    let sig = &item.sig;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(sig.fn_token, "a warmer must be an `async fn`"));
    }
    if !sig.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(&sig.generics, "a warmer cannot be generic"));
    }
    if !sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(&sig.inputs, "a warmer takes no arguments; it warms a shared resource"));
    }
    if let ReturnType::Default = sig.output {
        errors.push(syn::Error::new_spanned(
            sig.ident.clone(),
            "a warmer returns `Result<(), E>` with `E: Display`, so that a failed warm-up says why",
        ));
    }
    // In source order: the attribute's, then the signature's.
    if let Some(error) = errors.into_iter().reduce(|mut first, other| {
        first.combine(other);
        first
    }) {
        let error = error.to_compile_error();
        return Ok(quote!(#item #error));
    }

    let name = &sig.ident;
    let nanos = timeout.as_nanos() as u64;
    // Spanned on the return type: a result whose error is not `Display` is reported there.
    let result = quote_spanned!(sig.output.span()=> ::preheat::__private::warm_result(#name().await));
    Ok(quote! {
        #item

        const _: () = {
            #[::preheat::__private::linkme::distributed_slice(::preheat::__private::WARMERS)]
            #[linkme(crate = ::preheat::__private::linkme)]
            static __PREHEAT_WARMER: ::preheat::__private::WarmerEntry = ::preheat::__private::WarmerEntry::new(
                #resource,
                ::core::env!("CARGO_PKG_NAME"),
                ::core::file!(),
                ::core::line!(),
                ::core::time::Duration::from_nanos(#nanos),
                #max_attempts,
                || ::std::boxed::Box::pin(async { #result }),
            );
        };
    })
}
