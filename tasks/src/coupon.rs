//! `coupon.batch_issue`: issue a campaign's coupons in batches, exactly once per user.

use preheat::task;
use serde::{Deserialize, Serialize};

use crate::ShopError;
use crate::run_times::timed;
use crate::shop::{Shop, shop, sql, unix_ms};

/// Input of `coupon.batch_issue`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueCampaign {
    /// The campaign, created with [`Shop::create_campaign`].
    pub campaign: String,
    /// Stop after this many batches, to spread a large campaign over several runs; `None` runs
    /// to the end.
    pub max_batches: Option<u32>,
}

/// What one run of `coupon.batch_issue` did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignProgress {
    /// Batches committed by this run.
    pub batches: u32,
    /// Coupons issued by this run.
    pub issued: u64,
    /// The campaign's resume point after this run: users below it have their coupon.
    pub next_user: u64,
    /// Whether every user of the campaign has the coupon.
    pub finished: bool,
}

/// A campaign as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Campaign {
    /// Users `1..=users` get the coupon.
    pub users: u64,
    /// The resume point: users below it have their coupon.
    pub next_user: u64,
}

impl Campaign {
    /// Whether every user of the campaign has the coupon.
    pub fn finished(&self) -> bool {
        self.next_user > self.users
    }
}

/// Issues the campaign's coupons from its resume point on, one committed batch at a time.
#[task("coupon.batch_issue")]
pub async fn issue_campaign(input: IssueCampaign) -> Result<CampaignProgress, ShopError> {
    let shop = shop()?;
    timed("coupon.batch_issue", shop.issue_campaign(&input.campaign, input.max_batches)).await
}

impl Shop {
    /// Creates a campaign that gives a coupon to users `1..=users`, `batch_size` per batch.
    /// Creating it again changes nothing.
    pub async fn create_campaign(&self, name: &str, users: u64, batch_size: u32) -> Result<(), ShopError> {
        sqlx::query(
            "INSERT INTO campaigns (name, users, batch_size) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(users as i64)
        .bind(i64::from(batch_size))
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// The campaign as stored now.
    pub async fn campaign(&self, name: &str) -> Result<Campaign, ShopError> {
        let row: Option<(i64, i64, i64)> =
            sqlx::query_as(sql::CAMPAIGN).bind(name).fetch_optional(self.readers()).await?;
        let (users, _batch_size, next_user) = row.ok_or_else(|| ShopError::UnknownCampaign(name.to_owned()))?;
        Ok(Campaign { users: users as u64, next_user: next_user as u64 })
    }

    /// Issues batches of the campaign until it is finished or `max_batches` were committed.
    ///
    /// Each batch is one transaction: insert the coupons of users `[next_user, next_user +
    /// batch_size)`, then move the resume point past them. A run interrupted anywhere — killed,
    /// timed out, cancelled — loses at most its uncommitted batch, and the next run starts where
    /// the last commit left off. Should a batch still run twice (two runs at once, or a resume
    /// point restored from an old backup), the `(campaign, user_id)` primary key turns the
    /// repeated inserts into no-ops, and the resume point only moves if it is where this batch
    /// read it.
    pub async fn issue_campaign(
        &self,
        campaign: &str,
        max_batches: Option<u32>,
    ) -> Result<CampaignProgress, ShopError> {
        let mut progress = CampaignProgress::default();
        loop {
            let mut tx = self.writer().begin_with("BEGIN IMMEDIATE").await?;
            let row: Option<(i64, i64, i64)> =
                sqlx::query_as(sql::CAMPAIGN).bind(campaign).fetch_optional(&mut *tx).await?;
            let (users, batch_size, next_user) = row.ok_or_else(|| ShopError::UnknownCampaign(campaign.to_owned()))?;
            progress.next_user = next_user as u64;
            progress.finished = next_user > users;
            if progress.finished || max_batches.is_some_and(|max| progress.batches >= max) {
                return Ok(progress);
            }
            let last = (next_user + batch_size - 1).min(users);
            let issued = sqlx::query(sql::ISSUE_COUPONS)
                .bind(campaign)
                .bind(next_user)
                .bind(last)
                .bind(unix_ms(crate::clock::now()))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(sql::ADVANCE_CAMPAIGN).bind(campaign).bind(next_user).bind(last + 1).execute(&mut *tx).await?;
            tx.commit().await?;
            progress.batches += 1;
            progress.issued += issued;
        }
    }
}
