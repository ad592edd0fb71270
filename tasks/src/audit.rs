//! The shop's invariants, checked against the database.

use std::time::SystemTime;

use crate::ShopError;
use crate::shop::{Shop, unix_ms};

/// The shop's invariants: every field but `coupons` must be 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Audit {
    /// SKUs whose counts are inconsistent: more held than stocked, `available + reserved`
    /// different from what was stocked, or `reserved` different from the orders that hold items.
    pub oversold: u64,
    /// Orders still unpaid past their deadline.
    pub overdue_open: u64,
    /// Orders closed although the provider recorded their payment by the deadline.
    pub closed_though_paid: u64,
    /// Coupons given twice to one user of a campaign. The schema's primary key forbids it; the
    /// count is here so that a schema change that lost the key would show.
    pub duplicate_coupons: u64,
    /// Coupons outside their campaign's users, or at or past its resume point (which a batch
    /// moves in the transaction that inserts its coupons).
    pub stray_coupons: u64,
    /// Users below a campaign's resume point without its coupon.
    pub missing_coupons: u64,
    /// Shipments of orders that are not paid, or that hold no items.
    pub bad_shipments: u64,
    /// Points awarded for orders that did not ship.
    pub unearned_points: u64,
    /// Coupons issued, for the report.
    pub coupons: u64,
}

impl Audit {
    /// Whether every invariant holds.
    pub fn holds(&self) -> bool {
        // Every field but `coupons` zero; a field added later is checked without a change here.
        *self == Audit { coupons: self.coupons, ..Audit::default() }
    }
}

impl Shop {
    /// Checks the invariants as of `now`.
    pub async fn audit(&self, now: SystemTime) -> Result<Audit, ShopError> {
        // One read transaction, so every count sees the same state.
        let mut tx = self.readers().begin().await?;
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
        let oversold = count(
            "SELECT COUNT(*) FROM skus WHERE available < 0 OR reserved < 0 OR available + reserved != stocked \
             OR reserved != (SELECT COALESCE(SUM(quantity), 0) FROM orders WHERE orders.sku = skus.sku AND reserved = 1)",
        )
        .fetch_one(&mut *tx)
        .await?;
        let overdue_open = count("SELECT COUNT(*) FROM orders WHERE status = 'unpaid' AND pay_by_ms <= ?1")
            .bind(unix_ms(now))
            .fetch_one(&mut *tx)
            .await?;
        let closed_though_paid = count(
            "SELECT COUNT(*) FROM orders WHERE status = 'closed' AND EXISTS \
             (SELECT 1 FROM payments WHERE order_id = orders.id AND paid_at_ms <= orders.pay_by_ms)",
        )
        .fetch_one(&mut *tx)
        .await?;
        let stray_coupons = count(
            "SELECT COUNT(*) FROM coupons JOIN campaigns ON campaigns.name = coupons.campaign \
             WHERE coupons.user_id < 1 OR coupons.user_id > campaigns.users OR coupons.user_id >= campaigns.next_user",
        )
        .fetch_one(&mut *tx)
        .await?;
        let duplicate_coupons = count(
            "SELECT COUNT(*) - (SELECT COUNT(*) FROM (SELECT DISTINCT campaign, user_id FROM coupons)) FROM coupons",
        )
        .fetch_one(&mut *tx)
        .await?;
        let missing_coupons = count(
            "SELECT (SELECT COALESCE(SUM(next_user - 1), 0) FROM campaigns) \
             - (SELECT COUNT(*) FROM coupons JOIN campaigns ON campaigns.name = coupons.campaign \
                WHERE coupons.user_id >= 1 AND coupons.user_id < campaigns.next_user)",
        )
        .fetch_one(&mut *tx)
        .await?;
        let bad_shipments = count(
            "SELECT COUNT(*) FROM shipments JOIN orders ON orders.id = shipments.order_id \
             WHERE orders.status != 'paid' OR orders.reserved = 0",
        )
        .fetch_one(&mut *tx)
        .await?;
        let unearned_points =
            count("SELECT COUNT(*) FROM points WHERE order_id NOT IN (SELECT order_id FROM shipments)")
                .fetch_one(&mut *tx)
                .await?;
        let coupons = count("SELECT COUNT(*) FROM coupons").fetch_one(&mut *tx).await?;
        Ok(Audit {
            oversold: oversold as u64,
            overdue_open: overdue_open as u64,
            closed_though_paid: closed_though_paid as u64,
            duplicate_coupons: duplicate_coupons as u64,
            stray_coupons: stray_coupons as u64,
            missing_coupons: missing_coupons as u64,
            bad_shipments: bad_shipments as u64,
            unearned_points: unearned_points as u64,
            coupons: coupons as u64,
        })
    }
}
