//! Expansion of `metadata!("dir")`: the directory checked now, embedded, and parsed into statics.

use std::time::Duration;

use preheat_meta::{Missed, OnFull, Overlap, Schedule, TaskMeta, Warmup};
use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

use crate::directory::Directory;

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let dir: LitStr = syn::parse2(input).map_err(|error| {
        syn::Error::new(
            error.span(),
            "expected the metadata directory as a string literal, relative to Cargo.toml: `preheat::metadata!(\"meta\");`",
        )
    })?;
    let relative = dir.value();
    let root = crate::manifest_dir();
    let directory = Directory::read(&root, &relative).map_err(|message| {
        syn::Error::new_spanned(&dir, format!("{message}; the path is relative to the crate's Cargo.toml"))
    })?;
    let documents = directory.parse().map_err(|errors| {
        let mut errors = errors.into_iter().map(|error| syn::Error::new_spanned(&dir, error.to_string()));
        let mut all = errors.next().unwrap_or_else(|| syn::Error::new_spanned(&dir, "invalid metadata"));
        all.extend(errors);
        all
    })?;

    let crate_name = std::env::var("CARGO_PKG_NAME").unwrap_or_default();
    let documents = documents.iter().map(|(file, meta)| {
        let file = format!("{crate_name}/{}", file.name);
        let meta = task_meta(meta);
        quote!(::preheat::__private::MetadataDocument { file: #file, meta: #meta })
    });
    let embedded = root.join(&relative);
    let embedded = LitStr::new(&embedded.to_string_lossy(), dir.span());
    let marker = crate::crate_scope::define_marker(&relative, dir.span());
    Ok(quote! {
        #marker

        const _: () = {
            // include_dir's expansion names `include_dir::...`; make that path resolve here
            // without the user depending on include_dir.
            use ::preheat::__private::include_dir;

            #[::preheat::__private::linkme::distributed_slice(::preheat::__private::METADATA)]
            #[linkme(crate = ::preheat::__private::linkme)]
            static __PREHEAT_METADATA: ::preheat::__private::MetadataDir = ::preheat::__private::MetadataDir {
                crate_name: ::core::env!("CARGO_PKG_NAME"),
                path: #dir,
                // The YAML stays in the binary as written (and `include_bytes!` under the hood
                // makes an edit rebuild the crate); the runtime reads the parsed documents below.
                dir: include_dir::include_dir!(#embedded),
                documents: &[#(#documents),*],
            };
        };
    })
}

/// A `TaskMeta` as a constant expression.
fn task_meta(meta: &TaskMeta) -> TokenStream {
    let id = meta.id.as_ref();
    let description = meta.description.as_ref();
    let timeout = duration(meta.timeout);
    let retry = &meta.retry;
    let max_attempts = retry.max_attempts;
    let (base, max, jitter) = (duration(retry.backoff.base), duration(retry.backoff.max), retry.jitter);
    let workers = &meta.workers;
    let min = workers.min;
    let max_workers = option(workers.max.map(|max| quote!(#max)));
    let idle = duration(workers.idle);
    let capacity = meta.queue.capacity;
    let on_full = match meta.queue.on_full {
        OnFull::Block => quote!(Block),
        OnFull::Reject => quote!(Reject),
    };
    let warmup = match meta.warmup {
        Warmup::Eager => quote!(Eager),
        Warmup::Lazy => quote!(Lazy),
    };
    let upstream = meta.upstream.iter().map(|id| id.as_ref());
    let schedule = option(meta.schedule.as_ref().map(schedule_tokens));
    let resources = meta.resources.iter().map(|name| name.as_ref());
    let variants = meta.variants.iter().map(|variant| {
        let (name, weight) = (variant.name.as_ref(), variant.weight);
        quote!(::preheat::meta::Variant::__const(#name, #weight))
    });
    quote! {
        ::preheat::meta::TaskMeta::__const(
            #id,
            #description,
            #timeout,
            ::preheat::meta::Retry::__const(#max_attempts, #base, #max, #jitter),
            ::preheat::meta::Workers::__const(#min, #max_workers, #idle),
            ::preheat::meta::Queue::__const(#capacity, ::preheat::meta::OnFull::#on_full),
            ::preheat::meta::Warmup::#warmup,
            &[#(::std::borrow::Cow::Borrowed(#upstream)),*],
            #schedule,
            &[#(::std::borrow::Cow::Borrowed(#resources)),*],
            {
                // A `const` item: a call's value is not promoted to `'static` by `&` alone.
                const VARIANTS: &[::preheat::meta::Variant] = &[#(#variants),*];
                VARIANTS
            },
        )
    }
}

fn schedule_tokens(schedule: &Schedule) -> TokenStream {
    let every = option(schedule.every.map(duration));
    let cron = option(schedule.cron.as_deref().map(|cron| quote!(#cron)));
    let tz = option(schedule.tz.as_deref().map(|tz| quote!(#tz)));
    let (initial_delay, jitter) = (duration(schedule.initial_delay), duration(schedule.jitter));
    let overlap = match schedule.overlap {
        Overlap::Skip => quote!(Skip),
        Overlap::Queue => quote!(Queue),
        Overlap::Allow => quote!(Allow),
    };
    let missed = match schedule.missed {
        Missed::Skip => quote!(Skip),
        Missed::CatchUp => quote!(CatchUp),
    };
    let catch_up_max = schedule.catch_up_max;
    quote! {
        ::preheat::meta::Schedule::__const(
            #every,
            #cron,
            #tz,
            #initial_delay,
            #jitter,
            ::preheat::meta::Overlap::#overlap,
            ::preheat::meta::Missed::#missed,
            #catch_up_max,
        )
    }
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn duration(duration: Duration) -> TokenStream {
    let (secs, nanos) = (duration.as_secs(), duration.subsec_nanos());
    quote!(::core::time::Duration::new(#secs, #nanos))
}
