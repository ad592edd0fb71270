//! The simulated storefront: orders coming in at a steady rate, most of them paid, and a coupon
//! campaign issued in two runs while they do.

use std::error::Error;
use std::time::{Duration, Instant, SystemTime};

use preheat::postgres::{NewTask, Postgres};
use preheat::{Completion, Flow, Runtime};
use shop_tasks::{
    CampaignProgress, CloseUnpaid, Hold, IssueCampaign, NewOrder, OrderCreated, Shop, close_key, close_unpaid,
    issue_campaign, notify_payment, order_created, reserve_stock, schedule_close, sync_logistics,
};
use tokio::time::MissedTickBehavior;

use crate::options::Options;

/// SKUs on sale.
pub(crate) const SKUS: u32 = 50;
/// Items of each SKU on the shelf at the start: fewer than the orders ask for, so some find the
/// shelf empty and the reservation's never-oversell condition is exercised.
pub(crate) const ITEMS_PER_SKU: u32 = 60;
/// Buyers.
const USERS: u64 = 5_000;
/// The coupon campaign.
pub(crate) const CAMPAIGN: &str = "black-friday";
/// Users per committed coupon batch.
pub(crate) const COUPON_BATCH: u32 = 500;

/// Stocks the shelves and creates the coupon campaign.
pub(crate) async fn seed(storefront: &Shop, options: &Options) -> Result<(), Box<dyn Error>> {
    for sku in 0..SKUS {
        storefront.stock_sku(sku, ITEMS_PER_SKU, 1000 + sku * 10).await?;
    }
    storefront.create_campaign(CAMPAIGN, options.campaign_users, COUPON_BATCH).await?;
    Ok(())
}

/// What the traffic did, as the runtime in this process reported it.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    pub(crate) orders: u64,
    /// From the first order to the last flow's end.
    pub(crate) elapsed: Duration,
    /// The latest payment deadline of any order.
    pub(crate) last_deadline: Option<SystemTime>,
    pub(crate) shipped: u64,
    pub(crate) out_of_stock: u64,
    /// Closed (by `order.close_unpaid` or the sweep) before their items could be held.
    pub(crate) closed_first: u64,
    pub(crate) unpaid: u64,
    pub(crate) failed_flows: u64,
    /// The campaign's two runs: one stopped half-way, one resumed.
    pub(crate) coupon_runs: Vec<CampaignProgress>,
}

/// Where the traffic's tasks go: the runtime in this process, or the task table on PostgreSQL.
pub(crate) trait Tasks {
    /// What an order's flow gives back.
    type Flow;
    /// What a run of the coupon campaign gives back.
    type CampaignRun;
    async fn order_flow(&self, order: OrderCreated) -> Result<Self::Flow, Box<dyn Error>>;
    /// The order's close at its deadline, `order.close_unpaid`.
    async fn close_at_deadline(&self, order: &NewOrder) -> Result<(), Box<dyn Error>>;
    /// The order is paid: its close is not needed any more.
    fn cancel_close(&self, order_id: u64);
    /// Closes scheduled and not run yet, that this side knows of.
    fn closes_waiting(&self) -> usize;
    async fn campaign_run(&self, campaign: IssueCampaign) -> Result<Self::CampaignRun, Box<dyn Error>>;
}

impl Tasks for Runtime {
    type Flow = Flow;
    type CampaignRun = Completion<issue_campaign>;

    async fn order_flow(&self, order: OrderCreated) -> Result<Flow, Box<dyn Error>> {
        Ok(self.submit_flow(order_created, order).await?)
    }

    async fn close_at_deadline(&self, order: &NewOrder) -> Result<(), Box<dyn Error>> {
        schedule_close(self, order)?;
        Ok(())
    }

    fn cancel_close(&self, order_id: u64) {
        self.cancel(close_key(order_id));
    }

    /// The shop's only delayed tasks are its closes.
    fn closes_waiting(&self) -> usize {
        self.delayed()
    }

    async fn campaign_run(&self, campaign: IssueCampaign) -> Result<Completion<issue_campaign>, Box<dyn Error>> {
        Ok(self.submit(issue_campaign, campaign).await?)
    }
}

/// A row in the task table: nothing comes back, the outcomes are read from the databases.
impl Tasks for Postgres {
    type Flow = ();
    type CampaignRun = ();

    async fn order_flow(&self, order: OrderCreated) -> Result<(), Box<dyn Error>> {
        self.submit(order_created, order).await?;
        Ok(())
    }

    /// A delayed row: it survives restarts, and whichever worker is up at the deadline runs it.
    async fn close_at_deadline(&self, order: &NewOrder) -> Result<(), Box<dyn Error>> {
        let delay = order.pay_by.duration_since(shop_tasks::clock::now()).unwrap_or_default();
        NewTask::new(close_unpaid, CloseUnpaid { order_id: order.id })
            .after(delay)
            .key(close_key(order.id))
            .submit(self)
            .await?;
        Ok(())
    }

    /// The task table has no cancel by key: the row runs at the deadline, finds the order paid
    /// and does nothing.
    fn cancel_close(&self, _order_id: u64) {}

    /// The workers run the delayed rows; waiting for them is `flows_finished`'s part.
    fn closes_waiting(&self) -> usize {
        0
    }

    async fn campaign_run(&self, campaign: IssueCampaign) -> Result<(), Box<dyn Error>> {
        self.submit(issue_campaign, campaign).await?;
        Ok(())
    }
}

/// What [`send`] sent.
#[derive(Debug)]
pub(crate) struct Sent<T: Tasks> {
    pub(crate) orders: u64,
    /// The first order's id: a database kept from an earlier run has orders before it.
    pub(crate) first_id: u64,
    /// Just before the first order.
    pub(crate) started: Instant,
    /// The latest payment deadline of any order.
    pub(crate) last_deadline: Option<SystemTime>,
    pub(crate) flows: Vec<T::Flow>,
    pub(crate) campaign_runs: Vec<T::CampaignRun>,
}

/// Places `rate × duration` orders at `rate` per second, each followed by its flow, and issues
/// the coupon campaign in two runs: one stopped after half its batches, a quarter of the way in,
/// and one resuming it, at 60 %. Not at the very start: the first runs of the order tasks are
/// what the report compares with their later runs, and queueing behind a batch job for the one
/// writing connection would measure the batch, not the cold start. Returns once everything is
/// submitted.
pub(crate) async fn send<T: Tasks>(tasks: &T, storefront: &Shop, options: &Options) -> Result<Sent<T>, Box<dyn Error>> {
    let mut rng = fastrand::Rng::with_seed(options.seed);
    let orders = (options.rate * options.duration.as_secs_f64()).round().max(1.0) as u64;
    let half_the_batches = options.campaign_users.div_ceil(u64::from(COUPON_BATCH)).div_ceil(2) as u32;
    let campaign = |max_batches| IssueCampaign { campaign: CAMPAIGN.to_owned(), max_batches };

    // A database kept from an earlier run has orders: number the new ones after them.
    let first_id = storefront.last_order_id().await? + 1;
    let started = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / options.rate));
    // A slow insert must not lower the rate: late ticks fire at once until caught up.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut sent = Sent {
        orders,
        first_id,
        started,
        last_deadline: None,
        flows: Vec::with_capacity(orders as usize),
        campaign_runs: Vec::new(),
    };
    for n in 1..=orders {
        ticks.tick().await;
        let order_id = first_id + n - 1;
        if n == orders / 4 {
            sent.campaign_runs.push(tasks.campaign_run(campaign(Some(half_the_batches))).await?);
        } else if n == orders * 3 / 5 {
            sent.campaign_runs.push(tasks.campaign_run(campaign(None)).await?);
        }
        let now = shop_tasks::clock::now();
        let pay_by = now + options.pay_within;
        let order = NewOrder {
            id: order_id,
            user_id: rng.u64(1..=USERS),
            sku: rng.u32(0..SKUS),
            quantity: rng.u32(1..=3),
            pay_by,
        };
        storefront.place_order(order).await?;
        tasks.close_at_deadline(&order).await?;
        if rng.f64() * 100.0 >= options.unpaid_percent {
            storefront.record_payment(order_id, now).await?;
            tasks.cancel_close(order_id);
        }
        sent.last_deadline = Some(pay_by);
        sent.flows.push(tasks.order_flow(OrderCreated { order_id }).await?);
    }
    Ok(sent)
}

/// Sends the traffic (see [`send`]) to the runtime in this process and reads back what every
/// flow and both campaign runs did. Returns when every flow and both runs have finished.
pub(crate) async fn run(rt: &Runtime, storefront: &Shop, options: &Options) -> Result<Traffic, Box<dyn Error>> {
    let sent = send(rt, storefront, options).await?;
    let mut traffic = Traffic { orders: sent.orders, last_deadline: sent.last_deadline, ..Traffic::default() };
    for flow in sent.flows {
        let report = flow.outcome().await;
        if !report.succeeded() {
            traffic.failed_flows += 1;
            continue;
        }
        let hold = report.output::<reserve_stock>().map(|reservation| reservation.hold);
        let paid = report.output::<notify_payment>().is_some_and(|notice| notice.paid);
        let shipped = report.output::<sync_logistics>().is_some_and(|shipment| shipment.shipped);
        traffic.shipped += u64::from(shipped);
        traffic.out_of_stock += u64::from(hold == Some(Hold::OutOfStock));
        traffic.closed_first += u64::from(hold == Some(Hold::OrderClosed));
        traffic.unpaid += u64::from(!paid);
    }
    for run in sent.campaign_runs {
        traffic.coupon_runs.push(run.await?);
    }
    traffic.elapsed = sent.started.elapsed();
    Ok(traffic)
}

/// Waits until every order past its deadline has been closed, by its own `order.close_unpaid` or
/// by the sweep `order.timeout_close`, and no close is still waiting to run (the sweep may close
/// an order a moment before its own close comes due); gives up `patience` after the last
/// deadline, leaving the audit to report what is still open.
pub(crate) async fn overdue_closed<T: Tasks>(
    tasks: &T,
    storefront: &Shop,
    last_deadline: Option<SystemTime>,
    patience: Duration,
) -> Result<Duration, Box<dyn Error>> {
    let started = Instant::now();
    let Some(last_deadline) = last_deadline else { return Ok(Duration::ZERO) };
    loop {
        let now = shop_tasks::clock::now();
        let audit = storefront.audit(now).await?;
        let settled = now >= last_deadline && audit.overdue_open == 0 && tasks.closes_waiting() == 0;
        if settled || now >= last_deadline + patience {
            return Ok(started.elapsed());
        }
        // Closes run at the deadlines, the sweep every second: 100 ms is fine-grained enough.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
