//! Flows on the paused tokio clock: fan-out, fan-in, failure propagation, the flow id in the
//! context, and tasks that submit tasks into a full queue.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};

use preheat::{Ctx, Runtime, TaskStatus, task};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

preheat::metadata!("tests/meta/flows");

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u32,
    amount: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Reserved {
    order: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Paid {
    order: u32,
    amount: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Shipped {
    order: u32,
    amount: u32,
}

/// The order whose payment always fails.
const UNPAYABLE: u32 = 13;

thread_local! {
    /// Each task run of this thread's runtime, with the flow id its context carried.
    static SEEN: RefCell<Vec<(&'static str, Option<String>)>> = const { RefCell::new(Vec::new()) };
}

fn seen(ctx: &Ctx) {
    SEEN.with_borrow_mut(|seen| seen.push((ctx.task_id(), ctx.flow_id().map(|id| id.to_string()))));
}

#[task("flow.order", metadata = "tests/meta/flows")]
async fn place_order(ctx: Ctx, id: u32) -> Result<Order, String> {
    seen(&ctx);
    Ok(Order { id, amount: id * 100 })
}

#[task("flow.reserve", metadata = "tests/meta/flows")]
async fn reserve(ctx: Ctx, order: Order) -> Result<Reserved, String> {
    seen(&ctx);
    Ok(Reserved { order: order.id })
}

#[task("flow.pay", metadata = "tests/meta/flows")]
async fn pay(ctx: Ctx, order: Order) -> Result<Paid, String> {
    seen(&ctx);
    if order.id == UNPAYABLE {
        return Err(format!("card declined for order {}", order.id));
    }
    Ok(Paid { order: order.id, amount: order.amount })
}

#[task("flow.ship", metadata = "tests/meta/flows")]
async fn ship(ctx: Ctx, (reserved, paid): (Reserved, Paid)) -> Result<Shipped, String> {
    seen(&ctx);
    assert_eq!(reserved.order, paid.order, "both halves of the fan-in come from the same flow run");
    Ok(Shipped { order: paid.order, amount: paid.amount })
}

#[task("flow.points", metadata = "tests/meta/flows")]
async fn points(ctx: Ctx, shipped: Shipped) -> Result<u32, String> {
    seen(&ctx);
    Ok(shipped.amount / 10)
}

static SPREAD_RUNS: AtomicU32 = AtomicU32::new(0);
static SPREAD_DONE: Notify = Notify::const_new();
const SPREAD_DEPTH: u32 = 5;

/// Submits two more of itself until `depth` is 0, into its own queue of one slot, from its only
/// worker: a submit that waited for room would wait for itself.
#[task("flow.spread", metadata = "tests/meta/flows")]
async fn spread(ctx: Ctx, depth: u32) -> Result<(), String> {
    if depth > 0 {
        for _ in 0..2 {
            ctx.submit(spread, depth - 1).map_err(|error| error.to_string())?;
        }
    }
    if SPREAD_RUNS.fetch_add(1, Ordering::SeqCst) + 1 == (1 << (SPREAD_DEPTH + 1)) - 1 {
        SPREAD_DONE.notify_one();
    }
    Ok(())
}

async fn start() -> Runtime {
    Runtime::builder().start().await.expect("the test registry is valid")
}

#[tokio::test(start_paused = true)]
async fn a_flow_fans_out_fans_in_and_hands_outputs_on() {
    let rt = start().await;
    let flow = rt.submit_flow(place_order, 7).await.unwrap();
    let report = flow.outcome().await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.id(), flow.id());
    assert_eq!(report.output::<place_order>(), Some(&Order { id: 7, amount: 700 }));
    assert_eq!(report.output::<reserve>(), Some(&Reserved { order: 7 }));
    assert_eq!(report.output::<ship>(), Some(&Shipped { order: 7, amount: 700 }));
    assert_eq!(report.output::<points>(), Some(&70));

    let flow_id = Some(flow.id().to_string());
    let seen = SEEN.with_borrow(Clone::clone);
    let mut tasks: Vec<&str> = seen.iter().map(|(task, _)| *task).collect();
    tasks.sort();
    assert_eq!(tasks, ["flow.order", "flow.pay", "flow.points", "flow.reserve", "flow.ship"], "each ran once");
    assert!(seen.iter().all(|(_, id)| *id == flow_id), "every task's context carries the flow id: {seen:?}");
}

#[tokio::test(start_paused = true)]
async fn a_failure_skips_what_follows_and_fails_the_flow() {
    let rt = start().await;
    let report = rt.submit_flow(place_order, UNPAYABLE).await.unwrap().outcome().await;
    assert!(!report.succeeded());
    assert_eq!(report.status("flow.order"), Some(&TaskStatus::Succeeded));
    assert_eq!(report.status("flow.reserve"), Some(&TaskStatus::Succeeded));
    assert_eq!(
        report.status("flow.pay"),
        Some(&TaskStatus::Failed("task failed: card declined for order 13".into())),
        "after its two attempts"
    );
    assert_eq!(report.status("flow.ship"), Some(&TaskStatus::Skipped("`flow.pay` failed".into())));
    assert_eq!(report.status("flow.points"), Some(&TaskStatus::Skipped("`flow.pay` failed".into())));
    assert_eq!(report.output::<ship>(), None);
    assert_eq!(rt.dead_letters().len(), 1, "the failed task is dead-lettered as always");
}

#[tokio::test(start_paused = true)]
async fn a_plain_submit_of_a_flow_root_runs_the_flow_too() {
    let rt = start().await;
    assert_eq!(rt.submit(place_order, 3).await.unwrap().await.unwrap(), Order { id: 3, amount: 300 });
    rt.shutdown().await.expect("the flow's tasks finish");
    let tasks = SEEN.with_borrow(|seen| seen.len());
    assert_eq!(tasks, 5);
}

#[tokio::test(start_paused = true)]
async fn a_task_can_submit_into_its_own_full_queue() {
    let rt = start().await;
    rt.submit_detached(spread, SPREAD_DEPTH).await.unwrap();
    SPREAD_DONE.notified().await;
    assert_eq!(SPREAD_RUNS.load(Ordering::SeqCst), 63);
    rt.shutdown().await.expect("nothing left");
}
