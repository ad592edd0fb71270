//! The shop's data, in memory for now: orders, stock and issued coupons.
//!
//! The tasks reach it through [`Shop::global`]. A database and a `db` warmer replace it when the
//! shop moves onto SQLite; the task code keeps its shape.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use once_cell::sync::Lazy;

use crate::order::Closed;

/// An order's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    /// Created, waiting for payment until its deadline.
    Unpaid,
    /// Paid in time.
    Paid,
    /// Closed unpaid; its stock went back on the shelf.
    Closed,
}

/// One order of `quantity` items of one SKU.
#[derive(Clone, Debug)]
pub struct Order {
    /// Where it stands.
    pub status: OrderStatus,
    /// The SKU ordered.
    pub sku: u32,
    /// How many items.
    pub quantity: u32,
    /// Whether its items are reserved (taken off the shelf).
    pub reserved: bool,
    /// When an unpaid order is closed.
    pub pay_by: SystemTime,
}

/// Stock of one SKU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stock {
    /// Items on the shelf, free to reserve.
    pub available: u32,
    /// Items held by orders.
    pub reserved: u32,
    /// Items ever put on the shelf: `available + reserved` must always equal it.
    pub stocked: u32,
}

/// The shop's state.
#[derive(Debug, Default)]
pub struct Shop {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    orders: HashMap<u64, Order>,
    stock: HashMap<u32, Stock>,
    coupons: HashSet<(String, u64)>,
    coupon_issues: u64,
}

static GLOBAL: Lazy<Shop> = Lazy::new(Shop::default);

impl Shop {
    /// The process's shop, used by the tasks.
    pub fn global() -> &'static Shop {
        &GLOBAL
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts `available` items of `sku` on the shelf.
    pub fn stock_sku(&self, sku: u32, available: u32) {
        let mut state = self.state();
        let stock = state.stock.entry(sku).or_default();
        stock.available += available;
        stock.stocked += available;
    }

    /// Records a new unpaid order.
    pub fn place_order(&self, id: u64, sku: u32, quantity: u32, pay_by: SystemTime) {
        let order = Order { status: OrderStatus::Unpaid, sku, quantity, reserved: false, pay_by };
        self.state().orders.insert(id, order);
    }

    /// Marks an order paid, if it is still unpaid.
    pub fn pay(&self, id: u64) -> bool {
        match self.state().orders.get_mut(&id) {
            Some(order) if order.status == OrderStatus::Unpaid => {
                order.status = OrderStatus::Paid;
                true
            }
            _ => false,
        }
    }

    /// A copy of an order.
    pub fn order(&self, id: u64) -> Option<Order> {
        self.state().orders.get(&id).cloned()
    }

    /// A copy of a SKU's stock.
    pub fn stock(&self, sku: u32) -> Stock {
        self.state().stock.get(&sku).copied().unwrap_or_default()
    }

    /// Reserves the order's items if the shelf has them all: the check and the update happen
    /// under one lock, so concurrent orders can never oversell. `None` if the order is unknown.
    pub(crate) fn reserve(&self, id: u64) -> Option<Result<u32, u32>> {
        let mut state = self.state();
        let State { orders, stock, .. } = &mut *state;
        let order = orders.get_mut(&id)?;
        let stock = stock.entry(order.sku).or_default();
        if order.reserved {
            return Some(Ok(stock.available));
        }
        if stock.available < order.quantity {
            return Some(Err(stock.available));
        }
        stock.available -= order.quantity;
        stock.reserved += order.quantity;
        order.reserved = true;
        Some(Ok(stock.available))
    }

    /// Closes an unpaid order past its deadline and releases its reservation, in one step.
    pub(crate) fn close_if_overdue(&self, id: u64, now: SystemTime) -> Option<Closed> {
        let mut state = self.state();
        let State { orders, stock, .. } = &mut *state;
        let order = orders.get_mut(&id)?;
        Some(match order.status {
            OrderStatus::Paid => Closed::AlreadyPaid,
            OrderStatus::Closed => Closed::AlreadyClosed,
            OrderStatus::Unpaid if now < order.pay_by => Closed::NotDue,
            OrderStatus::Unpaid => {
                order.status = OrderStatus::Closed;
                let released = if order.reserved { order.quantity } else { 0 };
                if order.reserved {
                    let stock = stock.entry(order.sku).or_default();
                    stock.reserved -= released;
                    stock.available += released;
                    order.reserved = false;
                }
                Closed::Closed { released }
            }
        })
    }

    /// Gives `user` the campaign's coupon unless they have it; `true` if issued now.
    pub(crate) fn issue_coupon(&self, campaign: &str, user: u64) -> bool {
        let mut state = self.state();
        let issued = state.coupons.insert((campaign.to_owned(), user));
        if issued {
            state.coupon_issues += 1;
        }
        issued
    }

    /// Checks the shop's invariants.
    pub fn audit(&self) -> Audit {
        let state = self.state();
        let now = SystemTime::now();
        let mut reserved_by_sku: HashMap<u32, u32> = HashMap::new();
        for order in state.orders.values().filter(|o| o.reserved) {
            *reserved_by_sku.entry(order.sku).or_default() += order.quantity;
        }
        Audit {
            oversold: state
                .stock
                .iter()
                .filter(|(sku, stock)| {
                    reserved_by_sku.get(sku).copied().unwrap_or(0) != stock.reserved
                        || stock.available + stock.reserved != stock.stocked
                })
                .count(),
            overdue_open: state.orders.values().filter(|o| o.status == OrderStatus::Unpaid && o.pay_by <= now).count(),
            coupons: state.coupons.len() as u64,
            duplicate_coupons: state.coupon_issues - state.coupons.len() as u64,
        }
    }
}

/// The shop's invariants, each of which must be 0 but `coupons`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audit {
    /// SKUs with more items held than stocked, or whose counts disagree with their orders.
    pub oversold: usize,
    /// Unpaid orders past their deadline.
    pub overdue_open: usize,
    /// Coupons held.
    pub coupons: u64,
    /// Coupons issued twice to the same user.
    pub duplicate_coupons: u64,
}
