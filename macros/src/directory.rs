//! A metadata directory as the macros read it at compile time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use preheat_meta::{MetaError, TaskMeta};

/// Every YAML file of a metadata directory, read.
pub(crate) struct Directory {
    pub(crate) files: Vec<YamlFile>,
}

pub(crate) struct YamlFile {
    /// Absolute, for `include_bytes!`.
    pub(crate) path: PathBuf,
    /// As the user wrote the directory, then the file: `meta/order.yaml`.
    pub(crate) name: String,
    pub(crate) text: String,
}

impl Directory {
    /// Reads every `.yaml` and `.yml` file below `root/relative`, in a stable order.
    pub(crate) fn read(root: &Path, relative: &str) -> Result<Self, String> {
        let dir = root.join(relative);
        if !dir.is_dir() {
            return Err(format!("metadata directory `{relative}` not found (looked in `{}`)", dir.display()));
        }
        let mut paths = Vec::new();
        collect_yaml(&dir, &mut paths).map_err(|error| format!("cannot read `{}`: {error}", dir.display()))?;
        paths.sort();
        let files = paths
            .into_iter()
            .map(|path| {
                let text = std::fs::read_to_string(&path)
                    .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
                let inner = path.strip_prefix(&dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                Ok(YamlFile { name: format!("{}/{inner}", relative.trim_end_matches('/')), path, text })
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { files })
    }

    /// Parses and checks every document, the way the runtime would: all errors at once.
    pub(crate) fn parse(&self) -> Result<Vec<(&YamlFile, TaskMeta)>, Vec<MetaError>> {
        let mut documents = Vec::new();
        let mut errors = Vec::new();
        for file in &self.files {
            match preheat_meta::parse_file(&file.name, &file.text) {
                Ok(metas) => documents.extend(metas.into_iter().map(|meta| (file, meta))),
                Err(file_errors) => errors.extend(file_errors),
            }
        }
        let named: Vec<(&str, &TaskMeta)> = documents.iter().map(|(file, meta)| (file.name.as_str(), meta)).collect();
        // The set checks know each document's file but not where in it; find that now.
        errors.extend(preheat_meta::check_set(&named).into_iter().map(|mut error| {
            let text = self.files.iter().find(|file| file.name == error.file).map(|file| file.text.as_str());
            if let (Some(text), Some(task), Some(field)) = (text, &error.task, &error.field) {
                error.location = preheat_meta::locate(text, task, field);
            }
            error
        }));
        if errors.is_empty() { Ok(documents) } else { Err(errors) }
    }
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_yaml(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// The documents of a directory by task id, each with its file, for `#[task]`'s look-up.
pub(crate) struct Index {
    pub(crate) ids: HashMap<String, (PathBuf, preheat_meta::DocumentSummary)>,
}

/// Indexes are cached for the life of the compiler process, so that a crate of many tasks reads
/// its directory once; a cached index is used only while no file in it has changed.
static INDEXES: Mutex<Vec<Cached>> = Mutex::new(Vec::new());

/// An index, the directory it is of, and the stamp of its files when it was read.
type Cached = (PathBuf, Stamp, Arc<Index>);

/// Each YAML file's path, modification time and length.
type Stamp = Vec<(PathBuf, SystemTime, u64)>;

impl Index {
    pub(crate) fn of(root: &Path, relative: &str) -> Result<Arc<Self>, String> {
        let dir = root.join(relative);
        let stamp = stamp(&dir);
        let mut cache = INDEXES.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, _, index)) = cache.iter().find(|(path, seen, _)| *path == dir && Some(seen) == stamp.as_ref()) {
            return Ok(index.clone());
        }
        let directory = Directory::read(root, relative)?;
        let ids = directory
            .files
            .iter()
            .flat_map(|file| {
                preheat_meta::summarize(&file.text)
                    .into_iter()
                    .map(|summary| (summary.id.clone(), (file.path.clone(), summary)))
            })
            .collect();
        let index = Arc::new(Self { ids });
        cache.retain(|(path, _, _)| *path != dir);
        if let Some(stamp) = stamp {
            cache.push((dir, stamp, index.clone()));
        }
        Ok(index)
    }
}

fn stamp(dir: &Path) -> Option<Stamp> {
    let mut paths = Vec::new();
    collect_yaml(dir, &mut paths).ok()?;
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let metadata = std::fs::metadata(&path).ok()?;
            Some((path, metadata.modified().ok()?, metadata.len()))
        })
        .collect()
}
