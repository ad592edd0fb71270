//! The `profiling` feature's endpoints, over real loopback HTTP: `/debug/tasks` counts a task's
//! polls, `/debug/pprof/profile` answers a flamegraph.
//!
//! Run with `cargo test -p preheat --features profiling --test profiling` (`.ci/run` does).

#![cfg(feature = "profiling")]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use preheat::{Runtime, task};

preheat::metadata!("tests/meta/profiling");

#[task("prof.work", metadata = "tests/meta/profiling")]
async fn work(rounds: u32) -> Result<u64, String> {
    let mut sum = 0u64;
    for round in 0..rounds {
        sum = sum.wrapping_add(u64::from(round).wrapping_mul(31));
        // A poll boundary, so that the task is polled more than once.
        tokio::task::yield_now().await;
    }
    Ok(sum)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_endpoints_report_polls_and_profiles() {
    let rt = Runtime::builder().http_addr("127.0.0.1:0".parse().unwrap()).start().await.unwrap();
    let base = format!("http://{}", rt.http_addr().unwrap());
    rt.submit(work, 3).await.unwrap().await.unwrap();

    let body = reqwest::get(format!("{base}/debug/tasks")).await.unwrap().text().await.unwrap();
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["tasks"]["prof.work"]["polls"], 4, "three yields and the last poll: {body}");
    assert!(report["locks"].is_array(), "{body}");

    let bad = reqwest::get(format!("{base}/debug/pprof/profile?seconds=0")).await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);

    // A profile samples CPU time: burn some while it runs, so that it has stacks to draw.
    let profiling = Arc::new(AtomicBool::new(true));
    let burner = tokio::task::spawn_blocking({
        let profiling = profiling.clone();
        move || {
            let mut x = 0u64;
            while profiling.load(Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
    });
    let response = reqwest::get(format!("{base}/debug/pprof/profile?seconds=1")).await.unwrap();
    profiling.store(false, Ordering::Relaxed);
    burner.await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    let svg = response.text().await.unwrap();
    assert!(svg.contains("<svg"), "not an SVG: {}", &svg[..svg.len().min(200)]);

    rt.shutdown().await.unwrap();
}
