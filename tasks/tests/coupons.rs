//! `coupon.batch_issue` issues each user's coupon exactly once: across runs that stop half-way,
//! a batch that fails before its commit, a lost resume point, and two runs at once.

mod common;

use std::time::SystemTime;

use common::test_shop;
use shop_tasks::{Shop, ShopError};

const USERS: u64 = 1000;
const BATCH: u32 = 100;

async fn assert_each_user_has_one_coupon(shop: &Shop) {
    let audit = shop.audit(SystemTime::now()).await.expect("the audit's queries run");
    assert_eq!((audit.coupons, audit.duplicate_coupons, audit.missing_coupons), (USERS, 0, 0));
}

#[tokio::test]
async fn a_campaign_stopped_half_way_resumes_where_it_stopped() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.create_campaign("spring", USERS, BATCH).await.unwrap();
    let first = shop.issue_campaign("spring", Some(5)).await.unwrap();
    assert_eq!((first.batches, first.issued, first.next_user, first.finished), (5, 500, 501, false));
    let audit = shop.audit(SystemTime::now()).await.unwrap();
    assert_eq!((audit.coupons, audit.missing_coupons), (500, 0));

    let stored = shop.campaign("spring").await.unwrap();
    assert_eq!((stored.users, stored.next_user, stored.finished()), (USERS, 501, false));

    let second = shop.issue_campaign("spring", None).await.unwrap();
    assert_eq!((second.batches, second.issued, second.next_user, second.finished), (5, 500, 1001, true));
    assert_each_user_has_one_coupon(shop).await;
    assert!(shop.campaign("spring").await.unwrap().finished());
    // Finished is finished.
    assert_eq!(shop.issue_campaign("spring", None).await.unwrap().issued, 0);
}

#[tokio::test]
async fn a_batch_that_fails_before_its_commit_leaves_nothing_and_is_redone() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.create_campaign("spring", USERS, BATCH).await.unwrap();
    // The process "dies" in the fourth batch, after its coupons were inserted, before the
    // resume point moved.
    sqlx::query(
        "CREATE TRIGGER crash_in_fourth_batch BEFORE UPDATE OF next_user ON campaigns WHEN NEW.next_user > 400 \
         BEGIN SELECT RAISE(ABORT, 'simulated crash'); END",
    )
    .execute(shop.writer())
    .await
    .unwrap();
    assert!(matches!(shop.issue_campaign("spring", None).await, Err(ShopError::Database(_))));
    let audit = shop.audit(SystemTime::now()).await.unwrap();
    assert_eq!((audit.coupons, audit.missing_coupons), (300, 0), "the fourth batch rolled back whole");

    sqlx::query("DROP TRIGGER crash_in_fourth_batch").execute(shop.writer()).await.unwrap();
    let resumed = shop.issue_campaign("spring", None).await.unwrap();
    assert_eq!((resumed.batches, resumed.issued), (7, 700));
    assert_each_user_has_one_coupon(shop).await;
}

#[tokio::test]
async fn a_lost_resume_point_issues_nothing_twice() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.create_campaign("spring", USERS, BATCH).await.unwrap();
    shop.issue_campaign("spring", None).await.unwrap();
    sqlx::query("UPDATE campaigns SET next_user = 1").execute(shop.writer()).await.unwrap();
    let again = shop.issue_campaign("spring", None).await.unwrap();
    assert_eq!((again.batches, again.issued, again.finished), (10, 0, true));
    assert_each_user_has_one_coupon(shop).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_at_once_issue_each_coupon_once() {
    let test = test_shop().await;
    let shop = test.shop.clone();
    shop.create_campaign("spring", USERS, BATCH).await.unwrap();
    let runs =
        [shop.clone(), shop.clone()].map(|shop| tokio::spawn(async move { shop.issue_campaign("spring", None).await }));
    let mut issued = 0;
    for run in runs {
        issued += run.await.unwrap().unwrap().issued;
    }
    assert_eq!(issued, USERS);
    assert_each_user_has_one_coupon(&shop).await;
}

#[tokio::test]
async fn an_unknown_campaign_is_an_error_that_names_it() {
    let test = test_shop().await;
    let error = test.shop.issue_campaign("nope", None).await.unwrap_err();
    assert_eq!(error.to_string(), "coupon campaign `nope` does not exist");
    assert!(matches!(test.shop.campaign("nope").await, Err(ShopError::UnknownCampaign(name)) if name == "nope"));
}

#[tokio::test]
async fn the_audit_sees_a_coupon_past_the_resume_point() {
    let test = test_shop().await;
    let shop = &test.shop;
    shop.create_campaign("spring", USERS, BATCH).await.unwrap();
    shop.issue_campaign("spring", Some(1)).await.unwrap();
    // A coupon inserted without moving the resume point, as a batch that forgot to would.
    sqlx::query("INSERT INTO coupons (campaign, user_id, issued_at_ms) VALUES ('spring', 500, 0)")
        .execute(shop.writer())
        .await
        .unwrap();
    let audit = shop.audit(SystemTime::now()).await.unwrap();
    assert_eq!((audit.stray_coupons, audit.missing_coupons), (1, 0));
    assert!(!audit.holds());
}
