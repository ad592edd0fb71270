//! `payment.notify`: mark an order paid if the payment provider says it was paid in time.

use preheat::task;
use serde::{Deserialize, Serialize};

use crate::ShopError;
use crate::order::OrderPlaced;
use crate::run_times::timed;
use crate::shop::{Shop, shop, sql};

/// Output of `payment.notify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentNotice {
    /// The order.
    pub order_id: u64,
    /// Whether the order is paid.
    pub paid: bool,
}

/// Marks the order paid if its payment arrived before its deadline.
#[task("payment.notify")]
pub async fn notify_payment(order: OrderPlaced) -> Result<PaymentNotice, ShopError> {
    let shop = shop()?;
    let paid = timed("payment.notify", shop.settle_payment(order.order_id)).await?;
    Ok(PaymentNotice { order_id: order.order_id, paid })
}

impl Shop {
    /// Marks the order paid if the provider recorded a payment by its deadline and the order is
    /// still open; `true` if the order is paid (now or before). An order `order.timeout_close`
    /// closed stays closed: the status check and the update are one statement.
    pub async fn settle_payment(&self, order_id: u64) -> Result<bool, ShopError> {
        let marked = sqlx::query(sql::MARK_PAID).bind(order_id as i64).execute(self.writer()).await?.rows_affected();
        if marked == 1 {
            return Ok(true);
        }
        let status: Option<String> =
            sqlx::query_scalar(sql::ORDER_STATUS).bind(order_id as i64).fetch_optional(self.writer()).await?;
        match status {
            None => Err(ShopError::UnknownOrder(order_id)),
            Some(status) => Ok(status == "paid"),
        }
    }
}
