//! The task metadata schema of [preheat](https://docs.rs/preheat), and its one parser.
//!
//! A task's metadata is a YAML document. The `preheat` runtime parses the embedded documents at
//! start-up and the macros parse the same files at compile time, both through [`parse_file`], so
//! the two can never disagree about what a document means.
//!
//! ```
//! let yaml = "id: order.timeout_close\ntimeout: 5s\nworkers: { min: 4, max: 16 }\n";
//! let tasks = preheat_meta::parse_file("meta/order.yaml", yaml).unwrap();
//! assert_eq!(tasks[0].id, "order.timeout_close");
//! assert_eq!(tasks[0].workers.min, 4);
//! assert_eq!(tasks[0].retry.max_attempts, 3); // a default
//! ```
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

mod error;
mod graph;
mod locate;
mod parse;
mod schema;
mod set;
mod variants;

pub use error::MetaError;
pub use graph::find_cycle;
pub use locate::locate;
pub use parse::{
    DocumentSummary, parse_duration, parse_file, summarize, validate_id, validate_resource, validate_variant,
};
pub use schema::{Backoff, Missed, OnFull, Overlap, Queue, Retry, Schedule, TaskMeta, Warmup, Workers};
pub use set::{check_set, closest};
pub use variants::{MAX_VARIANTS, MAX_WEIGHT, Variant};
