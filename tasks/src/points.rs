//! `points.award`: loyalty points for a shipped order, once.

use preheat::task;
use serde::{Deserialize, Serialize};

use crate::ShopError;
use crate::logistics::Shipment;
use crate::run_times::timed;
use crate::shop::{Shop, shop, sql};

/// Points per item shipped.
pub const POINTS_PER_ITEM: u32 = 10;

/// Output of `points.award`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Awarded {
    /// Points given by this run: 0 for an order that did not ship or was awarded before.
    pub points: u32,
}

/// Awards the buyer of a shipped order its points.
#[task("points.award")]
pub async fn award_points(shipment: Shipment) -> Result<Awarded, ShopError> {
    if !shipment.shipped {
        return Ok(Awarded { points: 0 });
    }
    let shop = shop()?;
    let order = shipment.order;
    let points = order.quantity.saturating_mul(POINTS_PER_ITEM);
    let awarded = timed("points.award", shop.award(order.order_id, order.user_id, points)).await?;
    Ok(Awarded { points: if awarded { points } else { 0 } })
}

impl Shop {
    /// Gives `user_id` the order's points unless the order had them; `true` if given now.
    pub async fn award(&self, order_id: u64, user_id: u64, points: u32) -> Result<bool, ShopError> {
        let inserted = sqlx::query(sql::AWARD)
            .bind(order_id as i64)
            .bind(user_id as i64)
            .bind(i64::from(points))
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(inserted == 1)
    }
}
