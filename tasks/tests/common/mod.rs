//! A fresh shop database in a temporary directory, for each test.
// Each test file uses a part of this module.
#![allow(dead_code)]

use std::time::Duration;

use shop_tasks::{NewOrder, Shop};
use tempfile::TempDir;

/// The database goes away with the directory, when the test ends.
pub(crate) struct TestShop {
    pub(crate) shop: Shop,
    pub(crate) dir: TempDir,
}

pub(crate) async fn test_shop() -> TestShop {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let shop = Shop::create(&dir.path().join("shop.db")).await.expect("a new database migrates");
    TestShop { shop, dir }
}

/// An order of `quantity` items of `sku` by user 1, due `pay_in` seconds from now on the shop's
/// clock (negative: overdue).
pub(crate) fn order(id: u64, sku: u32, quantity: u32, pay_in: i64) -> NewOrder {
    let now = shop_tasks::clock::now();
    let offset = Duration::from_secs(pay_in.unsigned_abs());
    let pay_by = if pay_in >= 0 { now + offset } else { now - offset };
    NewOrder { id, user_id: 1, sku, quantity, pay_by }
}
