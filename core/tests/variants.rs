//! Variants of a task: routing by weight, key and colour, weights changed at run time, and
//! flows that keep to their colour.

use preheat::{Ctx, Route, Runtime, WeightsError, task};

preheat::metadata!("tests/meta/variants");

#[task("stock.reserve", metadata = "tests/meta/variants")]
async fn reserve(order: u64) -> Result<String, String> {
    let _ = order;
    Ok("v1".into())
}

#[task("stock.reserve", metadata = "tests/meta/variants", variant = "v2")]
async fn reserve_v2(order: u64) -> Result<String, String> {
    let _ = order;
    Ok("v2".into())
}

#[task("order.place", metadata = "tests/meta/variants")]
async fn place(order: u64) -> Result<u64, String> {
    Ok(order)
}

#[task("stock.count", metadata = "tests/meta/variants")]
async fn count(ctx: Ctx, order: u64) -> Result<String, String> {
    let _ = (ctx, order);
    Ok("old".into())
}

#[task("stock.count", metadata = "tests/meta/variants", variant = "new")]
async fn count_new(order: u64) -> Result<String, String> {
    let _ = order;
    Ok("new".into())
}

#[task("plain.task", metadata = "tests/meta/variants")]
async fn plain() -> Result<(), String> {
    Ok(())
}

async fn start() -> Runtime {
    Runtime::builder().start().await.expect("runtime starts")
}

/// Which variant of `stock.reserve` the submit of `order` in `route` ran.
async fn ran(rt: &Runtime, route: Route, order: u64) -> String {
    let completion = route.scope(rt.submit(reserve, order)).await.expect("submitted");
    completion.await.expect("reserved")
}

#[tokio::test]
async fn keyed_traffic_splits_by_weight_and_each_key_keeps_its_variant() {
    let rt = start().await;
    let mut first = Vec::with_capacity(10_000);
    for order in 0..10_000_u64 {
        first.push(ran(&rt, Route::new().key(order), order).await);
    }
    let v2 = first.iter().filter(|variant| *variant == "v2").count();
    assert!((900..=1100).contains(&v2), "{v2} of 10,000 keyed submits took v2 at 90/10");
    for order in (0..10_000_u64).step_by(97) {
        assert_eq!(ran(&rt, Route::new().key(order), order).await, first[order as usize], "order {order}");
    }
    // Without a key the split is random, by weight.
    let mut unkeyed = 0;
    for order in 0..10_000_u64 {
        unkeyed += usize::from(ran(&rt, Route::new(), order).await == "v2");
    }
    assert!((800..=1200).contains(&unkeyed), "{unkeyed} of 10,000 unkeyed submits took v2");
    let again = (0..10_000).step_by(97).filter(|&order| first[order] == "v2").count();
    let on_v2 = rt.variant_stats("stock.reserve", "v2").expect("v2 has a pool").submitted;
    assert_eq!(on_v2, (v2 + again + unkeyed) as u64, "the v2 pool ran exactly the jobs routed to it");
    rt.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn coloured_traffic_takes_its_variant_whatever_the_weights() {
    let rt = start().await;
    rt.set_weights("stock.reserve", &[("v2", 0)]).expect("v2 to 0");
    for order in 0..200 {
        assert_eq!(ran(&rt, Route::new().colour("v2"), order).await, "v2");
        assert_eq!(ran(&rt, Route::new().key(order), order).await, "v1", "at 0, v2 gets only coloured traffic");
    }
    // A colour no variant of the task has leaves the weights to decide.
    assert_eq!(ran(&rt, Route::new().colour("v9"), 1).await, "v1");
    // Either handle names the task: the route decides which function runs.
    let completion = Route::new().colour("v1").scope(rt.submit(reserve_v2, 1)).await.expect("submitted");
    assert_eq!(completion.await.expect("ran"), "v1");
    // At weight 0 the variant keeps its pre-warmed workers.
    assert_eq!(rt.variant_stats("stock.reserve", "v2").expect("v2").workers, 2);
    rt.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_weight_change_takes_effect_at_once() {
    let rt = start().await;
    assert_eq!(rt.weights("stock.reserve").expect("weights"), [("v1", 90), ("v2", 10)]);
    rt.set_weights("stock.reserve", &[("v1", 0), ("v2", 100)]).expect("all to v2");
    for order in 0..500 {
        assert_eq!(ran(&rt, Route::new().key(order), order).await, "v2");
    }
    rt.set_weights("stock.reserve", &[("v1", 1), ("v2", 0)]).expect("all back to v1");
    for order in 0..500 {
        assert_eq!(ran(&rt, Route::new(), order).await, "v1");
    }
    assert_eq!(rt.weights("stock.reserve").expect("weights"), [("v1", 1), ("v2", 0)]);

    let refused = |result: Result<(), WeightsError>| result.expect_err("refused").to_string();
    assert_eq!(
        refused(rt.set_weights("stock.reserve", &[("v3", 5)])),
        "task `stock.reserve` has no variant `v3`; its variants are `v1`, `v2`"
    );
    assert_eq!(
        refused(rt.set_weights("stock.reserve", &[("v1", 0)])),
        "every weight of task `stock.reserve` would be 0, so only coloured traffic would reach it; give one a share"
    );
    assert_eq!(
        refused(rt.set_weights("plain.task", &[])),
        "task `plain.task` has no `variants`, so it has no weights to set"
    );
    assert_eq!(refused(rt.set_weights("no.such", &[])), "no task `no.such` is registered");
    assert_eq!(rt.weights("stock.reserve").expect("unchanged by refusals"), [("v1", 1), ("v2", 0)]);
    rt.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_flow_keeps_the_colour_of_its_root() {
    let rt = start().await;
    // `stock.count` follows `order.place`; at `{ old: 1, new: 0 }` only colour reaches `new`.
    let flow = rt.submit_flow(place, 7).await.expect("submitted");
    assert_eq!(flow.outcome().await.output::<count>().map(String::as_str), Some("old"));
    let flow = Route::new().colour("new").scope(rt.submit_flow(place, 7)).await.expect("submitted");
    let report = flow.outcome().await;
    assert!(report.succeeded());
    assert_eq!(report.output::<count>().map(String::as_str), Some("new"), "the downstream task kept the colour");
    assert_eq!(report.output::<count_new>().map(String::as_str), Some("new"), "either handle reads the task's output");
    rt.shutdown().await.expect("clean shutdown");
}
