//! `coupon.issue_batch`: issue a campaign's coupons, at most one per user.

use preheat::task;
use serde::{Deserialize, Serialize};

use crate::store::Shop;

/// Input of `coupon.issue_batch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueBatch {
    /// The campaign, for example `black-friday`.
    pub campaign: String,
    /// Users to give the coupon to.
    pub users: Vec<u64>,
}

/// What `coupon.issue_batch` did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    /// Coupons issued by this run.
    pub issued: u32,
    /// Users who already had the campaign's coupon (a retried or repeated batch).
    pub already_had: u32,
}

/// Why `coupon.issue_batch` failed.
#[derive(Debug, thiserror::Error)]
pub enum CouponError {
    /// The batch names no campaign.
    #[error("the batch has an empty campaign name")]
    NoCampaign,
}

/// Issues the campaign's coupon to each user of the batch who does not have it yet, so a
/// retried batch never doubles a coupon.
#[task("coupon.issue_batch")]
pub async fn issue_batch(input: IssueBatch) -> Result<Issued, CouponError> {
    if input.campaign.is_empty() {
        return Err(CouponError::NoCampaign);
    }
    let shop = Shop::global();
    let mut result = Issued::default();
    for user in input.users {
        if shop.issue_coupon(&input.campaign, user) {
            result.issued += 1;
        } else {
            result.already_had += 1;
        }
    }
    Ok(result)
}
