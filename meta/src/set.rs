//! Checks that need every document at once: unique ids, known upstream ids, no cycles.

use std::collections::HashMap;

use crate::{MetaError, TaskMeta, find_cycle};

/// Checks a set of documents together, each given with the file it came from.
///
/// `metadata!` runs it over one directory at compile time; the runtime runs it over every
/// directory linked into the binary, where tasks of several crates meet.
pub fn check_set<'a>(documents: &[(&'a str, &'a TaskMeta)]) -> Vec<MetaError> {
    let mut errors = Vec::new();
    let mut first_file: HashMap<&str, &str> = HashMap::new();
    for &(file, meta) in documents {
        if let Some(first) = first_file.insert(&meta.id, file) {
            // Keep pointing at the first definition for later duplicates.
            first_file.insert(&meta.id, first);
            errors.push(located(
                file,
                meta,
                "id",
                format!("task `{}` is already defined in {first}; keep one", meta.id),
            ));
        }
    }
    for &(file, meta) in documents {
        for (position, upstream) in meta.upstream.iter().enumerate() {
            if !first_file.contains_key(upstream.as_ref()) {
                let hint = closest(upstream, first_file.keys().copied())
                    .map(|close| format!("; did you mean `{close}`?"))
                    .unwrap_or_default();
                let field = format!("upstream.{position}");
                errors.push(located(file, meta, &field, format!("unknown task `{upstream}`{hint}")));
            }
        }
    }
    let edges: Vec<(&str, &[_])> =
        documents.iter().map(|(_, meta)| (meta.id.as_ref(), meta.upstream.as_ref())).collect();
    let cycle = find_cycle(&edges);
    if let Some(cycle) = cycle
        && let Some(&(file, meta)) = documents.iter().find(|(_, meta)| meta.id == cycle[0])
    {
        let message = format!("tasks follow each other in a cycle: {}; remove one `upstream` edge", cycle.join(" → "));
        errors.push(located(file, meta, "upstream", message));
    }
    errors
}

/// The candidate closest to `name`, if it is close enough to be a typo of it.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min()
        .map(|(_, candidate)| candidate)
}

fn located(file: &str, meta: &TaskMeta, field: &str, message: String) -> MetaError {
    MetaError {
        file: file.to_owned(),
        location: None,
        task: Some(meta.id.to_string()),
        field: Some(field.to_owned()),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_file;

    fn errors(files: &[(&str, &str)]) -> Vec<String> {
        let parsed: Vec<(&str, Vec<TaskMeta>)> =
            files.iter().map(|(file, text)| (*file, parse_file(file, text).expect("valid documents"))).collect();
        let documents: Vec<(&str, &TaskMeta)> =
            parsed.iter().flat_map(|(file, metas)| metas.iter().map(move |meta| (*file, meta))).collect();
        check_set(&documents).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_consistent_set_passes() {
        assert!(errors(&[("a.yaml", "id: a.one\n---\nid: a.two\nupstream: [a.one]")]).is_empty());
    }

    #[test]
    fn duplicates_name_both_files() {
        assert_eq!(
            errors(&[("a.yaml", "id: a.one"), ("b.yaml", "id: a.one"), ("c.yaml", "id: a.one")]),
            [
                "b.yaml: task `a.one`: field `id`: task `a.one` is already defined in a.yaml; keep one",
                "c.yaml: task `a.one`: field `id`: task `a.one` is already defined in a.yaml; keep one",
            ]
        );
    }

    #[test]
    fn unknown_upstream_suggests_the_closest_id() {
        assert_eq!(
            errors(&[("a.yaml", "id: order.created\n---\nid: stock.reserve\nupstream: [order.creatd, zzz]")]),
            [
                "a.yaml: task `stock.reserve`: field `upstream.0`: unknown task `order.creatd`; did you mean `order.created`?",
                "a.yaml: task `stock.reserve`: field `upstream.1`: unknown task `zzz`",
            ]
        );
    }

    #[test]
    fn a_cycle_is_printed() {
        assert_eq!(
            errors(&[("a.yaml", "id: a.one\nupstream: [a.two]\n---\nid: a.two\nupstream: [a.one]")]),
            [
                "a.yaml: task `a.one`: field `upstream`: tasks follow each other in a cycle: a.one → a.two → a.one; remove one `upstream` edge"
            ]
        );
    }
}
