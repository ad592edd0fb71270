//! Reading YAML documents into [`TaskMeta`] and checking what serde cannot.

use serde::Deserialize;

use crate::{MetaError, TaskMeta};

/// Parses every YAML document of one file (documents are separated by `---`) and checks each.
///
/// `file` only names the file in errors. On failure every problem of the file is returned, not
/// just the first, so that one edit-compile cycle fixes them all.
pub fn parse_file(file: &str, text: &str) -> Result<Vec<TaskMeta>, Vec<MetaError>> {
    let mut tasks = Vec::new();
    let mut errors = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        match TaskMeta::deserialize(document) {
            Ok(meta) => match check(&meta) {
                Ok(()) => tasks.push(meta),
                Err(problems) => errors.extend(problems.into_iter().map(|(field, message)| MetaError {
                    file: file.to_owned(),
                    location: field.and_then(|field| crate::locate(text, &meta.id, field)),
                    task: Some(meta.id.to_string()),
                    field: field.map(str::to_owned),
                    message,
                })),
            },
            // A trailing `---` leaves an empty document: nothing to describe, not a mistake.
            Err(_) if is_empty_document(text, index) => {}
            Err(error) => errors.push(yaml_error(file, text, index, &error)),
        }
        // After a syntax error the parser cannot find the next document reliably.
        if errors.last().is_some_and(|e| e.task.is_none() && e.location.is_some()) {
            break;
        }
    }
    if errors.is_empty() { Ok(tasks) } else { Err(errors) }
}

fn is_empty_document(text: &str, index: usize) -> bool {
    serde_yaml::Deserializer::from_str(text)
        .nth(index)
        .and_then(|document| serde_yaml::Value::deserialize(document).ok())
        .is_some_and(|value| value.is_null())
}

/// What `#[task]` needs to know of a document before the function is compiled: read leniently,
/// so that a document that is otherwise invalid still names its task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentSummary {
    /// The task id.
    pub id: String,
    /// Whether the document has a `schedule`.
    pub scheduled: bool,
    /// The `upstream` ids.
    pub upstream: Vec<String>,
    /// The names of the `variants`, in order.
    pub variants: Vec<String>,
}

/// A summary of every document of a file that has an `id`.
pub fn summarize(text: &str) -> Vec<DocumentSummary> {
    serde_yaml::Deserializer::from_str(text)
        .filter_map(|document| serde_yaml::Value::deserialize(document).ok())
        .filter_map(|value| {
            let id = value.get("id")?.as_str()?.to_owned();
            let upstream = value
                .get("upstream")
                .and_then(serde_yaml::Value::as_sequence)
                .map(|ids| ids.iter().filter_map(|id| id.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let variants = value
                .get("variants")
                .and_then(serde_yaml::Value::as_mapping)
                .map(|variants| variants.keys().filter_map(|name| name.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            Some(DocumentSummary { id, scheduled: value.get("schedule").is_some(), upstream, variants })
        })
        .collect()
}

/// Checks a task id: non-empty, only `a-z`, `0-9`, `_`, `.` and `-`.
pub fn validate_id(id: &str) -> Result<(), String> {
    validate_name("task id", "`domain.action`, for example `order.timeout_close`", id)
}

/// Checks a resource name (`resources: [db]`, `#[warmup("db")]`): the characters of a task id.
pub fn validate_resource(name: &str) -> Result<(), String> {
    validate_name("resource name", "a short name such as `db` or `payments_api`", name)
}

/// Checks a variant name (`variants: { v2: 10 }`, `#[task("id", variant = "v2")]`): the
/// characters of a task id.
pub fn validate_variant(name: &str) -> Result<(), String> {
    validate_name("variant name", "a short name such as `v2` or `fast_query`", name)
}

fn validate_name(what: &str, example: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("{what} is empty; use {example}"));
    }
    let allowed = |c: char| matches!(c, 'a'..='z' | '0'..='9' | '_' | '.' | '-');
    match name.chars().find(|&c| !allowed(c)) {
        Some(bad) => {
            let bad = if bad.is_whitespace() { "a space".to_owned() } else { format!("`{bad}`") };
            let rules = format!("{what}s use only lowercase letters, digits, `_`, `.` and `-`");
            let lower = name.to_lowercase();
            if lower.chars().all(allowed) {
                Err(format!("{what} `{name}` contains {bad}; {rules}; did you mean `{lower}`?"))
            } else {
                Err(format!("{what} `{name}` contains {bad}; {rules}; use {example}"))
            }
        }
        None => Ok(()),
    }
}

/// Parses a duration as the YAML fields read it: `30s`, `500ms`, `1h 30m`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime_serde::re::humantime::parse_duration(text).map_err(|error| {
        format!("`{text}` is not a duration ({error}); write a number and a unit, such as `30s`, `500ms` or `1h 30m`")
    })
}

/// Upper bounds that keep one line of YAML from reserving gigabytes or spawning a million tasks.
const MAX_WORKERS: u32 = 4096;
const MAX_CAPACITY: u32 = 1 << 20;
const MAX_ATTEMPTS: u32 = 1000;

/// The rules the schema's types cannot express, as `(field, message)` pairs.
fn check(meta: &TaskMeta) -> Result<(), Vec<(Option<&'static str>, String)>> {
    let mut problems = Vec::new();
    if let Err(message) = validate_id(&meta.id) {
        problems.push((Some("id"), message));
    }
    let workers = &meta.workers;
    if workers.max() == 0 {
        problems.push((Some("workers.max"), "must be at least 1, or no task could ever run".into()));
    } else if workers.min > workers.max() {
        problems.push((
            Some("workers.min"),
            format!("`min` ({}) is greater than `max` ({}); raise `max` or lower `min`", workers.min, workers.max()),
        ));
    }
    if workers.max() > MAX_WORKERS {
        problems.push((Some("workers.max"), format!("must be at most {MAX_WORKERS}")));
    }
    if meta.queue.capacity == 0 {
        problems.push((Some("queue.capacity"), "must be at least 1".into()));
    } else if meta.queue.capacity > MAX_CAPACITY {
        // The in-memory queue allocates every slot up front.
        problems.push((Some("queue.capacity"), format!("must be at most {MAX_CAPACITY}")));
    }
    if meta.retry.max_attempts == 0 {
        problems.push((Some("retry.max_attempts"), "must be at least 1 (the first attempt counts)".into()));
    } else if meta.retry.max_attempts > MAX_ATTEMPTS {
        problems.push((Some("retry.max_attempts"), format!("must be at most {MAX_ATTEMPTS}")));
    }
    if meta.retry.backoff.base > meta.retry.backoff.max {
        problems.push((Some("retry.backoff.base"), "is greater than `retry.backoff.max`".into()));
    }
    if meta.timeout.is_zero() {
        problems.push((Some("timeout"), "must be greater than zero".into()));
    }
    if let Some(schedule) = &meta.schedule {
        check_schedule(schedule, &mut problems);
    }
    for name in meta.resources.iter() {
        if let Err(message) = validate_resource(name) {
            problems.push((Some("resources"), message));
        }
    }
    for variant in meta.variants.iter() {
        if let Err(message) = validate_variant(&variant.name) {
            problems.push((Some("variants"), message));
        }
    }
    crate::variants::check(&meta.variants, &mut problems);
    if meta.upstream.contains(&meta.id) {
        problems.push((Some("upstream"), "a task cannot follow itself".into()));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

fn check_schedule(schedule: &crate::Schedule, problems: &mut Vec<(Option<&'static str>, String)>) {
    match (&schedule.every, &schedule.cron) {
        (None, None) => problems.push((Some("schedule"), "needs `every: 2s` or `cron: \"0 0 10 * * *\"`".into())),
        (Some(_), Some(_)) => problems.push((Some("schedule"), "has both `every` and `cron`; keep one".into())),
        (Some(every), None) => {
            if every.is_zero() {
                problems.push((Some("schedule.every"), "must be greater than zero".into()));
            } else if schedule.jitter >= *every {
                problems.push((Some("schedule.jitter"), "must be shorter than `every`, or ticks would reorder".into()));
            }
            if schedule.tz.is_some() {
                problems.push((Some("schedule.tz"), "applies to `cron` only; an `every` grid has no time zone".into()));
            }
        }
        (None, Some(_)) => {
            if let Some(Err(message)) = schedule.cron_schedule() {
                let field = if message.starts_with("unknown time zone") { "schedule.tz" } else { "schedule.cron" };
                problems.push((Some(field), message));
            }
            if !schedule.initial_delay.is_zero() {
                problems
                    .push((Some("schedule.initial_delay"), "applies to `every` only; cron times are absolute".into()));
            }
        }
    }
    if schedule.catch_up_max == 0 {
        problems.push((Some("schedule.catch_up_max"), "must be at least 1".into()));
    }
}

fn yaml_error(file: &str, text: &str, index: usize, error: &serde_yaml::Error) -> MetaError {
    let location = error.location().map(|l| (l.line(), l.column()));
    // serde_yaml prefixes the message with the field path (`workers.min: invalid type ...`).
    let message = error.to_string();
    let (field, message) = match message.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => (Some(path.to_owned()), rest.to_owned()),
        _ => (None, message),
    };
    // The message repeats `location` as " at line L column C"; a second position in it (where
    // an unclosed bracket opened, say) is the useful one, so keep that.
    let message = match location {
        Some((line, column)) => message.replacen(&format!(" at line {line} column {column}"), "", 1).replacen(
            " at line ",
            " that starts at line ",
            1,
        ),
        None => message,
    };
    let message = if message.ends_with("expected a duration") {
        format!("{message}; write a number and a unit, such as `30s`, `500ms` or `1h 30m`")
    } else {
        message
    };
    let message = match suggestion(&message) {
        Some(closest) => format!("{message}; did you mean `{closest}`?"),
        None => message,
    };
    MetaError { file: file.to_owned(), location, task: document_id(text, index), field, message }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" and "unknown variant" messages,
/// the expected name closest to the unknown one, if it is close enough to be a typo.
fn suggestion(message: &str) -> Option<&str> {
    if !message.starts_with("unknown field") && !message.starts_with("unknown variant") {
        return None;
    }
    let mut names = message.split('`').skip(1).step_by(2);
    let unknown = names.next()?;
    crate::closest(unknown, names)
}

/// The `id` of the `index`-th document, read leniently, to name the task in an error.
fn document_id(text: &str, index: usize) -> Option<String> {
    let document = serde_yaml::Deserializer::from_str(text).nth(index)?;
    let value = serde_yaml::Value::deserialize(document).ok()?;
    value.get("id")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{OnFull, Warmup};

    fn one_error(text: &str) -> MetaError {
        let mut errors = parse_file("meta/t.yaml", text).expect_err("document should be rejected");
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.remove(0)
    }

    #[test]
    fn full_document_parses() {
        let text = "id: order.timeout_close\ndescription: Close\ntimeout: 5s\n\
            retry: { max_attempts: 5, backoff: { base: 250ms, max: 1m }, jitter: false }\n\
            workers: { min: 4, max: 16, idle: 2m }\nqueue: { capacity: 8, on_full: reject }\n\
            warmup: lazy\nupstream: [order.created]\n";
        let meta = &parse_file("f", text).unwrap()[0];
        assert_eq!(meta.timeout, Duration::from_secs(5));
        assert_eq!(meta.retry.max_attempts, 5);
        assert_eq!(meta.retry.backoff.base, Duration::from_millis(250));
        assert_eq!(meta.retry.backoff.max, Duration::from_secs(60));
        assert!(!meta.retry.jitter);
        assert_eq!((meta.workers.min, meta.workers.max(), meta.workers.idle), (4, 16, Duration::from_secs(120)));
        assert_eq!((meta.queue.capacity, meta.queue.on_full), (8, OnFull::Reject));
        assert_eq!(meta.warmup, Warmup::Lazy);
        assert_eq!(meta.upstream.as_ref(), ["order.created"]);
    }

    #[test]
    fn defaults_apply() {
        let meta = &parse_file("f", "id: a.b").unwrap()[0];
        assert_eq!(*meta, TaskMeta::new("a.b"));
        assert_eq!(meta.workers.max(), 4);
        let big = &parse_file("f", "id: a.b\nworkers: { min: 9 }").unwrap()[0];
        assert_eq!(big.workers.max(), 9);
    }

    #[test]
    fn several_documents_per_file() {
        let metas = parse_file("f", "id: a.one\n---\nid: a.two\n").unwrap();
        assert_eq!(metas.iter().map(|m| m.id.as_ref()).collect::<Vec<_>>(), ["a.one", "a.two"]);
    }

    #[test]
    fn unknown_field_names_task_field_and_line() {
        let error = one_error("id: a.b\nworkers: { min: 1, mx: 3 }\n");
        assert_eq!(error.task.as_deref(), Some("a.b"));
        assert_eq!(error.field.as_deref(), Some("workers"));
        assert_eq!(error.location.map(|l| l.0), Some(2));
        assert!(error.message.contains("unknown field `mx`"), "{error}");
        assert!(error.message.ends_with("; did you mean `max`?"), "{error}");
    }

    #[test]
    fn misspelt_values_get_a_suggestion() {
        let error = one_error("id: a.b\nqueue: { on_full: rejct }\n");
        assert!(error.message.starts_with("unknown variant `rejct`"), "{error}");
        assert!(error.message.ends_with("did you mean `reject`?"), "{error}");
        let far = one_error("id: a.b\nzzzzzz: 1\n");
        assert!(!far.message.contains("did you mean"), "{far}");
    }

    #[test]
    fn bad_duration_is_located() {
        let error = one_error("id: a.b\ntimeout: 5 parsecs\n");
        assert_eq!(error.field.as_deref(), Some("timeout"));
        assert_eq!(error.location.map(|l| l.0), Some(2));
    }

    #[test]
    fn semantic_rules_report_every_problem() {
        let errors =
            parse_file("f", "id: a.b\nworkers: { min: 5, max: 2 }\nqueue: { capacity: 0 }\nretry: { max_attempts: 0 }")
                .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_deref().unwrap_or("")).collect();
        assert_eq!(fields, ["workers.min", "queue.capacity", "retry.max_attempts"]);
        assert_eq!(
            errors[0].to_string(),
            "f:2:17: task `a.b`: field `workers.min`: `min` (5) is greater than `max` (2); raise `max` or lower `min`"
        );
    }

    #[test]
    fn values_have_upper_bounds() {
        let errors = parse_file(
            "f",
            "id: a.b\nworkers: { max: 100000 }\nqueue: { capacity: 4000000000 }\nretry: { max_attempts: 99999 }",
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_deref().unwrap_or("")).collect();
        assert_eq!(fields, ["workers.max", "queue.capacity", "retry.max_attempts"]);
    }

    #[test]
    fn variants_keep_their_order_and_weights() {
        let docs = parse_file("meta/t.yaml", "id: a.b\nvariants: { v2: 10, v1: 90 }").unwrap();
        let variants: Vec<_> = docs[0].variants.iter().map(|v| (v.name.as_ref(), v.weight)).collect();
        assert_eq!(variants, [("v2", 10), ("v1", 90)]);
        assert_eq!(docs[0].first_variant(), Some("v2"));
        assert_eq!(summarize("id: a.b\nvariants: { v2: 10, v1: 90 }")[0].variants, ["v2", "v1"]);
        assert_eq!(parse_file("f", "id: a.b").unwrap()[0].first_variant(), None);
    }

    #[test]
    fn a_weight_that_is_not_a_number_names_the_variant() {
        let error = one_error("id: a.b\nvariants: { v1: ninety, v2: 10 }");
        assert_eq!(error.field.as_deref(), Some("variants.v1"));
        assert!(error.message.contains("expected a weight: a whole number from 0 to 1000000"), "{}", error.message);
        for text in ["id: a.b\nvariants: { v1: -1, v2: 1 }", "id: a.b\nvariants: { v1: 0.5, v2: 1 }"] {
            assert_eq!(one_error(text).field.as_deref(), Some("variants.v1"), "{text}");
        }
        assert!(one_error("id: a.b\nvariants: [v1, v2]").message.contains("a map of variant names to weights"));
    }

    #[test]
    fn variants_need_two_names_and_some_traffic() {
        let message = |text| one_error(text).message;
        assert!(message("id: a.b\nvariants: { v1: 1 }").starts_with("lists one variant"));
        assert!(message("id: a.b\nvariants: { v1: 0, v2: 0 }").starts_with("every weight is 0"));
        assert!(message("id: a.b\nvariants: { V1: 1, v2: 1 }").starts_with("variant name `V1` contains `V`"));
        let twice = message("id: a.b\nvariants: { v1: 1, v1: 2 }");
        assert!(twice.contains("duplicate entry") || twice.contains("listed twice"), "{twice}");
    }

    #[test]
    fn resources_are_names() {
        let docs = parse_file("meta/t.yaml", "id: a.b\nresources: [db, payments_api]").unwrap();
        assert_eq!(docs[0].resources.as_ref(), ["db", "payments_api"]);
        let error = one_error("id: a.b\nresources: [db, Payments API]");
        assert_eq!(error.field.as_deref(), Some("resources"));
        assert!(error.message.starts_with("resource name `Payments API` contains `P`"), "{}", error.message);
    }

    #[test]
    fn schedules_parse_and_are_checked() {
        let every = &parse_file("f", "id: a.b\nschedule: { every: 2s, jitter: 100ms, overlap: queue }").unwrap()[0];
        let schedule = every.schedule.as_ref().unwrap();
        assert_eq!((schedule.every, schedule.overlap), (Some(Duration::from_secs(2)), crate::Overlap::Queue));
        let cron =
            &parse_file("f", "id: a.b\nschedule: { cron: \"0 0 10 * * *\", tz: Asia/Shanghai, missed: catch_up }")
                .unwrap()[0];
        assert!(cron.schedule.as_ref().unwrap().cron_schedule().unwrap().is_ok());

        let field = |text: &str| one_error(text).field.unwrap_or_default();
        assert_eq!(field("id: a.b\nschedule: { overlap: skip }"), "schedule");
        assert_eq!(field("id: a.b\nschedule: { every: 1s, cron: \"* * * * * *\" }"), "schedule");
        assert_eq!(field("id: a.b\nschedule: { cron: \"0 0 25 * * *\" }"), "schedule.cron");
        // The standard 5-field form runs at second 0; its numeric weekdays are refused, not misread.
        let five = &parse_file("f", "id: a.b\nschedule: { cron: \"30 10 * * Mon-Fri\" }").unwrap()[0];
        let (cron, _) = five.schedule.as_ref().unwrap().cron_schedule().unwrap().unwrap();
        assert_eq!(cron.source(), "0 30 10 * * Mon-Fri");
        let numeric = one_error("id: a.b\nschedule: { cron: \"30 10 * * 1-5\" }").to_string();
        assert!(numeric.contains("numeric weekday `1-5`") && numeric.contains("`Mon-Fri`"), "{numeric}");
        let six = one_error("id: a.b\nschedule: { cron: \"0 0 25 * * *\" }").to_string();
        assert!(six.contains("the first of the 6 fields is seconds"), "{six}");
        assert_eq!(field("id: a.b\nschedule: { every: 1s, jitter: 2s }"), "schedule.jitter");
        let tz = one_error("id: a.b\nschedule: { cron: \"0 0 10 * * *\", tz: Asia/Shanghia }");
        assert_eq!(tz.field.as_deref(), Some("schedule.tz"));
        assert!(tz.message.ends_with("did you mean `Asia/Shanghai`?"), "{tz}");
        assert!(one_error("id: a.b\nschedule: { every: 1s, overlap: sometimes }").message.contains("unknown variant"));
    }

    #[test]
    fn bad_ids_are_rejected() {
        assert!(validate_id("order.timeout_close").is_ok());
        assert!(validate_id("").is_err());
        assert!(validate_id("Order.Close").unwrap_err().contains("`O`"));
        assert_eq!(one_error("id: a b").field.as_deref(), Some("id"));
    }

    #[test]
    fn invalid_yaml_is_located() {
        let error = one_error("id: a.b\nupstream: [a.c\nworkers: { min: 1 }\n");
        assert!(error.location.is_some(), "{error}");
        assert!(error.message.contains("that starts at line 2 column 11"), "{error}");
    }

    #[test]
    fn an_empty_trailing_document_is_ignored() {
        assert_eq!(parse_file("f", "id: a.b\n---\n").unwrap().len(), 1);
    }
}
