//! Resource warm-up in the background, readiness, and the HTTP endpoints over real loopback HTTP.
//!
//! One test: every runtime started in this binary runs the warmers below, so the whole story is
//! told in order by a single runtime.

#![cfg(feature = "http")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use preheat::{Lifecycle, Runtime, task, warmup};
use tokio::sync::Semaphore;

preheat::metadata!("tests/meta/warmup");

/// Attempts of the `db` warmer so far.
static DB_ATTEMPTS: AtomicU32 = AtomicU32::new(0);
/// The test lets the `db` warmer finish by adding a permit.
static DB_REACHABLE: Semaphore = Semaphore::const_new(0);
static NIGHTLY_RAN: AtomicBool = AtomicBool::new(false);
/// The test lets the `search` warmer finish by adding a permit.
static SEARCH_REACHABLE: Semaphore = Semaphore::const_new(0);

/// Refuses its first attempt, as a database that is still starting would, then connects once
/// the test says the database is reachable.
#[warmup("db", timeout = "60s", max_attempts = 3)]
async fn db() -> Result<(), String> {
    if DB_ATTEMPTS.fetch_add(1, Ordering::SeqCst) == 0 {
        return Err("connection refused".to_owned());
    }
    DB_REACHABLE.acquire().await.map(|permit| permit.forget()).map_err(|error| error.to_string())
}

/// A second resource, so that readiness has to wait for every warmer, not the first to finish.
#[warmup("search")]
async fn search() -> Result<(), String> {
    SEARCH_REACHABLE.acquire().await.map(|permit| permit.forget()).map_err(|error| error.to_string())
}

#[task("report.nightly", metadata = "tests/meta/warmup")]
async fn nightly() -> Result<(), String> {
    NIGHTLY_RAN.store(true, Ordering::SeqCst);
    Ok(())
}

#[task("report.ping", metadata = "tests/meta/warmup")]
async fn ping() -> Result<(), String> {
    Ok(())
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{addr}{path}")).await.expect("the endpoints answer");
    (response.status().as_u16(), response.text().await.expect("a text body"))
}

/// `/metrics`, parsed as Prometheus text: each sample's value by `name{label=value,...}`, labels
/// sorted.
async fn metrics(addr: SocketAddr) -> HashMap<String, f64> {
    let (status, text) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    let scrape =
        prometheus_parse::Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("Prometheus text format");
    scrape
        .samples
        .into_iter()
        .map(|sample| {
            let mut labels: Vec<String> = sample.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            labels.sort();
            let value = match sample.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                prometheus_parse::Value::Histogram(buckets) => buckets.last().map_or(0.0, |bucket| bucket.count),
                prometheus_parse::Value::Summary(_) => f64::NAN,
            };
            (format!("{}{{{}}}", sample.metric, labels.join(",")), value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_waits_for_warm_resources_and_the_endpoints_say_so() {
    let rt = Runtime::builder()
        .warm_in_background()
        .http_addr("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .expect("starts without waiting for `db`");
    let addr = rt.http_addr().expect("the endpoints listen");

    // Warming: live, not ready, and `/readyz` says what it waits for.
    assert_eq!(rt.lifecycle(), Lifecycle::Warming);
    assert_eq!(get(addr, "/livez").await.0, 200);
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["ready"], false);
    assert_eq!(body["reason"], "warming: db, search");
    let phases: Vec<&str> = body["phases"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    // `jobs`: the runtime's own no-op job through every eager pool, before `start` returns.
    assert_eq!(phases, ["registry", "pools", "timers", "jobs"]);

    // A task that needs `db` waits for it instead of failing; one that needs nothing runs.
    let nightly_done = rt.submit(nightly, ()).await.unwrap();
    rt.submit(ping, ()).await.unwrap().await.expect("ping needs no resource");
    assert!(!NIGHTLY_RAN.load(Ordering::SeqCst), "`report.nightly` ran before `db` was warm");
    assert_eq!(rt.lifecycle(), Lifecycle::Warming);

    DB_REACHABLE.add_permits(1);
    nightly_done.await.expect("`report.nightly` ran once `db` was warm");
    // `db` is warm, `search` is not: still not ready.
    assert_eq!(rt.lifecycle(), Lifecycle::Warming);
    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(r#""reason":"warming: search""#), "{body}");

    SEARCH_REACHABLE.add_permits(1);
    rt.ready().await.expect("every resource warms");
    assert_eq!(rt.lifecycle(), Lifecycle::Ready);
    assert_eq!(DB_ATTEMPTS.load(Ordering::SeqCst), 2);

    let (status, body) = get(addr, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["ready"], true);
    assert_eq!(body["state"], "ready");
    assert_eq!(body["resources"][0]["name"], "db");
    assert_eq!(body["resources"][0]["state"], "warm");
    assert_eq!(body["resources"][0]["attempts"], 2);
    assert_eq!(body["resources"][1]["name"], "search");
    assert_eq!(body["resources"][1]["state"], "warm");
    let phases: Vec<&str> = body["phases"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(&phases[4..], ["warmup:db", "warmup:search"]);

    // The counters move as tasks run.
    let before = metrics(addr).await;
    assert_eq!(before[r#"task_submitted_total{task=report.nightly,variant=}"#], 1.0);
    assert_eq!(before[r#"task_duration_seconds_count{outcome=ok,task=report.nightly,variant=}"#], 1.0);
    assert!(before.contains_key(r#"task_init_duration_seconds{phase=warmup:db}"#));
    assert!(before[r#"process_resident_memory_bytes{}"#] > 0.0);
    rt.submit(nightly, ()).await.unwrap().await.unwrap();
    let after = metrics(addr).await;
    assert_eq!(after[r#"task_submitted_total{task=report.nightly,variant=}"#], 2.0);
    assert_eq!(after[r#"task_duration_seconds_count{outcome=ok,task=report.nightly,variant=}"#], 2.0);
    assert_eq!(after[r#"task_queue_depth{task=report.nightly,variant=}"#], 0.0);
    assert_eq!(after[r#"task_dead_lettered_total{task=report.nightly,variant=}"#], 0.0);

    // `/tasks`: the registry with each pool.
    let (status, body) = get(addr, "/tasks").await;
    assert_eq!(status, 200);
    let tasks: serde_json::Value = serde_json::from_str(&body).unwrap();
    let listed = tasks.as_array().unwrap().iter().find(|task| task["id"] == "report.nightly").unwrap();
    assert_eq!(listed["meta"]["resources"][0], "db");
    assert_eq!(listed["pool"]["submitted"], 2);

    rt.shutdown().await.expect("nothing left");
    assert_eq!(rt.lifecycle(), Lifecycle::Stopped);
    assert!(reqwest::get(format!("http://{addr}/livez")).await.is_err(), "the endpoints stop with the runtime");
}
