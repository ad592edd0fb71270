//! The order flow through a real runtime, with the `db` warmer opening a real SQLite database.
//! One runtime per process (the tasks' database is process-wide), so one test in this file.

mod common;

use std::time::SystemTime;

use common::{order, test_shop};
use preheat::{Runtime, TaskStatus};
use shop_tasks::{
    Awarded, Hold, OrderCreated, OrderStatus, POINTS_PER_ITEM, Reservation, Shipment, Stock, award_points,
    close_overdue, notify_payment, order_created, reserve_stock, sync_logistics,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_flows_from_creation_to_points_and_an_unpaid_one_is_closed() {
    let test = test_shop().await;
    let storefront = &test.shop;
    storefront.stock_sku(1, 3, 1000).await.unwrap();
    storefront.place_order(order(1, 1, 2, 3600)).await.unwrap(); // paid
    storefront.place_order(order(2, 1, 2, 3600)).await.unwrap(); // paid, but too few items left
    storefront.place_order(order(3, 1, 1, -60)).await.unwrap(); // never paid, overdue
    storefront.record_payment(1, SystemTime::now()).await.unwrap();
    storefront.record_payment(2, SystemTime::now()).await.unwrap();

    shop_tasks::use_database(test.dir.path().join("shop.db")).unwrap();
    let rt = Runtime::builder().start().await.expect("the shop's registry is valid and its database warms");
    assert!(rt.readiness().is_ready());

    let first = rt.submit_flow(order_created, OrderCreated { order_id: 1 }).await.unwrap().outcome().await;
    assert!(first.succeeded(), "{first:?}");
    let shipment = first.output::<sync_logistics>().unwrap();
    assert!(shipment.shipped);
    assert_eq!(first.output::<award_points>(), Some(&Awarded { points: 2 * POINTS_PER_ITEM }));

    let second = rt.submit_flow(order_created, OrderCreated { order_id: 2 }).await.unwrap().outcome().await;
    let reservation: &Reservation = second.output::<reserve_stock>().unwrap();
    assert_eq!(reservation.hold, Hold::OutOfStock);
    let shipment: &Shipment = second.output::<sync_logistics>().unwrap();
    assert!(!shipment.shipped);
    assert_eq!(second.output::<award_points>(), Some(&Awarded { points: 0 }));

    let third = rt.submit_flow(order_created, OrderCreated { order_id: 3 }).await.unwrap().outcome().await;
    assert!(matches!(third.status_of::<notify_payment>(), Some(TaskStatus::Succeeded)));
    assert!(!third.output::<notify_payment>().unwrap().paid);
    // The sweep runs every second by itself (and may have closed the order already); submitted
    // here, it runs now, so the order is closed once it returns.
    rt.submit(close_overdue, ()).await.unwrap().await.unwrap();
    assert_eq!(storefront.order_status(3).await.unwrap(), OrderStatus::Closed);
    assert_eq!(storefront.stock(1).await.unwrap(), Stock { available: 1, reserved: 2, stocked: 3 });

    let missing = rt.submit_flow(order_created, OrderCreated { order_id: 404 }).await.unwrap().outcome().await;
    assert!(!missing.succeeded());
    assert!(matches!(missing.status_of::<reserve_stock>(), Some(TaskStatus::Skipped(_))), "{missing:?}");

    rt.shutdown().await.unwrap();
    let audit = storefront.audit(SystemTime::now()).await.unwrap();
    assert!(audit.holds(), "{audit:?}");
    let runs = shop_tasks::run_times();
    assert!(runs["inventory.reserve"].len() >= 3, "{runs:?}");
}
