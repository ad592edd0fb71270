//! The shop's tasks tested with `preheat::testing`, without a live runtime, sleeps or metrics:
//! what a placed order submits, that inline runs never oversell, that a coupon batch retried
//! after a failure issues each coupon once, and what the schedules submit as time moves.
//!
//! One test: the tasks' database is process-wide (see `flow.rs`).

mod common;

use std::time::{Duration, SystemTime};

use common::{order, test_shop};
use preheat::testing::{Fault, TestRuntime};
use shop_tasks::{
    IssueCampaign, OrderCreated, ShopError, Stock, close_overdue, issue_campaign, notify_payment, order_created,
    reserve_stock, sync_prices,
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
