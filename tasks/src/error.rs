//! What can go wrong in the shop's tasks and its database.

use std::path::PathBuf;

/// An error of the shop's tasks or database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShopError {
    /// A query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database file could not be opened.
    #[error("cannot open the shop's database `{}`: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("cannot migrate the shop's database `{}`: {source}", path.display())]
    Migrate {
        /// The file.
        path: PathBuf,
        /// Why.
        source: sqlx::migrate::MigrateError,
    },
    /// The `db` warmer ran before [`use_database`](crate::use_database) named a database.
    #[error("no database to open: call `shop_tasks::use_database(path)` before starting the runtime")]
    NoDatabase,
    /// A task ran before the `db` warmer opened the database.
    #[error("the shop's database is not open yet: the `db` warmer has not finished")]
    NotOpen,
    /// [`use_database`](crate::use_database) was called with a second, different path.
    #[error("the shop already uses `{}`; it cannot switch to `{}`", configured.display(), requested.display())]
    OtherDatabase {
        /// The path set first.
        configured: PathBuf,
        /// The path asked for now.
        requested: PathBuf,
    },
    /// No order has this id.
    #[error("order {0} does not exist")]
    UnknownOrder(u64),
    /// No campaign has this name.
    #[error("coupon campaign `{0}` does not exist")]
    UnknownCampaign(String),
}
