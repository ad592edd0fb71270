//! Finding a task's metadata document at compile time, so a missing one is a compile error.

use std::path::PathBuf;

use preheat_meta::DocumentSummary;

use crate::ast::TaskFn;
use crate::directory::Index;

/// The task's document: the file to track for rebuilds, and what the signature must agree with.
pub(crate) fn find(task: &TaskFn) -> syn::Result<(PathBuf, DocumentSummary)> {
    let id = task.id.value();
    let relative = task.metadata_dir();
    let index = Index::of(&crate::manifest_dir(), &relative).map_err(|message| {
        let spanned = task.metadata.as_ref().unwrap_or(&task.id);
        let fix = match &task.metadata {
            Some(_) => "the path is relative to the crate's Cargo.toml".to_owned(),
            None => format!("put the YAML in `meta/` next to Cargo.toml, or name its directory: `#[task(\"{id}\", metadata = \"path/to/meta\")]`"),
        };
        syn::Error::new_spanned(spanned, format!("{message}; {fix}"))
    })?;
    let shown = format!("`{relative}/`");
    match index.ids.get(&id) {
        Some(found) => Ok(found.clone()),
        None => {
            let hint = match preheat_meta::closest(&id, index.ids.keys().map(String::as_str)) {
                Some(close) => format!("; did you mean `{close}`?"),
                None => format!("; add a document with `id: {id}` to a YAML file there"),
            };
            Err(syn::Error::new_spanned(&task.id, format!("no metadata for task `{id}` in {shown}{hint}")))
        }
    }
}
