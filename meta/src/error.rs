//! The one error type for a bad metadata document.

use std::fmt;

/// A problem in a metadata file, located as precisely as the parser allows.
///
/// It always names the file; it names the task when the document has a readable `id`, the
/// field when the problem is in one, and the line and column when the YAML parser knows them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct MetaError {
    /// The file, as given to [`parse_file`](crate::parse_file).
    pub file: String,
    /// 1-based line and column, when known.
    pub location: Option<(usize, usize)>,
    /// The task id of the document, when it could be read.
    pub task: Option<String>,
    /// The field path, for example `workers.min`, when the problem is in one field.
    pub field: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl MetaError {
    /// An error about a whole file, with no location, task or field.
    pub fn new(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self { file: file.into(), location: None, task: None, field: None, message: message.into() }
    }
}

impl fmt::Display for MetaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.location {
            write!(f, ":{line}:{column}")?;
        }
        f.write_str(": ")?;
        if let Some(task) = &self.task {
            write!(f, "task `{task}`: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}
