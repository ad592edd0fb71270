//! Orders: `order.created` starts an order's flow; `order.close_unpaid` closes an order left
//! unpaid at its deadline, and `order.timeout_close` sweeps up any it missed.

use std::time::SystemTime;

use preheat::{DelayedKey, Runtime, SubmitError, task};
use serde::{Deserialize, Serialize};

use crate::run_times::timed;
use crate::shop::{Shop, shop, sql, unix_ms};
use crate::storefront::NewOrder;
use crate::{ShopError, clock};

/// Input of `order.created`: an order the storefront has just written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    /// The order.
    pub order_id: u64,
}

/// What the tasks after `order.created` need to know of the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPlaced {
    /// The order.
    pub order_id: u64,
    /// Who placed it.
    pub user_id: u64,
    /// The SKU ordered.
    pub sku: u32,
    /// How many items of it.
    pub quantity: u32,
}

/// Input of `order.close_unpaid`: the order whose payment deadline has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseUnpaid {
    /// The order.
    pub order_id: u64,
}

/// What one run of `order.close_unpaid` or `order.timeout_close` did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swept {
    /// Orders closed.
    pub closed: u32,
    /// Items that went back on the shelf.
    pub released: u32,
}

/// Loads the order, the first step of its flow: `inventory.reserve` and `payment.notify`
/// follow it.
#[task("order.created")]
pub async fn order_created(input: OrderCreated) -> Result<OrderPlaced, ShopError> {
    let shop = shop()?;
    timed("order.created", shop.placed(input.order_id)).await
}

/// Closes the order if it is still unpaid at its deadline and puts its items back; runs at the
/// deadline, submitted by [`schedule_close`] when the order is placed. An order paid in time is
/// marked paid instead. One not yet due by this process's clock (a delayed row submitted by a
/// process whose clock runs ahead) is left open, for the sweep.
#[task("order.close_unpaid")]
pub async fn close_unpaid(input: CloseUnpaid) -> Result<Swept, ShopError> {
    let shop = shop()?;
    timed("order.close_unpaid", shop.close_overdue(clock::now(), Some(input.order_id))).await
}

/// Schedules the close of a newly placed order at its deadline: `order.close_unpaid`, delayed
/// until [`NewOrder::pay_by`] on the shop's [clock](crate::clock), under the key
/// [`close_key`] (so that `rt.cancel(close_key(id))` takes it back).
pub fn schedule_close(rt: &Runtime, order: &NewOrder) -> Result<DelayedKey, SubmitError<CloseUnpaid>> {
    rt.delay(close_unpaid, CloseUnpaid { order_id: order.id })
        .key(close_key(order.id))
        .at(clock::instant_of(order.pay_by))
}

/// The key of an order's scheduled close.
pub fn close_key(order_id: u64) -> String {
    format!("close:{order_id}")
}

/// Closes every order still unpaid past its deadline and releases its reserved stock: the
/// backstop of `order.close_unpaid`, for closes that never ran (an in-memory delay is lost when
/// the process stops; an order placed by another process). Runs on its schedule (see
/// `meta/order.yaml`).
#[task("order.timeout_close")]
pub async fn close_overdue() -> Result<Swept, ShopError> {
    let shop = shop()?;
    timed("order.timeout_close", shop.close_overdue(clock::now(), None)).await
}

impl Shop {
    /// The order as `order.created` hands it on.
    pub async fn placed(&self, order_id: u64) -> Result<OrderPlaced, ShopError> {
        let row: Option<(i64, i64, i64)> =
            sqlx::query_as(sql::ORDER_PLACED).bind(order_id as i64).fetch_optional(self.readers()).await?;
        let (user_id, sku, quantity) = row.ok_or(ShopError::UnknownOrder(order_id))?;
        Ok(OrderPlaced { order_id, user_id: user_id as u64, sku: sku as u32, quantity: quantity as u32 })
    }

    /// Closes the orders unpaid at `now` past their deadline (all of them, or only `order`) and
    /// puts their reserved items back
    /// on the shelf, in one transaction: no reader ever sees an order closed with its items
    /// still held, or items back with the order open. An order whose payment the provider
    /// recorded in time is marked paid instead, even if `payment.notify` has not run yet (a
    /// backlog or a retry can delay it past the deadline): paying in time must keep the order.
    pub async fn close_overdue(&self, now: SystemTime, order: Option<u64>) -> Result<Swept, ShopError> {
        let now = unix_ms(now);
        let order = order.map(|id| id as i64);
        // IMMEDIATE takes the write lock up front: the count below must match what is closed.
        let mut tx = self.writer().begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(sql::SETTLE_OVERDUE_PAID).bind(now).bind(order).execute(&mut *tx).await?;
        let (closing, released): (i64, i64) =
            sqlx::query_as(sql::OVERDUE).bind(now).bind(order).fetch_one(&mut *tx).await?;
        if closing == 0 {
            tx.commit().await?;
            return Ok(Swept::default());
        }
        sqlx::query(sql::RELEASE_OVERDUE).bind(now).bind(order).execute(&mut *tx).await?;
        let closed = sqlx::query(sql::CLOSE_OVERDUE).bind(now).bind(order).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        debug_assert_eq!(closed, closing as u64);
        Ok(Swept { closed: closed as u32, released: released as u32 })
    }
}
