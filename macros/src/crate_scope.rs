//! The crate-wide checks `#[task]` expands to: one function per task id, and flow edges whose
//! types agree. The mechanism (a marker type per metadata directory at the crate root, one trait
//! impl per task) is described in `preheat`'s `crate_checks` module, which defines the traits.

use std::path::{Component, Path};

use preheat_meta::DocumentSummary;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use crate::ast::TaskFn;

/// The marker type `metadata!(dir)` defines at the crate root and each task of `dir` names:
/// `__preheat_metadata_<dir>`, one per directory so that a crate may embed several. Its name is
/// the one a user sees when the crate forgets `metadata!`, so it spells out the directory.
pub(crate) fn marker(dir: &str, span: Span) -> Ident {
    let parts: Vec<String> = Path::new(dir)
        .components()
        .filter_map(|component| match component {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            Component::ParentDir => Some("up".to_owned()),
            _ => None,
        })
        .collect();
    let name: String =
        parts.join("_").chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    format_ident!("__preheat_metadata_{}", name, span = span)
}

/// What `metadata!` adds for its tasks: the marker, and a check that it is at the crate root.
pub(crate) fn define_marker(dir: &str, span: Span) -> TokenStream {
    let marker = marker(dir, span);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        struct #marker;

        const _: () = ::preheat::__private::at_crate_root(::core::module_path!());
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
    let hash = id_hash(&task.id.value());
    let output_of = |id: &str| {
        let hash = id_hash(id);
        quote_spanned!(task.id.span()=>
            <::preheat::__private::TaskIdHash<#hash> as ::preheat::__private::UniqueTaskId<crate::#marker>>::Output
        )
    };
    let claim = quote_spanned!(task.id.span()=>
        impl ::preheat::__private::UniqueTaskId<crate::#marker> for ::preheat::__private::TaskIdHash<#hash> {
            type Output = #output_ty;
        }
    );
    let upstream = match document.upstream.as_slice() {
        [] => return claim,
        [one] => output_of(one),
        several => {
            let outputs = several.iter().map(|id| output_of(id));
            quote!((#(#outputs,)*))
        }
    };
    // The input type keeps the user's spans, so a mismatch is reported on it.
    quote! {
        #claim
        const _: () = ::preheat::__private::input_from_upstream::<#input_ty, #upstream>();
    }
}

/// 64-bit FNV-1a: small, stable across compiler versions, and the same in every macro call.
fn id_hash(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_spell_the_directory() {
        let span = Span::call_site();
        assert_eq!(marker("meta", span), "__preheat_metadata_meta");
        assert_eq!(marker("./tests/ui/meta/tasks/", span), "__preheat_metadata_tests_ui_meta_tasks");
        assert_eq!(marker("../shared-meta", span), "__preheat_metadata_up_shared_meta");
    }

    #[test]
    fn ids_hash_apart() {
        assert_ne!(id_hash("order.close"), id_hash("order.closf"));
        assert_eq!(id_hash(""), 0xcbf2_9ce4_8422_2325);
    }
}
