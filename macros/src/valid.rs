//! Semantic checks of a task function, all reported at once.

use syn::{FnArg, ReturnType};

use crate::ast::{TaskFn, is_ctx};

pub(crate) fn check(task: &TaskFn) -> syn::Result<()> {
    let sig = &task.item.sig;
    let mut errors: Vec<syn::Error> = Vec::new();
    let mut error = |tokens: &dyn quote::ToTokens, message: &str| errors.push(syn::Error::new_spanned(tokens, message));

    if let Err(message) = preheat_meta::validate_id(&task.id.value()) {
        error(&task.id, &message);
    }
    if sig.asyncness.is_none() {
        error(&sig.fn_token, "a task must be an `async fn`; add `async` before `fn`");
    }
    if !sig.generics.params.is_empty() {
        error(&sig.generics, "a task cannot be generic: the registry needs one concrete function per id");
    } else if let Some(where_clause) = &sig.generics.where_clause {
        error(where_clause, "a task cannot have a `where` clause; remove it");
    }
    if let Some(unsafety) = &sig.unsafety {
        error(
            unsafety,
            "a task cannot be an `unsafe fn`: the runtime calls it and cannot uphold its contract; \
             put an `unsafe` block inside the function",
        );
    }
    if let Some(abi) = &sig.abi {
        error(abi, "a task is a Rust `async fn`; remove the `extern` ABI");
    }
    for arg in &sig.inputs {
        if let FnArg::Typed(typed) = arg {
            match &*typed.ty {
                syn::Type::Reference(reference) => error(
                    &reference.and_token,
                    "a task's input goes through a queue, so it must own its data: use `String` for `&str`, \
                     `Vec<T>` for `&[T]`, or an owned struct",
                ),
                syn::Type::ImplTrait(ty) => error(
                    ty,
                    "a task cannot be generic: `impl Trait` in an argument is a type parameter; name a concrete type",
                ),
                _ => {}
            }
        }
    }
    if let Some(constness) = &sig.constness {
        error(constness, "a task cannot be a `const fn`");
    }
    if let Some(variadic) = &sig.variadic {
        error(variadic, "a task cannot be variadic");
    }
    for arg in &sig.inputs {
        if let FnArg::Receiver(receiver) = arg {
            error(receiver, "a task is a free function, not a method; remove `self`");
        }
    }
    let typed: Vec<_> = sig.inputs.iter().filter(|arg| matches!(arg, FnArg::Typed(_))).collect();
    if typed.len() > 2 {
        error(
            &typed[2],
            "a task takes at most two arguments, `(ctx: preheat::Ctx, input: YourInput)`; \
             put several values in one input struct",
        );
    }
    if let (2, Some(ctx), Some(input)) = (typed.len(), &task.ctx, &task.input) {
        if is_ctx(&input.ty) && is_ctx(&ctx.ty) {
            error(
                &input.ty,
                "a task takes the context once; the second argument is the input: `(ctx: preheat::Ctx, input: YourInput)`",
            );
        } else if is_ctx(&input.ty) {
            // Swapped arguments are one mistake: report it once, on the context.
            error(
                &input.ty,
                "the context comes first: `(ctx: preheat::Ctx, input: YourInput)`; swap the two arguments",
            );
        } else if !is_ctx(&ctx.ty) {
            error(&ctx.ty, "the first of two arguments must be the task context, `preheat::Ctx`");
        }
    }
    if let ReturnType::Default = sig.output {
        error(&sig.ident, "a task must return `Result<T, E>`; add `-> Result<YourOutput, YourError>`");
    }
    match errors.into_iter().reduce(|mut all, next| {
        all.combine(next);
        all
    }) {
        Some(all) => Err(all),
        None => Ok(()),
    }
}

/// Checks the signature against the task's document.
pub(crate) fn agrees(task: &TaskFn, document: &preheat_meta::DocumentSummary) -> syn::Result<()> {
    if let (true, Some(input)) = (document.scheduled, &task.input) {
        return Err(syn::Error::new_spanned(
            &input.ty,
            format!(
                "task `{}` has a `schedule`, so it runs without a caller to give it an input; \
                 remove this argument, or remove the schedule and submit the task",
                document.id
            ),
        ));
    }
    variant_agrees(task, document)?;
    if let (2.., None) = (document.upstream.len(), &task.input) {
        return Err(syn::Error::new_spanned(
            &task.item.sig.ident,
            format!(
                "task `{}` follows {} tasks ({}), so it takes their outputs as one tuple input, in that order",
                document.id,
                document.upstream.len(),
                document.upstream.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    Ok(())
}

/// `variant = "..."` names one of the document's `variants`, and only a task with variants has it.
fn variant_agrees(task: &TaskFn, document: &preheat_meta::DocumentSummary) -> syn::Result<()> {
    let Some(variant) = &task.variant else { return Ok(()) };
    let name = variant.value();
    let id = &document.id;
    if document.variants.is_empty() {
        return Err(syn::Error::new_spanned(
            variant,
            format!(
                "task `{id}` has no `variants` in its YAML, so a function cannot be its variant `{name}`; \
                 list them in the task's document (`variants: {{ v1: 90, {name}: 10 }}`) or remove `variant = ...`"
            ),
        ));
    }
    if !document.variants.contains(&name) {
        let listed = document.variants.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ");
        let hint = match preheat_meta::closest(&name, document.variants.iter().map(String::as_str)) {
            Some(close) => format!("; did you mean `{close}`?"),
            None => format!("; add `{name}` to `variants` or use one of those"),
        };
        return Err(syn::Error::new_spanned(
            variant,
            format!("task `{id}` has no variant `{name}`: its `variants` are {listed}{hint}"),
        ));
    }
    Ok(())
}
