//! The shop's background tasks, each an `async fn` with its YAML metadata in `meta/`.
//!
//! | task | what it does |
//! |---|---|
//! | `order.timeout_close` | [`close_unpaid`]: close an order unpaid past its deadline, release its stock |
//! | `inventory.reserve` | [`reserve_stock`]: reserve an order's items, never overselling |
//! | `coupon.issue_batch` | [`issue_batch`]: issue a campaign's coupons, once per user |
//!
//! The tasks work on the in-memory [`Shop`]. A binary that links this crate gets the tasks and
//! their metadata in its registry with no registration code.
#![warn(missing_docs, unreachable_pub, rust_2018_idioms)]

mod coupon;
mod inventory;
mod order;
mod store;

pub use coupon::{CouponError, IssueBatch, Issued, issue_batch};
pub use inventory::{InventoryError, Reservation, Reserve, reserve_stock};
pub use order::{CloseOrder, Closed, OrderError, close_unpaid};
pub use store::{Audit, Order, OrderStatus, Shop, Stock};

preheat::metadata!("meta");
