//! The shop's background tasks, on an embedded SQLite database, each an `async fn` with its YAML
//! metadata in `meta/`.
//!
//! | task | what it does |
//! |---|---|
//! | `order.created` | [`order_created`]: loads a new order; starts its flow |
//! | `inventory.reserve` | [`reserve_stock`]: holds the order's items, never overselling (after `order.created`) |
//! | `inventory.reserve` v2 | [`reserve_stock_v2`]: the same, shelf first; 10 % of the orders (`variants`) |
//! | `payment.notify` | [`notify_payment`]: marks the order paid if paid in time (after `order.created`) |
//! | `logistics.sync` | [`sync_logistics`]: ships a paid order with its items held (after both) |
//! | `points.award` | [`award_points`]: the buyer's points for a shipped order, once (after `logistics.sync`) |
//! | `order.close_unpaid` | [`close_unpaid`]: at an order's deadline ([`schedule_close`]), closes it if unpaid and releases its items |
//! | `order.timeout_close` | [`close_overdue`]: every second, the same for every order past its deadline that is still open (the backstop) |
//! | `coupon.batch_issue` | [`issue_campaign`]: a campaign's coupons in batches, once per user, resumable |
//! | `price.sync` | [`sync_prices`]: every 2 s, reprices every SKU |
//!
//! Every task needs the `db` resource: a warmer opens the database named by [`use_database`],
//! opens every connection of its pool, prepares the tasks' statements and pages in their
//! tables before any task runs. The schema comes from the migrations embedded in this crate
//! ([`Shop::create`]).
//!
//! A binary that links this crate gets the tasks, their metadata and the warmer in its registry
//! with no registration code.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

mod audit;
pub mod clock;
mod coupon;
mod error;
mod inventory;
mod logistics;
mod order;
mod payment;
mod points;
mod price;
mod run_times;
mod shop;
mod storefront;

pub use audit::Audit;
pub use coupon::{Campaign, CampaignProgress, IssueCampaign, issue_campaign};
pub use error::ShopError;
pub use inventory::{Hold, Reservation, reserve_stock, reserve_stock_v2};
pub use logistics::{Shipment, sync_logistics};
pub use order::{
    CloseUnpaid, OrderCreated, OrderPlaced, Swept, close_key, close_overdue, close_unpaid, order_created,
    schedule_close,
};
pub use payment::{PaymentNotice, notify_payment};
pub use points::{Awarded, POINTS_PER_ITEM, award_points};
pub use price::{PricesSynced, sync_prices};
pub use run_times::run_times;
pub use shop::{READERS, Shop, shop, use_database};
pub use storefront::{NewOrder, OrderStatus, OrderTally, Stock};

preheat::metadata!("meta");
