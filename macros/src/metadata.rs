//! Expansion of `metadata!("dir")`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let dir: LitStr = syn::parse2(input).map_err(|error| {
        syn::Error::new(
            error.span(),
            "expected the metadata directory as a string literal, relative to Cargo.toml: `preheat::metadata!(\"meta\");`",
        )
    })?;
    let relative = dir.value();
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    if !std::path::Path::new(&root).join(&relative).is_dir() {
        return Err(syn::Error::new_spanned(
            &dir,
            format!(
                "metadata directory `{relative}` not found in `{root}`; the path is relative to the crate's Cargo.toml"
            ),
        ));
    }
    let embedded = LitStr::new(&format!("$CARGO_MANIFEST_DIR/{relative}"), dir.span());
    Ok(quote! {
        const _: () = {
            // include_dir's expansion names `include_dir::...`; make that path resolve here
            // without the user depending on include_dir.
            use ::preheat::__private::include_dir;

            #[::preheat::__private::linkme::distributed_slice(::preheat::__private::METADATA)]
            #[linkme(crate = ::preheat::__private::linkme)]
            static __PREHEAT_METADATA: ::preheat::__private::MetadataDir = ::preheat::__private::MetadataDir {
                crate_name: ::core::env!("CARGO_PKG_NAME"),
                path: #dir,
                dir: include_dir::include_dir!(#embedded),
            };
        };
    })
}
