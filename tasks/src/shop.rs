//! The shop's database: a pool of SQLite connections, its schema, and the `db` warmer.
//!
//! The tasks reach the database through [`shop`], which the `db` warmer opens at start-up from
//! the path given to [`use_database`]. Opening it there, not on a task's first run, is the point:
//! the warmer opens every connection of the pool, pings it, prepares the statements the tasks
//! run and reads the tables they read, so the first run of a task costs what a later run does.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use preheat::warmup;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Executor, SqlitePool};

use crate::ShopError;

/// Connections that read. SQLite runs one writer at a time, so the shop writes through one
/// connection of its own and reads through these.
pub const READERS: u32 = 4;

/// The statements the tasks run, prepared on every connection by the warmer. Each task module
/// names its statements from here, so a statement added to a task cannot miss the warm-up.
pub(crate) mod sql {
    pub(crate) const ORDER_PLACED: &str = "SELECT user_id, sku, quantity FROM orders WHERE id = ?1";
    pub(crate) const HOLD_ORDER: &str = "UPDATE orders SET reserved = 1 \
         WHERE id = ?1 AND reserved = 0 AND status != 'closed' RETURNING sku, quantity";
    pub(crate) const ORDER_HOLD_STATE: &str = "SELECT reserved, status FROM orders WHERE id = ?1";
    /// `inventory.reserve` v2: the shelf first, read through the order in one statement.
    pub(crate) const TAKE_STOCK_FOR_ORDER: &str = "UPDATE skus SET available = available - o.quantity, \
         reserved = skus.reserved + o.quantity \
         FROM (SELECT sku, quantity FROM orders WHERE id = ?1 AND reserved = 0 AND status != 'closed') AS o \
         WHERE skus.sku = o.sku AND skus.available >= o.quantity RETURNING available";
    pub(crate) const MARK_RESERVED: &str = "UPDATE orders SET reserved = 1 WHERE id = ?1";
    pub(crate) const TAKE_STOCK: &str = "UPDATE skus SET available = available - ?2, reserved = reserved + ?2 \
         WHERE sku = ?1 AND available >= ?2 RETURNING available";
    pub(crate) const MARK_PAID: &str = "UPDATE orders SET status = 'paid' WHERE id = ?1 AND status = 'unpaid' \
         AND EXISTS (SELECT 1 FROM payments WHERE order_id = ?1 AND paid_at_ms <= orders.pay_by_ms)";
    pub(crate) const ORDER_STATUS: &str = "SELECT status FROM orders WHERE id = ?1";
    pub(crate) const SHIP: &str =
        "INSERT INTO shipments (order_id, synced_at_ms) VALUES (?1, ?2) ON CONFLICT (order_id) DO NOTHING";
    pub(crate) const AWARD: &str =
        "INSERT INTO points (order_id, user_id, points) VALUES (?1, ?2, ?3) ON CONFLICT (order_id) DO NOTHING";
    pub(crate) const RELEASE_OVERDUE: &str = "UPDATE skus SET available = available + held.quantity, \
         reserved = reserved - held.quantity \
         FROM (SELECT sku, SUM(quantity) AS quantity FROM orders \
               WHERE status = 'unpaid' AND reserved = 1 AND pay_by_ms <= ?1 AND (?2 IS NULL OR id = ?2) \
               GROUP BY sku) AS held \
         WHERE skus.sku = held.sku";
    pub(crate) const SETTLE_OVERDUE_PAID: &str = "UPDATE orders SET status = 'paid' \
         WHERE status = 'unpaid' AND pay_by_ms <= ?1 AND (?2 IS NULL OR id = ?2) AND EXISTS \
         (SELECT 1 FROM payments WHERE order_id = orders.id AND paid_at_ms <= orders.pay_by_ms)";
    pub(crate) const OVERDUE: &str = "SELECT COUNT(*), COALESCE(SUM(quantity * reserved), 0) FROM orders \
         WHERE status = 'unpaid' AND pay_by_ms <= ?1 AND (?2 IS NULL OR id = ?2)";
    pub(crate) const CLOSE_OVERDUE: &str = "UPDATE orders SET status = 'closed', reserved = 0, closed_at_ms = ?1 \
         WHERE status = 'unpaid' AND pay_by_ms <= ?1 AND (?2 IS NULL OR id = ?2)";
    pub(crate) const CAMPAIGN: &str = "SELECT users, batch_size, next_user FROM campaigns WHERE name = ?1";
    pub(crate) const ISSUE_COUPONS: &str = "WITH RECURSIVE batch (user_id) AS \
         (SELECT ?2 UNION ALL SELECT user_id + 1 FROM batch WHERE user_id < ?3) \
         INSERT INTO coupons (campaign, user_id, issued_at_ms) SELECT ?1, user_id, ?4 FROM batch WHERE true \
         ON CONFLICT (campaign, user_id) DO NOTHING";
    pub(crate) const ADVANCE_CAMPAIGN: &str = "UPDATE campaigns SET next_user = ?3 WHERE name = ?1 AND next_user = ?2";
    pub(crate) const PRICE_RUN: &str = "INSERT INTO price_syncs (at_ms, skus) VALUES (?1, 0) RETURNING run";
    pub(crate) const SYNC_PRICES: &str =
        "UPDATE skus SET price_cents = 900 + (sku * 37 + ?1 * 11) % 200, price_synced_at_ms = ?2";
    pub(crate) const PRICE_RUN_DONE: &str = "UPDATE price_syncs SET skus = ?2 WHERE run = ?1";

    /// Every statement above.
    pub(crate) const HOT: &[&str] = &[
        ORDER_PLACED,
        HOLD_ORDER,
        ORDER_HOLD_STATE,
        TAKE_STOCK_FOR_ORDER,
        MARK_RESERVED,
        TAKE_STOCK,
        MARK_PAID,
        ORDER_STATUS,
        SHIP,
        AWARD,
        SETTLE_OVERDUE_PAID,
        OVERDUE,
        RELEASE_OVERDUE,
        CLOSE_OVERDUE,
        CAMPAIGN,
        ISSUE_COUPONS,
        ADVANCE_CAMPAIGN,
        PRICE_RUN,
        SYNC_PRICES,
        PRICE_RUN_DONE,
    ];

    /// Reads every table the tasks read, so their pages are in each connection's cache.
    pub(crate) const TOUCH_TABLES: &str = "SELECT (SELECT COUNT(*) FROM skus) + (SELECT COUNT(*) FROM orders) \
         + (SELECT COUNT(*) FROM payments) + (SELECT COUNT(*) FROM campaigns)";
}

/// The shop's database: one connection that writes, [`READERS`] that read.
///
/// Why one writer: SQLite lets one connection write at a time, and a second connection that
/// wants to write while the first does is put to sleep by SQLite's busy handler, for 1 ms at
/// first and longer after — measured here, that sleep made a task's p99 ten times its p50.
/// Writers of this process instead queue for the one writing connection, in order and without
/// sleeping, and the busy handler is left for other processes.
#[derive(Clone, Debug)]
pub struct Shop {
    writer: SqlitePool,
    readers: SqlitePool,
}

impl Shop {
    /// Opens the database at `path`, creating the file if it does not exist, and brings its
    /// schema up to date with the migrations embedded in this crate (`tasks/migrations`).
    pub async fn create(path: &Path) -> Result<Shop, ShopError> {
        let shop = Shop::open(path).await?;
        sqlx::migrate!("./migrations")
            .run(&shop.writer)
            .await
            .map_err(|source| ShopError::Migrate { path: path.to_owned(), source })?;
        Ok(shop)
    }

    /// Opens the writing connection and the [`READERS`] reading ones to the database at `path`,
    /// every one of them opened now and kept for the pools' life: a pool that opens connections
    /// on demand or recycles them hands some task a cold connection in the middle of the day.
    pub async fn open(path: &Path) -> Result<Shop, ShopError> {
        // The writer first: it creates the file and switches it to WAL mode.
        let writer = Shop::pool(path, 1).await?;
        let readers = Shop::pool(path, READERS).await?;
        Ok(Shop { writer, readers })
    }

    async fn pool(path: &Path, connections: u32) -> Result<SqlitePool, ShopError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // Readers do not block the writer, and a commit need not wait for the disk.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        SqlitePoolOptions::new()
            .min_connections(connections)
            .max_connections(connections)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(|source| ShopError::Open { path: path.to_owned(), source })
    }

    /// Warms every connection: a ping, every statement the tasks run prepared into the
    /// connection's statement cache, the tables the tasks read paged in, and on the writer an
    /// empty write transaction, so that the first task's write is not the connection's first.
    pub async fn warm(&self) -> Result<(), ShopError> {
        self.writer.begin_with("BEGIN IMMEDIATE").await?.commit().await?;
        // Holding all connections at once is what makes each one a different connection.
        let mut connections = vec![self.writer.acquire().await?];
        for _ in 0..READERS {
            connections.push(self.readers.acquire().await?);
        }
        for connection in &mut connections {
            connection.ping().await?;
            for statement in sql::HOT {
                connection.prepare(statement).await?;
            }
            sqlx::query_scalar::<_, i64>(sql::TOUCH_TABLES).fetch_one(&mut **connection).await?;
        }
        Ok(())
    }

    /// The writing connection, for the application's own writes.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The reading connections, for the application's own reads.
    pub fn readers(&self) -> &SqlitePool {
        &self.readers
    }

    /// Closes every connection, waiting for those in use to come back.
    pub async fn close(&self) {
        self.writer.close().await;
        self.readers.close().await;
    }
}

/// Where the `db` warmer opens the database; set once, before the runtime starts.
static DATABASE: OnceLock<PathBuf> = OnceLock::new();
/// The database the tasks use, opened and warmed by the `db` warmer.
static SHOP: OnceLock<Shop> = OnceLock::new();

/// Tells the `db` warmer which database to open. Call it once, before `Runtime::start`; a second
/// call with another path fails, since the tasks may already be using the first.
pub fn use_database(path: impl Into<PathBuf>) -> Result<(), ShopError> {
    let path = path.into();
    let set = DATABASE.get_or_init(|| path.clone());
    if *set == path { Ok(()) } else { Err(ShopError::OtherDatabase { configured: set.clone(), requested: path }) }
}

/// The database the tasks use, once the `db` warmer has opened it.
pub fn shop() -> Result<&'static Shop, ShopError> {
    SHOP.get().ok_or(ShopError::NotOpen)
}

/// Opens and warms the database named by [`use_database`]. Every task of this crate lists
/// `resources: [db]`, so none runs before this has succeeded.
#[warmup("db", timeout = "10s", max_attempts = 3)]
async fn open_database() -> Result<(), ShopError> {
    let path = DATABASE.get().ok_or(ShopError::NoDatabase)?;
    let shop = Shop::open(path).await?;
    shop.warm().await?;
    // A retried warm-up after a failed one may find nothing set; a second `start` in the same
    // process finds the pool of the first, which is the same database.
    let _ = SHOP.set(shop);
    Ok(())
}

/// `at` in the Unix milliseconds the schema stores.
pub(crate) fn unix_ms(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}
