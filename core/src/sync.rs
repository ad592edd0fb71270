//! Locking the runtime's few mutexes.
//!
//! Every lock is short and no user code runs under one, so a poisoned mutex (a panic while
//! held, which the runtime's own code does not do) holds consistent data: take it anyway
//! rather than spread the panic. With the `profiling` feature, time spent waiting for a
//! contended lock is recorded by call site (see `/debug/tasks`).

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning.
#[cfg_attr(feature = "profiling", track_caller)]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(feature = "profiling")]
    {
        crate::profiling::stats::lock_timed(mutex)
    }
    #[cfg(not(feature = "profiling"))]
    {
        mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
