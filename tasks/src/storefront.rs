//! What the storefront writes, which the tasks then work on: stock, orders and payments.

use std::time::SystemTime;

use crate::ShopError;
use crate::shop::{Shop, unix_ms};

/// An order as the storefront places it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// The order's id, unique in the shop.
    pub id: u64,
    /// Who places it.
    pub user_id: u64,
    /// The SKU ordered.
    pub sku: u32,
    /// How many items, at least 1.
    pub quantity: u32,
    /// When it is closed if still unpaid.
    pub pay_by: SystemTime,
}

/// An order's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    /// Waiting for payment until its deadline.
    Unpaid,
    /// Paid in time.
    Paid,
    /// Closed unpaid; its items went back on the shelf.
    Closed,
}

/// What became of a run of orders, counted in the database.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrderTally {
    /// Orders counted.
    pub orders: u64,
    /// Paid in time.
    pub paid: u64,
    /// Paid, but found the shelf short: their items are not held.
    pub paid_unheld: u64,
    /// Closed unpaid by `order.timeout_close`.
    pub closed: u64,
    /// Handed to the carrier by `logistics.sync`.
    pub shipped: u64,
    /// Whose buyer got points from `points.award`.
    pub awarded: u64,
}

/// A SKU's stock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stock {
    /// Items on the shelf, free to reserve.
    pub available: u32,
    /// Items held by orders.
    pub reserved: u32,
    /// Items ever put on the shelf: always `available + reserved`.
    pub stocked: u32,
}

impl Shop {
    /// Puts `items` more of `sku` on the shelf, creating the SKU at `price_cents` if it is new.
    pub async fn stock_sku(&self, sku: u32, items: u32, price_cents: u32) -> Result<(), ShopError> {
        sqlx::query(
            "INSERT INTO skus (sku, available, stocked, price_cents) VALUES (?1, ?2, ?2, ?3) \
             ON CONFLICT (sku) DO UPDATE SET available = available + ?2, stocked = stocked + ?2",
        )
        .bind(i64::from(sku))
        .bind(i64::from(items))
        .bind(i64::from(price_cents))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Records a new unpaid order.
    pub async fn place_order(&self, order: NewOrder) -> Result<(), ShopError> {
        sqlx::query("INSERT INTO orders (id, user_id, sku, quantity, pay_by_ms) VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(order.id as i64)
            .bind(order.user_id as i64)
            .bind(i64::from(order.sku))
            .bind(i64::from(order.quantity))
            .bind(unix_ms(order.pay_by))
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// Records what the payment provider's callback says: the order was paid at `at`.
    /// `payment.notify` acts on it.
    pub async fn record_payment(&self, order_id: u64, at: SystemTime) -> Result<(), ShopError> {
        sqlx::query("INSERT INTO payments (order_id, paid_at_ms) VALUES (?1, ?2) ON CONFLICT (order_id) DO NOTHING")
            .bind(order_id as i64)
            .bind(unix_ms(at))
            .execute(self.writer())
            .await?;
        Ok(())
    }

    /// The highest order id so far, 0 for none.
    pub async fn last_order_id(&self) -> Result<u64, ShopError> {
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM orders").fetch_one(self.readers()).await?;
        Ok(last as u64)
    }

    /// What became of the orders numbered `first_id` and after, as of now: what a run of the
    /// tasks on a durable backend leaves to read, since its rows keep no outputs.
    pub async fn order_tally(&self, first_id: u64) -> Result<OrderTally, ShopError> {
        let (orders, paid, paid_unheld, closed, shipped, awarded): (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), \
                    COALESCE(SUM(status = 'paid'), 0), \
                    COALESCE(SUM(status = 'paid' AND reserved = 0), 0), \
                    COALESCE(SUM(status = 'closed'), 0), \
                    (SELECT COUNT(*) FROM shipments WHERE order_id >= ?1), \
                    (SELECT COUNT(*) FROM points WHERE order_id >= ?1) \
             FROM orders WHERE id >= ?1",
        )
        .bind(first_id as i64)
        .fetch_one(self.readers())
        .await?;
        Ok(OrderTally {
            orders: orders as u64,
            paid: paid as u64,
            paid_unheld: paid_unheld as u64,
            closed: closed as u64,
            shipped: shipped as u64,
            awarded: awarded as u64,
        })
    }

    /// The order's status.
    pub async fn order_status(&self, order_id: u64) -> Result<OrderStatus, ShopError> {
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM orders WHERE id = ?1")
            .bind(order_id as i64)
            .fetch_optional(self.readers())
            .await?;
        match status.as_deref() {
            None => Err(ShopError::UnknownOrder(order_id)),
            Some("paid") => Ok(OrderStatus::Paid),
            Some("closed") => Ok(OrderStatus::Closed),
            Some(_) => Ok(OrderStatus::Unpaid),
        }
    }

    /// The SKU's stock; all zero for an unknown SKU.
    pub async fn stock(&self, sku: u32) -> Result<Stock, ShopError> {
        let row: Option<(i64, i64, i64)> =
            sqlx::query_as("SELECT available, reserved, stocked FROM skus WHERE sku = ?1")
                .bind(i64::from(sku))
                .fetch_optional(self.readers())
                .await?;
        Ok(row.map_or_else(Stock::default, |(available, reserved, stocked)| Stock {
            available: available as u32,
            reserved: reserved as u32,
            stocked: stocked as u32,
        }))
    }
}
