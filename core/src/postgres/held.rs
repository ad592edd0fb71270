//! [`Held`]: the rows a worker has claimed and not yet settled.

use std::collections::HashMap;

/// The rows a worker holds. Counted per id: a row given back can be claimed again by this
/// worker before the result that gave it back lets go of it, and must stay held.
#[derive(Debug, Default)]
pub(crate) struct Held {
    by_id: HashMap<i64, u32>,
    /// The sum of `by_id`'s counts: claims not yet settled.
    claims: usize,
}

impl Held {
    pub(crate) fn take(&mut self, ids: impl Iterator<Item = i64>) {
        for id in ids {
            *self.by_id.entry(id).or_default() += 1;
            self.claims += 1;
        }
    }

    /// Lets go of one claim of `id`.
    pub(crate) fn release(&mut self, id: i64) {
        if let Some(claims) = self.by_id.get_mut(&id) {
            *claims -= 1;
            self.claims -= 1;
            if *claims == 0 {
                self.by_id.remove(&id);
            }
        }
    }

    /// Claims not yet settled.
    pub(crate) fn claims(&self) -> usize {
        self.claims
    }

    pub(crate) fn ids(&self) -> Vec<i64> {
        self.by_id.keys().copied().collect()
    }
}
