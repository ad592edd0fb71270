//! The tokio runtime every benchmark measures on.

use std::future::Future;

/// Worker threads of the runtime: the benchmark machine has two cores.
pub const THREADS: usize = 2;

/// Runs `work` as a task of a fresh [`THREADS`]-thread runtime, so it runs on a worker thread as
/// a request handler's code does, and returns its output.
///
/// # Panics
///
/// If the runtime cannot start or `work` panics.
pub fn in_runtime<F>(work: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .enable_time()
        .build()
        .expect("the tokio runtime starts");
    runtime.block_on(async { tokio::spawn(work).await.expect("the benchmark task panicked") })
}
