//! `inventory.reserve`: take an order's items off the shelf, never more than there are.

use preheat::task;
use serde::{Deserialize, Serialize};

use crate::ShopError;
use crate::order::OrderPlaced;
use crate::run_times::timed;
use crate::shop::{Shop, shop, sql};

/// What happened to an order's items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hold {
    /// The items are held for the order (now, or by an earlier run of the same reservation).
    Held,
    /// The shelf had too few: nothing was taken. A normal outcome, so not an error, not retried.
    OutOfStock,
    /// The order was closed before its items could be held.
    OrderClosed,
}

/// Output of `inventory.reserve`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// The order.
    pub order: OrderPlaced,
    /// What happened to its items.
    pub hold: Hold,
}

/// Holds the order's items if the shelf has all of them.
#[task("inventory.reserve")]
pub async fn reserve_stock(order: OrderPlaced) -> Result<Reservation, ShopError> {
    let shop = shop()?;
    let hold = timed("inventory.reserve", shop.reserve(order.order_id)).await?;
    Ok(Reservation { order, hold })
}

/// `inventory.reserve`'s canary (`v2`, 10 % of the orders): the same reservation, with the
/// shelf taken first in one statement that reads the order, and the order marked after.
#[task("inventory.reserve", variant = "v2")]
pub async fn reserve_stock_v2(order: OrderPlaced) -> Result<Reservation, ShopError> {
    let shop = shop()?;
    let hold = timed("inventory.reserve", shop.reserve_shelf_first(order.order_id)).await?;
    Ok(Reservation { order, hold })
}

impl Shop {
    /// What [`reserve`](Self::reserve) does, the other way round: the shelf is taken first
    /// (only for an order not held and not closed, only if `available` covers it), then the
    /// order is marked, in one `BEGIN IMMEDIATE` transaction, so it is as safe against
    /// overselling and as idempotent.
    pub async fn reserve_shelf_first(&self, order_id: u64) -> Result<Hold, ShopError> {
        let mut tx = self.writer().begin_with("BEGIN IMMEDIATE").await?;
        let taken: Option<i64> =
            sqlx::query_scalar(sql::TAKE_STOCK_FOR_ORDER).bind(order_id as i64).fetch_optional(&mut *tx).await?;
        if taken.is_some() {
            sqlx::query(sql::MARK_RESERVED).bind(order_id as i64).execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(Hold::Held);
        }
        let state: Option<(bool, String)> =
            sqlx::query_as(sql::ORDER_HOLD_STATE).bind(order_id as i64).fetch_optional(&mut *tx).await?;
        match state {
            None => Err(ShopError::UnknownOrder(order_id)),
            Some((true, _)) => Ok(Hold::Held),
            Some((false, status)) if status == "closed" => Ok(Hold::OrderClosed),
            Some((false, _)) => Ok(Hold::OutOfStock),
        }
    }

    /// Holds the order's items: marks the order reserved and takes its items off the shelf in
    /// one transaction, the shelf only if `available` covers them. The condition is in the
    /// `UPDATE` itself, so concurrent reservations of the last items can never oversell (and
    /// the schema's `CHECK (available >= 0)` would refuse it anyway). Running it twice for one
    /// order holds its items once.
    pub async fn reserve(&self, order_id: u64) -> Result<Hold, ShopError> {
        let mut tx = self.writer().begin_with("BEGIN IMMEDIATE").await?;
        let held_now: Option<(i64, i64)> =
            sqlx::query_as(sql::HOLD_ORDER).bind(order_id as i64).fetch_optional(&mut *tx).await?;
        let Some((sku, quantity)) = held_now else {
            let state: Option<(bool, String)> =
                sqlx::query_as(sql::ORDER_HOLD_STATE).bind(order_id as i64).fetch_optional(&mut *tx).await?;
            return match state {
                None => Err(ShopError::UnknownOrder(order_id)),
                Some((true, _)) => Ok(Hold::Held),
                Some((false, _)) => Ok(Hold::OrderClosed),
            };
        };
        let taken: Option<i64> =
            sqlx::query_scalar(sql::TAKE_STOCK).bind(sku).bind(quantity).fetch_optional(&mut *tx).await?;
        if taken.is_none() {
            // Dropping the transaction rolls the order's mark back.
            return Ok(Hold::OutOfStock);
        }
        tx.commit().await?;
        Ok(Hold::Held)
    }
}
