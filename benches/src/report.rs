//! The machine-readable end of every benchmark's output: one `key=value` line per figure.
//!
//! Binaries print human-readable results as they go and the [`Report`] last, so scripts can take
//! the trailing `key=value` lines and people can read the rest.

use std::fmt::Display;

/// Figures collected during a run, printed as `key=value` lines in the order they were added.
#[derive(Debug, Default)]
pub struct Report {
    lines: Vec<String>,
}

impl Report {
    /// An empty report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key=value`. Keys are `snake_case`; format the value as it should be read (units go
    /// in the key: `_per_s`, `_us`).
    pub fn add(&mut self, key: &str, value: impl Display) {
        self.lines.push(format!("{key}={value}"));
    }

    /// Prints every line to stdout.
    pub fn print(&self) {
        for line in &self.lines {
            println!("{line}");
        }
    }
}
