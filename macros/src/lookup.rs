//! Finding a task's metadata document at compile time, so a missing one is a compile error.

use std::path::{Path, PathBuf};

use syn::LitStr;

use crate::ast::TaskFn;
use crate::directory::Index;

/// Where the task's id is documented: the file to track for rebuilds.
pub(crate) fn find(task: &TaskFn) -> syn::Result<PathBuf> {
    let id = task.id.value();
    let (root, relative, shown) = match &task.metadata {
        // Relative to the file with the attribute, like `include_str!`.
        Some(dir) => (file_dir(dir)?, dir.value(), format!("`{}`", dir.value())),
        None => (crate::manifest_dir(), "meta".to_owned(), "`meta/` (next to Cargo.toml)".to_owned()),
    };
    let spanned = task.metadata.as_ref().unwrap_or(&task.id);
    let index = Index::of(&root, &relative).map_err(|message| {
        let fix = match &task.metadata {
            Some(_) => "the path is relative to this file".to_owned(),
            None => format!("put the YAML there, or name its directory: `#[task(\"{id}\", metadata = \"../meta\")]`"),
        };
        syn::Error::new_spanned(spanned, format!("{message}; {fix}"))
    })?;
    match index.ids.get(&id) {
        Some(file) => Ok(file.clone()),
        None => {
            let hint = match preheat_meta::closest(&id, index.ids.keys().map(String::as_str)) {
                Some(close) => format!("; did you mean `{close}`?"),
                None => format!("; add a document with `id: {id}` to a YAML file there"),
            };
            Err(syn::Error::new_spanned(&task.id, format!("no metadata for task `{id}` in {shown}{hint}")))
        }
    }
}

/// The directory of the source file that contains `literal`.
fn file_dir(literal: &LitStr) -> syn::Result<PathBuf> {
    let file = literal.span().unwrap().local_file().ok_or_else(|| {
        syn::Error::new_spanned(literal, "cannot tell which file this is in, so cannot resolve the metadata path")
    })?;
    Ok(file.parent().map(Path::to_path_buf).unwrap_or_default())
}
