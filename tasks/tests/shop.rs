//! The shop's invariants, each against a real SQLite database (one per test, in a temporary
//! directory): no overselling, overdue orders closed with their items released, coupons once
//! per user.

mod common;

use std::time::SystemTime;

use common::{order, test_shop};
use shop_tasks::{Hold, OrderStatus, OrderTally, Shop, ShopError, Stock};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reservations_of_the_last_items_never_oversell() {
    let test = test_shop().await;
    let shop = test.shop.clone();
    shop.stock_sku(7, 10, 1000).await.unwrap();
    // 40 orders of 1 to 3 items for 10 items, all reserving at once, through three handles of
    // the database as three processes would have: three writing connections that SQLite's
    // locks, not the handle's single writer, keep apart.
    for id in 1..=40 {
        shop.place_order(order(id, 7, (id % 3 + 1) as u32, 3600)).await.unwrap();
    }
    let path = test.dir.path().join("shop.db");
    let handles = [shop.clone(), Shop::open(&path).await.unwrap(), Shop::open(&path).await.unwrap()];
    let reservations: Vec<_> = (1..=40)
        .map(|id| {
            let shop = handles[id as usize % handles.len()].clone();
            // Both variants of `inventory.reserve` at once: v2 takes the shelf first.
            tokio::spawn(async move {
                let hold = if id % 2 == 0 { shop.reserve(id).await } else { shop.reserve_shelf_first(id).await };
                (id, hold.unwrap())
            })
        })
        .collect();
    let mut held_items = 0;
    for reservation in reservations {
        let (id, hold) = reservation.await.unwrap();
        match hold {
            Hold::Held => held_items += id % 3 + 1,
            Hold::OutOfStock => {}
            Hold::OrderClosed => panic!("order {id} is open"),
        }
    }
    let stock = shop.stock(7).await.unwrap();
    assert_eq!(stock.reserved as u64, held_items);
    assert_eq!(stock.available + stock.reserved, 10);
    assert!(stock.available < 3, "orders were refused while items that could serve them were left: {stock:?}");
    assert_eq!(shop.audit(SystemTime::now()).await.unwrap().oversold, 0);
}

#[tokio::test]
async fn the_v2_reservation_holds_like_v1_closed_orders_and_short_shelves_included() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.stock_sku(1, 5, 1000).await.unwrap();
    shop.place_order(order(1, 1, 2, 3600)).await.unwrap();
    assert_eq!(shop.reserve_shelf_first(1).await.unwrap(), Hold::Held);
    assert_eq!(shop.reserve_shelf_first(1).await.unwrap(), Hold::Held, "twice holds once");
    assert_eq!(shop.reserve(1).await.unwrap(), Hold::Held, "and v1 sees it held");
    assert_eq!(shop.stock(1).await.unwrap(), Stock { available: 3, reserved: 2, stocked: 5 });
    shop.place_order(order(2, 1, 4, 3600)).await.unwrap();
    assert_eq!(shop.reserve_shelf_first(2).await.unwrap(), Hold::OutOfStock);
    assert_eq!(shop.stock(1).await.unwrap(), Stock { available: 3, reserved: 2, stocked: 5 });
    shop.place_order(order(3, 1, 1, -60)).await.unwrap();
    shop.close_overdue(SystemTime::now(), None).await.unwrap();
    assert_eq!(shop.reserve_shelf_first(3).await.unwrap(), Hold::OrderClosed);
    assert!(matches!(shop.reserve_shelf_first(99).await, Err(ShopError::UnknownOrder(99))));
    assert_eq!(shop.audit(SystemTime::now()).await.unwrap().oversold, 0);
}

#[tokio::test]
async fn reserving_an_order_twice_holds_its_items_once() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.stock_sku(1, 5, 1000).await.unwrap();
    shop.place_order(order(1, 1, 2, 3600)).await.unwrap();
    assert_eq!(shop.reserve(1).await.unwrap(), Hold::Held);
    assert_eq!(shop.reserve(1).await.unwrap(), Hold::Held);
    assert_eq!(shop.stock(1).await.unwrap(), Stock { available: 3, reserved: 2, stocked: 5 });
    assert!(matches!(shop.reserve(99).await, Err(ShopError::UnknownOrder(99))));
}

#[tokio::test]
async fn an_order_the_shelf_cannot_serve_holds_nothing() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.stock_sku(1, 2, 1000).await.unwrap();
    shop.place_order(order(1, 1, 3, 3600)).await.unwrap();
    assert_eq!(shop.reserve(1).await.unwrap(), Hold::OutOfStock);
    assert_eq!(shop.stock(1).await.unwrap(), Stock { available: 2, reserved: 0, stocked: 2 });
    // The order's mark was rolled back with the shelf: more stock lets it through.
    shop.stock_sku(1, 1, 1000).await.unwrap();
    assert_eq!(shop.reserve(1).await.unwrap(), Hold::Held);
    assert_eq!(shop.audit(SystemTime::now()).await.unwrap().oversold, 0);
}

#[tokio::test]
async fn overdue_unpaid_orders_close_and_release_their_items_in_one_sweep() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.stock_sku(1, 10, 1000).await.unwrap();
    shop.place_order(order(1, 1, 3, -60)).await.unwrap(); // overdue, items held
    shop.place_order(order(2, 1, 2, -60)).await.unwrap(); // overdue, nothing held
    shop.place_order(order(3, 1, 1, -60)).await.unwrap(); // overdue but paid in time
    shop.place_order(order(4, 1, 4, 3600)).await.unwrap(); // not due
    for id in [1, 3, 4] {
        assert_eq!(shop.reserve(id).await.unwrap(), Hold::Held);
    }
    shop.record_payment(3, SystemTime::now() - std::time::Duration::from_secs(120)).await.unwrap();
    assert!(shop.settle_payment(3).await.unwrap());

    // An order's own close touches that order only, and leaves one not yet due open.
    let one = shop.close_overdue(SystemTime::now(), Some(1)).await.unwrap();
    assert_eq!((one.closed, one.released), (1, 3));
    assert_eq!(shop.close_overdue(SystemTime::now(), Some(4)).await.unwrap().closed, 0);
    let swept = shop.close_overdue(SystemTime::now(), None).await.unwrap();
    assert_eq!((swept.closed, swept.released), (1, 0), "the sweep closes the other overdue order");
    let statuses = [1, 2, 3, 4].map(|id| shop.order_status(id));
    let mut found = Vec::new();
    for status in statuses {
        found.push(status.await.unwrap());
    }
    assert_eq!(found, [OrderStatus::Closed, OrderStatus::Closed, OrderStatus::Paid, OrderStatus::Unpaid]);
    assert_eq!(shop.stock(1).await.unwrap(), Stock { available: 5, reserved: 5, stocked: 10 });
    let audit = shop.audit(SystemTime::now()).await.unwrap();
    assert_eq!((audit.oversold, audit.overdue_open), (0, 0));

    // A second sweep finds nothing; a closed order is neither reserved nor paid again.
    assert_eq!(shop.close_overdue(SystemTime::now(), None).await.unwrap().closed, 0);
    assert_eq!(shop.reserve(1).await.unwrap(), Hold::OrderClosed);
    shop.record_payment(1, SystemTime::now()).await.unwrap();
    assert!(!shop.settle_payment(1).await.unwrap());
    assert_eq!(shop.order_status(1).await.unwrap(), OrderStatus::Closed);
}

#[tokio::test]
async fn a_payment_after_the_deadline_does_not_pay_the_order() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.stock_sku(1, 10, 1000).await.unwrap();
    shop.place_order(order(1, 1, 1, -60)).await.unwrap();
    shop.record_payment(1, SystemTime::now()).await.unwrap();
    assert!(!shop.settle_payment(1).await.unwrap());
    assert_eq!(shop.close_overdue(SystemTime::now(), None).await.unwrap().closed, 1);
    assert!(shop.audit(SystemTime::now()).await.unwrap().holds());
}

#[tokio::test]
async fn the_audit_sees_an_unpaid_order_past_its_deadline() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.stock_sku(1, 10, 1000).await.unwrap();
    shop.place_order(order(1, 1, 1, -60)).await.unwrap();
    let audit = shop.audit(SystemTime::now()).await.unwrap();
    assert_eq!(audit.overdue_open, 1);
    assert!(!audit.holds());
}

#[tokio::test]
async fn a_payment_made_in_time_keeps_the_order_even_if_its_notice_comes_after_the_sweep() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.stock_sku(1, 10, 1000).await.unwrap();
    shop.place_order(order(1, 1, 2, -60)).await.unwrap();
    assert_eq!(shop.reserve(1).await.unwrap(), Hold::Held);
    // Paid two minutes before the deadline, but `payment.notify` has not run yet.
    shop.record_payment(1, SystemTime::now() - std::time::Duration::from_secs(180)).await.unwrap();

    let swept = shop.close_overdue(SystemTime::now(), None).await.unwrap();
    assert_eq!(swept.closed, 0);
    assert_eq!(shop.order_status(1).await.unwrap(), OrderStatus::Paid);
    assert_eq!(shop.stock(1).await.unwrap(), Stock { available: 8, reserved: 2, stocked: 10 });
    assert!(shop.settle_payment(1).await.unwrap(), "the late notice finds the order paid");
    let audit = shop.audit(SystemTime::now()).await.unwrap();
    assert!(audit.holds(), "{audit:?}");
}

#[tokio::test]
async fn the_audit_sees_an_order_closed_although_paid_in_time() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.stock_sku(1, 10, 1000).await.unwrap();
    shop.place_order(order(1, 1, 1, -60)).await.unwrap();
    shop.record_payment(1, SystemTime::now() - std::time::Duration::from_secs(180)).await.unwrap();
    // What the sweep did before it settled payments first.
    sqlx::query("UPDATE orders SET status = 'closed' WHERE id = 1").execute(shop.writer()).await.unwrap();
    let audit = shop.audit(SystemTime::now()).await.unwrap();
    assert_eq!(audit.closed_though_paid, 1);
    assert!(!audit.holds());
}

#[tokio::test]
async fn the_tally_counts_what_became_of_the_orders_from_an_id_on() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.stock_sku(1, 3, 1000).await.unwrap();
    shop.place_order(order(1, 1, 1, 3600)).await.unwrap(); // before the tally's first id
    shop.place_order(order(2, 1, 2, 3600)).await.unwrap(); // paid, held, shipped, awarded
    shop.place_order(order(3, 1, 2, 3600)).await.unwrap(); // paid, the shelf short
    shop.place_order(order(4, 1, 1, -60)).await.unwrap(); // closed unpaid
    for id in [1, 2, 3] {
        shop.record_payment(id, SystemTime::now()).await.unwrap();
        assert!(shop.settle_payment(id).await.unwrap());
    }
    assert_eq!(shop.reserve(2).await.unwrap(), Hold::Held);
    assert_eq!(shop.reserve(3).await.unwrap(), Hold::OutOfStock);
    shop.ship(2, SystemTime::now()).await.unwrap();
    shop.award(2, 1, 20).await.unwrap();
    shop.close_overdue(SystemTime::now(), None).await.unwrap();

    let tally = shop.order_tally(2).await.unwrap();
    assert_eq!(
        (tally.orders, tally.paid, tally.paid_unheld, tally.closed, tally.shipped, tally.awarded),
        (3, 2, 1, 1, 1, 1)
    );
    assert_eq!(shop.order_tally(5).await.unwrap(), OrderTally::default());
}
