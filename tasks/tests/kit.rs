//! The shop's tasks tested with `preheat::testing`, without a live runtime, sleeps or metrics:
//! what a placed order submits, that its close is scheduled at its deadline and runs at +30 min,
//! that inline runs never oversell, that a coupon batch retried after a failure issues each
//! coupon once, what the schedules submit as time moves, and the scheduled tasks run once each.
//!
//! One test: the tasks' database is process-wide (see `flow.rs`).

mod common;

use std::time::{Duration, SystemTime};

use common::{order, test_shop};
use preheat::testing::{Fault, TestRuntime};
use shop_tasks::{
    IssueCampaign, OrderCreated, OrderStatus, ShopError, Stock, Swept, clock, close_overdue, close_unpaid,
    issue_campaign, notify_payment, order_created, reserve_stock, sync_prices,
};

#[tokio::test]
async fn the_shops_tasks_under_the_test_kit() {
    let test = test_shop().await;
    let storefront = &test.shop;
    shop_tasks::use_database(test.dir.path().join("shop.db")).unwrap();

    // A placed order, run by hand: its task submits the two tasks that follow it, with its order.
    storefront.stock_sku(1, 3, 1000).await.unwrap();
    storefront.place_order(order(1, 1, 1, 3600)).await.unwrap();
    let kit = TestRuntime::manual().start().await.expect("the registry is valid and the database warms");
    kit.submit_detached(order_created, OrderCreated { order_id: 1 }).await.unwrap();
    kit.assert_submitted_where::<order_created>(|created| created.order_id == 1);
    kit.assert_not_submitted::<reserve_stock>();
    assert!(kit.run_next().await);
    let reserve = kit.assert_submitted::<reserve_stock>();
    assert_eq!((reserve.input.order_id, reserve.input.sku), (1, 1));
    assert_eq!(kit.assert_submitted::<notify_payment>().flow, reserve.flow, "one flow run");
    assert_eq!(kit.run_queued().await, 4, "reserve, payment, logistics, points");
    kit.shutdown().await.unwrap();

    // Inline, one order after the other: five orders for the two items left never oversell.
    let kit = TestRuntime::inline().start().await.unwrap();
    for id in 2..=6 {
        storefront.place_order(order(id, 1, 1, 3600)).await.unwrap();
        storefront.record_payment(id, SystemTime::now()).await.unwrap();
        kit.submit_detached(order_created, OrderCreated { order_id: id }).await.unwrap();
    }
    assert_eq!(kit.submitted::<reserve_stock>().len(), 5);
    assert_eq!(storefront.stock(1).await.unwrap(), Stock { available: 0, reserved: 3, stocked: 3 });

    // A coupon batch whose first attempt fails is retried by the task's own rules, and issues
    // each user's coupon once.
    storefront.create_campaign("spring", 300, 100).await.unwrap();
    kit.inject(issue_campaign, 1, Fault::fail(|| ShopError::NotOpen));
    let issued = kit
        .submit(issue_campaign, IssueCampaign { campaign: "spring".into(), max_batches: None })
        .await
        .unwrap()
        .await
        .expect("the second attempt issues the campaign");
    assert_eq!((issued.issued, issued.finished), (300, true));
    assert_eq!(kit.stats_of(issue_campaign).retried, 1);
    kit.shutdown().await.unwrap();
    let audit = storefront.audit(SystemTime::now()).await.unwrap();
    assert!(audit.holds(), "{audit:?}");
    assert_eq!(audit.coupons, 300);

    // A placed order schedules its close at its deadline, 30 minutes on. Its flow runs now; the
    // close waits, runs at +30 min, and puts the held items back. The database work happens
    // with the clock running: under a paused clock tokio would jump to the pool's timers while
    // SQLite works on its own thread.
    storefront.stock_sku(2, 5, 1000).await.unwrap();
    let placed = order(7, 2, 2, 1800);
    storefront.place_order(placed).await.unwrap();
    let kit = TestRuntime::manual().supply("db").start().await.unwrap();
    shop_tasks::schedule_close(&kit, &placed).unwrap();
    kit.submit_detached(order_created, OrderCreated { order_id: 7 }).await.unwrap();
    assert_eq!(kit.run_queued().await, 5, "the order's flow; not its close");
    assert_eq!(storefront.stock(2).await.unwrap(), Stock { available: 3, reserved: 2, stocked: 5 });
    let close = kit.assert_submitted::<close_unpaid>();
    assert_eq!((close.input.order_id, close.key.as_deref(), close.delayed), (7, Some("close:7"), true));
    assert_eq!(close.due, clock::instant_of(placed.pay_by), "due at the order's deadline");

    tokio::time::pause();
    let to_deadline = close.due - tokio::time::Instant::now();
    assert!(to_deadline > Duration::from_secs(1799), "about 30 minutes: {to_deadline:?}");
    kit.advance(to_deadline - Duration::from_millis(1)).await;
    assert!(kit.assert_submitted::<close_unpaid>().delayed, "not a millisecond early");
    kit.advance(Duration::from_millis(1)).await;
    assert!(!kit.assert_submitted::<close_unpaid>().delayed);
    assert_eq!(kit.queued(), 1);
    assert!(clock::now() >= placed.pay_by, "the shop's clock moved with tokio's");
    tokio::time::resume();
    assert!(kit.run_next().await);
    assert_eq!(storefront.order_status(7).await.unwrap(), OrderStatus::Closed);
    assert_eq!(storefront.stock(2).await.unwrap(), Stock { available: 5, reserved: 0, stocked: 5 });
    // The two scheduled tasks, each run once through the kit as a tick would run it: the sweep
    // finds nothing left to close, the price refresh reprices both SKUs.
    assert_eq!(kit.run_task(close_overdue, ()).await.unwrap(), Swept::default());
    assert_eq!(kit.run_task(sync_prices, ()).await.unwrap().skus, 2);
    kit.shutdown().await.unwrap();

    // The schedules, with time moved by the test: the sweep every second from start, the price
    // refresh every 2 s after 500 ms. Queued, not run, so nothing touches the database; and since
    // a schedule's tick is skipped while its last run has not finished (`overlap: skip`, the
    // default), each schedule queues one run, and the ticks after it are skipped.
    // The database is open from the runs above: supplied, its warmer does not run again (under a
    // paused clock its timeout would end it at once, while SQLite works on its own thread).
    tokio::time::pause();
    let kit = TestRuntime::manual().schedules().supply("db").start().await.unwrap();
    let start = tokio::time::Instant::now();
    kit.advance(Duration::from_secs(10)).await;
    assert_eq!(kit.assert_submitted_times::<close_overdue>(1)[0].due, start);
    assert_eq!(kit.schedule_stats_of(close_overdue).map(|stats| (stats.fired, stats.skipped)), Some((1, 10)));
    let price = kit.assert_submitted_times::<sync_prices>(1);
    assert_eq!(price[0].due - start, Duration::from_millis(500));
    assert_eq!(kit.schedule_stats_of(sync_prices).map(|stats| stats.skipped), Some(4), "at 2.5, 4.5, 6.5 and 8.5 s");
    // Shutdown hands back the two runs the test never let happen.
    assert_eq!(kit.shutdown().await.unwrap_err().unfinished().len(), 2);
    tokio::time::resume();
}
