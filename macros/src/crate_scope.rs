//! The crate-wide checks `#[task]` expands to: one function per task id (and per variant), flow
//! edges whose types agree, and variants that all have a function of the same signature. The mechanism (a marker type per metadata directory at the crate root, one trait
//! impl per task) is described in `preheat`'s `crate_checks` module, which defines the traits.

use std::path::{Component, Path};

use preheat_meta::DocumentSummary;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use crate::ast::TaskFn;

/// The marker type `metadata!(dir)` defines at the crate root and each task of `dir` names:
/// `__preheat_metadata_<dir>_<hash>`, one per directory so that a crate may embed several. Its
/// name is the one a user sees when the crate forgets `metadata!`, so it spells out the
/// directory; the hash of the directory's normalised path keeps `my-meta` and `my_meta` apart.
pub(crate) fn marker(dir: &str, span: Span) -> Ident {
    let normalised = normalise(dir);
    let spelled: String = normalised
        .replace("..", "up")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
        .collect();
    let hash = fnv1a(&normalised) as u32;
    format_ident!("__preheat_metadata_{}_{:08x}", spelled, hash, span = span)
}

/// The directory as the same path however it is written: `./meta/`, `meta` and `meta//` agree.
fn normalise(dir: &str) -> String {
    let parts: Vec<String> = Path::new(dir)
        .components()
        .filter_map(|component| match component {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_owned()),
            Component::RootDir => Some(String::new()),
            Component::CurDir | Component::Prefix(_) => None,
        })
        .collect();
    parts.join("/")
}

/// What `metadata!` adds for its tasks: the marker, and the checks that it is at the crate root
/// (a module path without `::`; and the marker reachable as `crate::...`, which also fails for
/// a call inside a function, such as a doctest without `fn main`).
pub(crate) fn define_marker(dir: &str, span: Span) -> TokenStream {
    let marker = marker(dir, span);
    quote_spanned! {span=>
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        struct #marker;

        const _: () = ::preheat::__private::at_crate_root(::core::module_path!());
        const _: ::core::option::Option<crate::#marker> = ::core::option::Option::None;
    }
}

/// The task's claim on its id in its directory (spanned on the id, so that a duplicate is
/// reported on both attributes), and the type check of every edge into it.
///
/// `output_ty` and `input_ty` are the expressions the `Task` impl uses, with the user's spans: a
/// return type that is not a `Result` is then reported once, where it is written.
pub(crate) fn checks(
    task: &TaskFn,
    output_ty: &TokenStream,
    input_ty: &TokenStream,
    document: &DocumentSummary,
) -> TokenStream {
    let marker = marker(&task.metadata_dir(), task.id.span());
    let hash = fnv1a(&task.id.value());
    let output_of = |id: &str| {
        let hash = fnv1a(id);
        quote_spanned!(task.id.span()=>
            <::preheat::__private::TaskIdHash<#hash> as ::preheat::__private::UniqueTaskId<crate::#marker>>::Output
        )
    };
    // `non_local_definitions`: a task may be written inside a function; the impl is about the
    // crate-root marker, which is the point.
    let claim = quote_spanned!(task.id.span()=>
        #[allow(non_local_definitions)]
        impl ::preheat::__private::UniqueTaskId<crate::#marker> for ::preheat::__private::TaskIdHash<#hash> {
            type Output = #output_ty;
        }
    );
    let variants = variant_checks(task, &marker, output_ty, input_ty, document);
    // Of a task with variants, only the first variant's function claims the id: the others
    // claim their variant, and a flow edge reads the first's output (they all have the same).
    let first = document.variants.first();
    let claim = match &task.variant {
        Some(variant) if first.is_some_and(|first| *first != variant.value()) => TokenStream::new(),
        _ => claim,
    };
    let upstream = match document.upstream.as_slice() {
        [] => return quote!(#claim #variants),
        [one] => output_of(one),
        several => {
            let outputs = several.iter().map(|id| output_of(id));
            quote!((#(#outputs,)*))
        }
    };
    // The input type keeps the user's spans, so a mismatch is reported on it.
    quote! {
        #claim
        #variants
        const _: () = ::preheat::__private::input_from_upstream::<#input_ty, #upstream>();
    }
}

/// For a task with `variants`: the function's claim on its variant, and the check that the next
/// variant listed (the first after the last) has a function with the same input and output. The
/// ring reaches every variant, so a missing function is reported once, on the one before it.
fn variant_checks(
    task: &TaskFn,
    marker: &Ident,
    output_ty: &TokenStream,
    input_ty: &TokenStream,
    document: &DocumentSummary,
) -> TokenStream {
    let variants = &document.variants;
    let own = task.variant.as_ref().map_or_else(|| variants.first().cloned(), |v| Some(v.value()));
    let Some(position) = own.and_then(|own| variants.iter().position(|name| *name == own)) else {
        return TokenStream::new();
    };
    let id = task.id.value();
    let span = task.variant.as_ref().map_or_else(|| task.id.span(), |variant| variant.span());
    let key = |name: &str| fnv1a(&format!("{id}\0variant\0{name}"));
    let own = key(&variants[position]);
    let next = key(&variants[(position + 1) % variants.len()]);
    let next_of = quote_spanned!(span=>
        <::preheat::__private::TaskIdHash<#next> as ::preheat::__private::VariantOf<crate::#marker>>
    );
    quote_spanned! {span=>
        #[allow(non_local_definitions)]
        impl ::preheat::__private::VariantOf<crate::#marker> for ::preheat::__private::TaskIdHash<#own> {
            type Input = #input_ty;
            type Output = #output_ty;
        }
        const _: () = ::preheat::__private::same_as_next_variant::<
            (#input_ty, #output_ty),
            (#next_of::Input, #next_of::Output),
        >();
    }
}

/// 128-bit FNV-1a: small, stable across compiler versions, and the same in every macro call.
/// A task id's is `TaskIdHash`'s const generic (128 bits, so that two ids of one crate never
/// meet by accident); a directory's low 32 bits end its marker's name.
fn fnv1a(text: &str) -> u128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    text.bytes().fold(OFFSET, |hash, byte| (hash ^ u128::from(byte)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_spell_the_directory_and_keep_lookalikes_apart() {
        let name = |dir| marker(dir, Span::call_site()).to_string();
        assert!(name("meta").starts_with("__preheat_metadata_meta_"), "{}", name("meta"));
        assert!(name("../shared-meta").starts_with("__preheat_metadata_up_shared_meta_"));
        assert_eq!(name("./tests/ui/meta/tasks/"), name("tests/ui/meta/tasks"));
        assert_eq!(name("meta//"), name("meta"));
        for (one, other) in [("my-meta", "my_meta"), ("Meta", "meta"), ("../x", "up/x"), ("/a/b", "a/b")] {
            assert_ne!(name(one), name(other), "{one} and {other}");
        }
    }

    #[test]
    fn ids_hash_apart() {
        assert_ne!(fnv1a("order.close"), fnv1a("order.closf"));
        assert_eq!(fnv1a(""), 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d);
    }
}
