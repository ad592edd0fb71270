//! `price.sync`: refresh every SKU's price from the supplier's feed, on a schedule.

use std::time::SystemTime;

use preheat::task;
use serde::{Deserialize, Serialize};

use crate::ShopError;
use crate::run_times::timed;
use crate::shop::{Shop, shop, sql, unix_ms};

/// What one run of `price.sync` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricesSynced {
    /// The run's number, counted in the database.
    pub run: u64,
    /// SKUs repriced.
    pub skus: u32,
}

/// Reprices every SKU. Runs on its schedule (see `meta/price.yaml`).
#[task("price.sync")]
pub async fn sync_prices() -> Result<PricesSynced, ShopError> {
    let shop = shop()?;
    timed("price.sync", shop.sync_prices(crate::clock::now())).await
}

impl Shop {
    /// Reprices every SKU from the supplier's feed — here a formula of the SKU and the run, as
    /// the demo shop has no supplier — and records the run, in one transaction.
    pub async fn sync_prices(&self, at: SystemTime) -> Result<PricesSynced, ShopError> {
        let at = unix_ms(at);
        let mut tx = self.writer().begin_with("BEGIN IMMEDIATE").await?;
        let run: i64 = sqlx::query_scalar(sql::PRICE_RUN).bind(at).fetch_one(&mut *tx).await?;
        let skus = sqlx::query(sql::SYNC_PRICES).bind(run).bind(at).execute(&mut *tx).await?.rows_affected();
        sqlx::query(sql::PRICE_RUN_DONE).bind(run).bind(skus as i64).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(PricesSynced { run: run as u64, skus: skus as u32 })
    }
}
