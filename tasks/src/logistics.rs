//! `logistics.sync`: hand a paid order whose items are held to the carrier.

use std::time::SystemTime;

use preheat::task;
use serde::{Deserialize, Serialize};

use crate::ShopError;
use crate::inventory::{Hold, Reservation};
use crate::order::OrderPlaced;
use crate::payment::PaymentNotice;
use crate::run_times::timed;
use crate::shop::{Shop, shop, sql, unix_ms};

/// Output of `logistics.sync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// The order.
    pub order: OrderPlaced,
    /// Whether it shipped: only an order both paid and with its items held does.
    pub shipped: bool,
}

/// Ships the order once both `inventory.reserve` and `payment.notify` succeeded for it (its
/// `upstream` in `meta/logistics.yaml`), if it is paid and its items are held.
#[task("logistics.sync")]
pub async fn sync_logistics(input: (Reservation, PaymentNotice)) -> Result<Shipment, ShopError> {
    let (reservation, payment) = input;
    let order = reservation.order;
    if reservation.hold != Hold::Held || !payment.paid {
        return Ok(Shipment { order, shipped: false });
    }
    let shop = shop()?;
    timed("logistics.sync", shop.ship(order.order_id, crate::clock::now())).await?;
    Ok(Shipment { order, shipped: true })
}

impl Shop {
    /// Records the order's shipment; a second call for the same order changes nothing.
    pub async fn ship(&self, order_id: u64, at: SystemTime) -> Result<(), ShopError> {
        sqlx::query(sql::SHIP).bind(order_id as i64).bind(unix_ms(at)).execute(self.writer()).await?;
        Ok(())
    }
}
