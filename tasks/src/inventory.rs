//! `inventory.reserve`: take an order's items off the shelf, never more than there are.

use preheat::task;
use serde::{Deserialize, Serialize};

use crate::store::Shop;

/// Input of `inventory.reserve`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reserve {
    /// The order whose items to reserve.
    pub order_id: u64,
}

/// What `inventory.reserve` did. An empty shelf is a normal outcome, so it is not an error and
/// is not retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reservation {
    /// Reserved (or already reserved by an earlier run); `remaining` items are left.
    Reserved {
        /// Items left on the shelf.
        remaining: u32,
    },
    /// Not enough items: nothing was reserved.
    OutOfStock {
        /// Items on the shelf.
        available: u32,
    },
}

/// Why `inventory.reserve` failed.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// No such order.
    #[error("order {0} does not exist")]
    UnknownOrder(u64),
}

/// Reserves the order's items if the shelf has all of them.
#[task("inventory.reserve")]
pub async fn reserve_stock(input: Reserve) -> Result<Reservation, InventoryError> {
    match Shop::global().reserve(input.order_id) {
        Some(Ok(remaining)) => Ok(Reservation::Reserved { remaining }),
        Some(Err(available)) => Ok(Reservation::OutOfStock { available }),
        None => Err(InventoryError::UnknownOrder(input.order_id)),
    }
}
