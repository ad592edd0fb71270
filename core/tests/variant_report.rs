//! Variants compared side by side: the report, `/metrics` and `/variants` against latencies
//! known in advance, in paused time.

use std::time::Duration;

use preheat::{Route, Runtime, task};

preheat::metadata!("tests/meta/variant_report");

/// v1 takes 10 ms and always succeeds.
#[task("parcel.weigh", metadata = "tests/meta/variant_report")]
async fn weigh(parcel: u64) -> Result<u64, String> {
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(parcel)
}

/// v2 takes 30 ms and fails on odd parcels.
#[task("parcel.weigh", metadata = "tests/meta/variant_report", variant = "v2")]
async fn weigh_v2(parcel: u64) -> Result<u64, String> {
    tokio::time::sleep(Duration::from_millis(30)).await;
    if parcel % 2 == 1 { Err(format!("parcel {parcel} fell off the scale")) } else { Ok(parcel) }
}

#[task("plain.task", metadata = "tests/meta/variant_report")]
async fn plain() -> Result<(), String> {
    Ok(())
}

/// Within HDR's two significant digits, and the timer's millisecond.
fn close_to(measured: f64, expected_ms: f64) -> bool {
    (measured - expected_ms).abs() <= expected_ms * 0.01 + 1.0
}

/// Submits `parcels` at once to the variant `colour`, whose one worker runs them in turn.
async fn weigh_all(rt: &Runtime, colour: &str, parcels: std::ops::Range<u64>) {
    let mut completions = Vec::new();
    for parcel in parcels {
        completions.push(Route::new().colour(colour).scope(rt.submit(weigh, parcel)).await.expect("submitted"));
    }
    for completion in completions {
        let _ = completion.await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_report_and_the_metrics_give_each_variant_its_own_latencies_and_failures() {
    let rt = Runtime::builder().http_addr("127.0.0.1:0".parse().expect("an address")).start().await.expect("starts");
    // Four at once on v1: they wait 0, 10, 20 and 30 ms for its one worker and run 10 ms each.
    weigh_all(&rt, "v1", 0..4).await;
    // Four at once on v2: they wait 0, 30, 60 and 90 ms, run 30 ms each, and two fail.
    weigh_all(&rt, "v2", 0..4).await;
    rt.submit(plain, ()).await.expect("submitted").await.expect("ran");

    let report = rt.variants();
    assert_eq!(report.tasks.len(), 1, "only tasks with variants: {report:?}");
    let task = &report.tasks[0];
    assert_eq!(task.task, "parcel.weigh");
    let [v1, v2] = &task.variants[..] else { panic!("two variants: {task:?}") };
    assert_eq!((v1.name, v1.weight, v1.count, v1.failed), ("v1", 50, 4, 0));
    assert_eq!((v2.name, v2.weight, v2.count, v2.failed), ("v2", 50, 4, 2));
    assert_eq!(v2.failure_rate, 0.5);
    for (figure, expected) in [
        (v1.run_ms.p50, 10.0),
        (v1.run_ms.p99, 10.0),
        (v2.run_ms.p50, 30.0),
        (v2.run_ms.p99, 30.0),
        (v1.wait_ms.p50, 10.0),
        (v1.wait_ms.p99, 30.0),
        (v2.wait_ms.p50, 30.0),
        (v2.wait_ms.p95, 90.0),
    ] {
        assert!(close_to(figure, expected), "{figure} ms, expected {expected} ms: {report:?}");
    }
    let difference = v2.against_first.expect("v2 is compared with v1");
    assert!(close_to(difference.run_ms.p50, 20.0), "{difference:?}");
    assert_eq!(difference.failure_rate, 0.5);
    let table = report.to_string();
    assert!(
        table.contains("parcel.weigh") && table.lines().any(|line| line.trim_start().starts_with("v2 ")),
        "{table}"
    );

    // `/metrics`: a series per variant, with the same counts and run times.
    let text = rt.render_metrics().expect("metrics render");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("parses");
    let sample = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        scrape.samples.iter().find_map(|sample| {
            let matches =
                sample.metric == name && labels.iter().all(|(key, value)| sample.labels.get(key) == Some(*value));
            match (&sample.value, matches) {
                (
                    prometheus_parse::Value::Counter(value)
                    | prometheus_parse::Value::Gauge(value)
                    | prometheus_parse::Value::Untyped(value),
                    true,
                ) => Some(*value),
                (prometheus_parse::Value::Histogram(buckets), true) => {
                    buckets.iter().map(|bucket| bucket.count).reduce(f64::max)
                }
                _ => None,
            }
        })
    };
    let parcel = ("task", "parcel.weigh");
    assert_eq!(sample("task_submitted_total", &[parcel, ("variant", "v1")]), Some(4.0), "{text}");
    assert_eq!(sample("task_submitted_total", &[parcel, ("variant", "v2")]), Some(4.0), "{text}");
    assert_eq!(sample("task_dead_lettered_total", &[parcel, ("variant", "v2")]), Some(2.0), "{text}");
    assert_eq!(sample("task_dead_lettered_total", &[parcel, ("variant", "v1")]), Some(0.0), "{text}");
    assert_eq!(sample("task_submitted_total", &[("task", "plain.task"), ("variant", "")]), Some(1.0), "{text}");
    let outcome = |variant, outcome| [parcel, ("variant", variant), ("outcome", outcome)];
    assert_eq!(sample("task_duration_seconds", &outcome("v1", "ok")), Some(4.0), "{text}");
    assert_eq!(sample("task_duration_seconds", &outcome("v2", "ok")), Some(2.0), "{text}");
    assert_eq!(sample("task_duration_seconds", &outcome("v2", "failed")), Some(2.0), "{text}");
    // The run times, in paused time: 4 × 10 ms on v1, 2 × 30 ms of failures on v2.
    let sum = |variant: &str, outcome: &str| {
        let line =
            format!("task_duration_seconds_sum{{task=\"parcel.weigh\",variant=\"{variant}\",outcome=\"{outcome}\"}}");
        text.lines().find_map(|found| found.strip_prefix(&line)).and_then(|value| value.trim().parse::<f64>().ok())
    };
    assert!(sum("v1", "ok").is_some_and(|seconds| (seconds - 0.040).abs() < 0.005), "{text}");
    assert!(sum("v2", "failed").is_some_and(|seconds| (seconds - 0.060).abs() < 0.005), "{text}");

    // `/variants` serves the same report; `PUT /variants/{task}` changes the weights.
    let base = format!("http://{}", rt.http_addr().expect("serving"));
    let body = reqwest::get(format!("{base}/variants")).await.expect("answers").text().await.expect("a body");
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(json["tasks"][0]["variants"][1]["failed"], 2, "{body}");
    assert_eq!(json["tasks"][0]["variants"][1]["name"], "v2", "{body}");
    let client = reqwest::Client::new();
    let put = |task: &str, body: &'static str| {
        client.put(format!("{base}/variants/{task}")).header("content-type", "application/json").body(body).send()
    };
    let changed = put("parcel.weigh", r#"{"v2": 0}"#).await.expect("answers");
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.text().await.expect("a body"), r#"[{"variant":"v1","weight":50},{"variant":"v2","weight":0}]"#);
    assert_eq!(rt.weights("parcel.weigh").expect("weights"), [("v1", 50), ("v2", 0)]);
    let unknown = put("parcel.weigh", r#"{"v3": 1}"#).await.expect("answers");
    assert_eq!(unknown.status(), 422);
    assert_eq!(
        unknown.text().await.expect("a body"),
        "task `parcel.weigh` has no variant `v3`; its variants are `v1`, `v2`\n"
    );
    assert_eq!(put("no.such", r#"{"v1": 1}"#).await.expect("answers").status(), 404);
    assert_eq!(rt.weights("parcel.weigh").expect("unchanged by refusals"), [("v1", 50), ("v2", 0)]);
    rt.shutdown().await.expect("clean shutdown");
}
