//! A resource whose warm-up fails for good: `start` fails by default; warming in the background,
//! the runtime stays not ready, says why, and the tasks that need the resource fail without
//! losing their input. And a start whose HTTP address is taken fails the same clean way.

#![cfg(feature = "http")]

use preheat::{Runtime, StartError, TaskError, task, warmup};

preheat::metadata!("tests/meta/warmup_failure");

/// The payments API refuses every connection.
#[warmup("payments", timeout = "5s", max_attempts = 2)]
async fn payments() -> Result<(), std::io::Error> {
    Err(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "payments API refused the connection"))
}

#[task("payment.notify", metadata = "tests/meta/warmup_failure")]
async fn notify(order_id: u64) -> Result<(), String> {
    Err(format!("order {order_id}: unreachable, `payments` never warmed"))
}

const REASON: &str = "resource `payments` failed to warm after 2 attempt(s): payments API refused the connection";

#[tokio::test]
async fn by_default_start_fails_and_names_the_resource() {
    let error = Runtime::builder().start().await.expect_err("`payments` cannot warm");
    assert!(matches!(error, StartError::Warmup { resource: "payments", attempts: 2, .. }), "{error:?}");
    assert_eq!(error.to_string(), REASON);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warming_in_the_background_stays_not_ready_and_says_why() {
    let rt = Runtime::builder()
        .warm_in_background()
        .http_addr("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .expect("starts without waiting for `payments`");
    let error = rt.ready().await.expect_err("`payments` cannot warm");
    assert_eq!(error.to_string(), REASON);
    assert_eq!(rt.lifecycle(), preheat::Lifecycle::Warming);

    let addr = rt.http_addr().unwrap();
    let response = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["reason"], REASON);
    assert_eq!(body["resources"][0]["state"], "failed");

    // The task fails at once (no retries: they could not help), and is kept with its input.
    let outcome = rt.submit(notify, 42).await.unwrap().await;
    match outcome {
        Err(TaskError::ResourceFailed { resource: "payments", error }) => {
            assert_eq!(error, "payments API refused the connection");
        }
        other => panic!("expected ResourceFailed, got {other:?}"),
    }
    let dead = rt.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].input::<notify>(), Some(&42));
    assert_eq!(rt.stats("payment.notify").unwrap().retried, 0);
    rt.shutdown().await.expect("nothing left running");
}

#[tokio::test]
async fn an_address_in_use_fails_start_and_names_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let error = Runtime::builder().warm_in_background().http_addr(addr).start().await.expect_err("the port is taken");
    assert!(matches!(&error, StartError::Http { addr: at, .. } if *at == addr), "{error:?}");
    assert!(error.to_string().starts_with(&format!("cannot serve HTTP on {addr}: ")), "{error}");
}
