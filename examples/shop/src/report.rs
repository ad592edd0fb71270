//! The report the main job prints: start-up, per-task latency, throughput, invariants.

use std::collections::BTreeMap;
use std::time::Duration;

use shop_tasks::Audit;

use crate::durable::DurableTraffic;
use crate::traffic::{COUPON_BATCH, Traffic};

/// One task's run times: its first run beside the runs after it.
#[derive(Debug)]
pub(crate) struct Latency {
    pub(crate) task: String,
    pub(crate) runs: usize,
    pub(crate) first: Duration,
    /// Of the runs after the first; `None` with a single run.
    pub(crate) steady: Option<Steady>,
}

#[derive(Debug)]
pub(crate) struct Steady {
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    /// Share of the later runs faster than the first, in percent: a single first run is a
    /// noisy sample, and where it falls among the later runs says whether it was unusually slow.
    pub(crate) first_rank: f64,
}

impl Latency {
    /// Each task's latencies from its run times, in the order they finished.
    pub(crate) fn of(run_times: BTreeMap<impl Into<String>, Vec<Duration>>) -> Vec<Latency> {
        run_times
            .into_iter()
            .filter_map(|(task, runs)| {
                let task = task.into();
                let (&first, later) = runs.split_first()?;
                let mut later = later.to_vec();
                later.sort_unstable();
                let steady = (!later.is_empty()).then(|| Steady {
                    p50: percentile(&later, 50.0),
                    p99: percentile(&later, 99.0),
                    first_rank: later.partition_point(|&run| run < first) as f64 * 100.0 / later.len() as f64,
                });
                Some(Latency { task, runs: runs.len(), first, steady })
            })
            .collect()
    }

    /// The first run's time over the steady median.
    pub(crate) fn first_vs_steady(&self) -> Option<f64> {
        let steady = self.steady.as_ref()?;
        Some(self.first.as_secs_f64() / steady.p50.as_secs_f64().max(1e-9))
    }
}

/// The nearest-rank percentile of sorted, non-empty samples.
fn percentile(sorted: &[Duration], percent: f64) -> Duration {
    let rank = (percent / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A process that ran tasks: its start and its tasks' run times.
#[derive(Debug)]
pub(crate) struct Process {
    /// A worker's name; `None` for this process, when the tasks run in it.
    pub(crate) name: Option<String>,
    /// Its runtime's start, until ready.
    pub(crate) startup: Duration,
    /// A worker's time from its spawn until it said it was ready.
    pub(crate) after_spawn: Option<Duration>,
    /// Each start-up phase and how long it took.
    pub(crate) phases: Vec<(String, Duration)>,
    pub(crate) latencies: Vec<Latency>,
}

/// What the traffic did, and where that was learnt.
#[derive(Debug)]
pub(crate) enum Work<'a> {
    /// From each flow's report and each campaign run's output, which the runtime in this process
    /// handed back.
    InProcess(&'a Traffic),
    /// From the databases after the run: a row of the task table keeps no output.
    Durable(&'a DurableTraffic),
}

impl Work<'_> {
    fn elapsed(&self) -> Duration {
        match self {
            Work::InProcess(traffic) => traffic.elapsed,
            Work::Durable(traffic) => traffic.elapsed,
        }
    }
}

/// Everything the report shows.
#[derive(Debug)]
pub(crate) struct Report<'a> {
    pub(crate) database: &'a std::path::Path,
    /// Where the tasks ran when not in this process.
    pub(crate) task_table: Option<String>,
    pub(crate) processes: Vec<Process>,
    pub(crate) work: Work<'a>,
    pub(crate) tasks_run: u64,
    pub(crate) closing_wait: Duration,
    pub(crate) dead_letters: usize,
    pub(crate) audit: Audit,
    /// The tasks with variants side by side, when this process ran their jobs.
    pub(crate) variants: preheat::variants::VariantsReport,
}

impl Report<'_> {
    pub(crate) fn print(&self) {
        println!("database: {}", self.database.display());
        if let Some(task_table) = &self.task_table {
            println!("tasks: {task_table}");
        }
        for process in &self.processes {
            match (&process.name, process.after_spawn) {
                (Some(name), Some(after_spawn)) => println!(
                    "{name}: start-up {:.2?} until ready; {after_spawn:.2?} from its spawn (process start and \
                     connection to the task table included)",
                    process.startup
                ),
                (Some(name), None) => println!("{name}: start-up {:.2?} until ready", process.startup),
                (None, _) => println!("start-up: {:.2?} until ready", process.startup),
            }
            for (name, took) in &process.phases {
                println!("  {name:<22} {took:>10.2?}");
            }
        }

        match &self.work {
            Work::InProcess(traffic) => print_traffic(traffic),
            Work::Durable(traffic) => print_durable_traffic(traffic),
        }

        let per_worker =
            if self.processes.iter().any(|process| process.name.is_some()) { ", in each worker process" } else { "" };
        println!("task run times (body, database work included): first run beside the later runs{per_worker}");
        println!(
            "  {:<22} {:>6} {:>10} {:>10} {:>10} {:>10} {:>16}",
            "task", "runs", "first", "p50", "p99", "first/p50", "later runs faster"
        );
        for process in &self.processes {
            if let Some(name) = &process.name {
                println!("  {name}");
            }
            for latency in &process.latencies {
                print_latency(latency);
            }
        }
        let elapsed = self.work.elapsed();
        let counted = match self.work {
            Work::InProcess(_) => "tasks run",
            Work::Durable(_) => "tasks completed in the table",
        };
        println!(
            "throughput: {} {counted} in {:.2?} ({:.0} tasks/s); dead letters: {}",
            self.tasks_run,
            elapsed,
            self.tasks_run as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
            self.dead_letters
        );
        match self.audit.overdue_open {
            0 => println!("overdue orders: all closed {:.2?} after the traffic ended", self.closing_wait),
            open => println!("overdue orders: {open} still open {:.2?} after the traffic ended", self.closing_wait),
        }

        let audit = &self.audit;
        print_variants(&self.variants);
        println!("invariants (checked in the database): {}", if audit.holds() { "all hold" } else { "BROKEN" });
        println!(
            "  coupons issued {}, missing {}, duplicated {}, outside their campaign's progress {}",
            audit.coupons, audit.missing_coupons, audit.duplicate_coupons, audit.stray_coupons
        );
        println!("  orders closed although paid in time {}", audit.closed_though_paid);
        println!(
            "  shipments of unpaid or unheld orders {}, points without a shipment {}",
            audit.bad_shipments, audit.unearned_points
        );
        println!("oversold={}", audit.oversold);
        println!("overdue_open={}", audit.overdue_open);
        println!("duplicate_coupons={}", audit.duplicate_coupons);
        println!("tasks_run={}", self.tasks_run);
        let worst = self
            .processes
            .iter()
            .flat_map(|process| &process.latencies)
            .filter_map(Latency::first_vs_steady)
            .fold(0.0, f64::max);
        println!("worst_first_vs_steady={worst:.2}");
    }
}

fn print_variants(report: &preheat::variants::VariantsReport) {
    let Some(reserve) = report.tasks.iter().find(|task| task.task == "inventory.reserve") else { return };
    let runs: u64 = reserve.variants.iter().map(|variant| variant.count).sum();
    if runs == 0 {
        return;
    }
    println!("variants (each variant's pool in this process, side by side):");
    print!("{report}");
    if let Some(v2) = reserve.variants.iter().find(|variant| variant.name == "v2") {
        println!("reserve_v2_share={:.3}", v2.count as f64 / runs as f64);
    }
}

fn print_traffic(traffic: &Traffic) {
    println!(
        "traffic: {} orders in {:.2?}: {} shipped, {} not paid, {} found the shelf short, {} closed before \
         their items were held, {} flows failed",
        traffic.orders,
        traffic.elapsed,
        traffic.shipped,
        traffic.unpaid,
        traffic.out_of_stock,
        traffic.closed_first,
        traffic.failed_flows
    );
    for (number, run) in traffic.coupon_runs.iter().enumerate() {
        println!(
            "coupon.batch_issue run {}: {} batches of {COUPON_BATCH}, {} coupons, resume point now user {}{}",
            number + 1,
            run.batches,
            run.issued,
            run.next_user,
            if run.finished { ", campaign finished" } else { ", stopped (batch budget)" }
        );
    }
}

fn print_durable_traffic(traffic: &DurableTraffic) {
    let tally = &traffic.tally;
    println!(
        "traffic: {} orders in {:.2?} (until no task of their flows or the campaign was left in the table): \
         {} shipped, {} not paid, {} paid but found the shelf short, {} flows stopped by a dead task",
        traffic.orders,
        traffic.elapsed,
        tally.shipped,
        tally.orders - tally.paid,
        tally.paid_unheld,
        traffic.failed_flows
    );
    let campaign = &traffic.campaign;
    println!(
        "coupon.batch_issue: {} runs completed; the campaign as stored: resume point now user {} of {}{}",
        traffic.campaign_runs,
        campaign.next_user,
        campaign.users,
        if campaign.finished() { ", campaign finished" } else { ", not finished" }
    );
}

fn print_latency(latency: &Latency) {
    let (p50, p99, rank) = match &latency.steady {
        Some(steady) => {
            (format!("{:.2?}", steady.p50), format!("{:.2?}", steady.p99), format!("{:.0}%", steady.first_rank))
        }
        None => ("-".into(), "-".into(), "-".into()),
    };
    let ratio = latency.first_vs_steady().map_or_else(|| "-".into(), |ratio| format!("{ratio:.2}"));
    println!(
        "  {:<22} {:>6} {:>10} {p50:>10} {p99:>10} {ratio:>10} {rank:>16}",
        latency.task,
        latency.runs,
        format!("{:.2?}", latency.first)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&value| Duration::from_millis(value)).collect()
    }

    #[test]
    fn the_first_run_is_compared_with_the_runs_after_it() {
        let latencies = Latency::of(BTreeMap::from([("a", ms(&[30, 10, 20, 10, 40])), ("b", ms(&[5]))]));
        let a = &latencies[0];
        let steady = a.steady.as_ref().unwrap();
        assert_eq!((a.runs, a.first, steady.p50, steady.p99), (5, ms(&[30])[0], ms(&[10])[0], ms(&[40])[0]));
        assert_eq!(steady.first_rank, 75.0, "three of the four later runs were faster");
        assert_eq!(a.first_vs_steady(), Some(3.0));
        assert!(latencies[1].steady.is_none() && latencies[1].first_vs_steady().is_none());
    }
}
