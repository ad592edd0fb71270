//! The shop's tasks run through a real runtime against the in-memory shop. Tests share the
//! process-wide shop, so each uses its own order ids and SKUs.

use std::time::{Duration, SystemTime};

use preheat::{Ctx, Runtime};
use shop_tasks::{
    CloseOrder, Closed, IssueBatch, OrderStatus, Reservation, Reserve, Shop, close_unpaid, issue_batch, reserve_stock,
};

async fn start() -> Runtime {
    Runtime::builder().start().await.expect("the shop's registry is valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_orders_for_the_last_items_never_oversell() {
    let rt = start().await;
    let shop = Shop::global();
    shop.stock_sku(100, 5);
    let pay_by = SystemTime::now() + Duration::from_secs(3600);
    let mut completions = Vec::new();
    for order_id in 1000..1020 {
        shop.place_order(order_id, 100, 1, pay_by);
        completions.push(rt.submit(reserve_stock, Reserve { order_id }).await.unwrap());
    }
    let mut reserved = 0;
    for completion in completions {
        match completion.await.unwrap() {
            Reservation::Reserved { .. } => reserved += 1,
            Reservation::OutOfStock { available } => assert_eq!(available, 0),
        }
    }
    assert_eq!(reserved, 5);
    let stock = shop.stock(100);
    assert_eq!((stock.available, stock.reserved), (0, 5));
    assert_eq!(shop.audit().oversold, 0);
}

#[tokio::test]
async fn overdue_unpaid_orders_close_and_release_their_stock() {
    let rt = start().await;
    let shop = Shop::global();
    shop.stock_sku(200, 10);
    let past = SystemTime::now() - Duration::from_secs(1);
    let future = SystemTime::now() + Duration::from_secs(3600);
    shop.place_order(2000, 200, 3, past);
    shop.place_order(2001, 200, 2, past);
    shop.place_order(2002, 200, 1, future);
    for order_id in [2000, 2001, 2002] {
        rt.submit(reserve_stock, Reserve { order_id }).await.unwrap().await.unwrap();
    }
    assert!(shop.pay(2001));

    let close = |order_id| rt.submit(close_unpaid, CloseOrder { order_id });
    assert_eq!(close(2000).await.unwrap().await.unwrap(), Closed::Closed { released: 3 });
    assert_eq!(close(2000).await.unwrap().await.unwrap(), Closed::AlreadyClosed, "closing is idempotent");
    assert_eq!(close(2001).await.unwrap().await.unwrap(), Closed::AlreadyPaid);
    assert_eq!(close(2002).await.unwrap().await.unwrap(), Closed::NotDue);
    assert_eq!(shop.order(2000).unwrap().status, OrderStatus::Closed);
    let stock = shop.stock(200);
    assert_eq!((stock.available, stock.reserved), (7, 3), "order 2000's items are back on the shelf");
}

#[tokio::test(start_paused = true)] // the retries' backoff passes on the paused clock
async fn a_missing_order_fails_and_is_dead_lettered_with_its_input() {
    let rt = start().await;
    let outcome = rt.submit(close_unpaid, CloseOrder { order_id: 9_999_999 }).await.unwrap().await;
    assert_eq!(outcome.unwrap_err().to_string(), "task failed: order 9999999 does not exist");
    let dead = rt.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts(), 3, "retried per `retry.max_attempts` in meta/order.yaml");
    assert_eq!(dead[0].input::<close_unpaid>(), Some(&CloseOrder { order_id: 9_999_999 }));
}

#[tokio::test]
async fn a_repeated_coupon_batch_issues_nothing_twice() {
    let rt = start().await;
    let batch = IssueBatch { campaign: "test-repeat".into(), users: (1..=50).collect() };
    let first = rt.submit(issue_batch, batch.clone()).await.unwrap().await.unwrap();
    let again = rt.submit(issue_batch, batch).await.unwrap().await.unwrap();
    assert_eq!((first.issued, first.already_had), (50, 0));
    assert_eq!((again.issued, again.already_had), (0, 50));
    assert_eq!(Shop::global().audit().duplicate_coupons, 0);
}

#[tokio::test]
async fn a_task_function_can_be_called_directly() {
    let outcome = close_unpaid::call(Ctx::for_test::<close_unpaid>(), CloseOrder { order_id: 8_888_888 }).await;
    assert!(outcome.is_err(), "unknown order");
}
