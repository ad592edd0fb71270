//! `order.timeout_close`: close orders left unpaid past their deadline.

use std::time::SystemTime;

use preheat::{Ctx, task};
use serde::{Deserialize, Serialize};

use crate::store::Shop;

/// Input of `order.timeout_close`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseOrder {
    /// The order to check.
    pub order_id: u64,
}

/// What `order.timeout_close` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Closed {
    /// The order was unpaid and overdue: it is closed and `released` items went back on the shelf.
    Closed {
        /// Items released.
        released: u32,
    },
    /// The order was paid in time; nothing to do.
    AlreadyPaid,
    /// An earlier run closed it; nothing to do (runs are idempotent).
    AlreadyClosed,
    /// Its deadline has not passed; nothing to do yet.
    NotDue,
}

/// Why `order.timeout_close` failed.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    /// No such order.
    #[error("order {0} does not exist")]
    NotFound(u64),
}

/// Closes the order if it is still unpaid past its deadline, releasing its reserved stock in
/// the same step.
#[task("order.timeout_close")]
pub async fn close_unpaid(_ctx: Ctx, input: CloseOrder) -> Result<Closed, OrderError> {
    Shop::global().close_if_overdue(input.order_id, SystemTime::now()).ok_or(OrderError::NotFound(input.order_id))
}
