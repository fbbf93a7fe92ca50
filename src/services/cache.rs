//! Figures costly to read that only a write can change, kept per ledger with a stamp of what
//! they were read at (the ledger's data version, moved by every write of a transaction, and
//! whatever else they depend on: a currency, today). A different stamp reads them afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::error::ApiError;

/// Most ledgers one cache keeps (it is cleared when full: a simple bound, not an LRU).
const LEDGERS: usize = 1000;

pub struct LedgerCache<V> {
    entries: Mutex<Entries<V>>,
    capacity: usize,
    /// The most weight the values may have together, and how to weigh one (roughly its
    /// bytes), for values whose size the ledger decides.
    budget: Option<(usize, Weigh<V>)>,
}

/// Roughly the bytes a value holds.
type Weigh<V> = fn(&V) -> usize;

struct Entries<V> {
    kept: HashMap<Uuid, (String, Arc<V>, usize)>,
    weight: usize,
}

impl<V> Default for LedgerCache<V> {
    fn default() -> Self {
        LedgerCache::with_capacity(LEDGERS)
    }
}

impl<V> LedgerCache<V> {
    /// A cache of at most `capacity` ledgers' values (for values too large to keep a thousand).
    pub fn with_capacity(capacity: usize) -> Self {
        LedgerCache {
            entries: Mutex::new(Entries {
                kept: HashMap::new(),
                weight: 0,
            }),
            capacity: capacity.max(1),
            budget: None,
        }
    }

    /// A cache of values weighing at most `budget` together (as `weigh` weighs them); a value
    /// heavier than the budget is not kept.
    pub fn with_budget(budget: usize, weigh: Weigh<V>) -> Self {
        LedgerCache {
            budget: Some((budget, weigh)),
            ..LedgerCache::default()
        }
    }

    /// The ledger's value read at `stamp`, reading it with `read` unless it is kept.
    pub fn get_or_read(
        &self,
        ledger_id: Uuid,
        stamp: String,
        read: impl FnOnce() -> Result<V, ApiError>,
    ) -> Result<Arc<V>, ApiError> {
        self.get_or_find(ledger_id, stamp, || read().map(Some))
            .and_then(|found| found.ok_or_else(|| ApiError::internal("a read found nothing")))
    }

    /// As [`get_or_read`](Self::get_or_read), for a value that may not be there: nothing found
    /// is not kept.
    pub fn get_or_find(
        &self,
        ledger_id: Uuid,
        stamp: String,
        find: impl FnOnce() -> Result<Option<V>, ApiError>,
    ) -> Result<Option<Arc<V>>, ApiError> {
        if let Some(kept) = self.get(ledger_id, &stamp) {
            return Ok(Some(kept));
        }
        let Some(value) = find()? else {
            return Ok(None);
        };
        let value = Arc::new(value);
        self.put(ledger_id, stamp, value.clone());
        Ok(Some(value))
    }

    /// The ledger's value, if one read at `stamp` is kept.
    pub fn get(&self, ledger_id: Uuid, stamp: &str) -> Option<Arc<V>> {
        let entries = self.entries.lock().ok()?;
        let (kept, value, _) = entries.kept.get(&ledger_id)?;
        (kept == stamp).then(|| value.clone())
    }

    /// Keeps `value`, read at `stamp`, for the ledger (in place of any other).
    pub fn put(&self, ledger_id: Uuid, stamp: String, value: Arc<V>) {
        let (budget, weight) = match self.budget {
            Some((budget, weigh)) => (budget, weigh(&value)),
            None => (usize::MAX, 0),
        };
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if let Some((_, _, old)) = entries.kept.remove(&ledger_id) {
            entries.weight -= old;
        }
        if weight > budget {
            return;
        }
        if entries.kept.len() >= self.capacity || entries.weight + weight > budget {
            entries.kept.clear();
            entries.weight = 0;
        }
        entries.weight += weight;
        entries.kept.insert(ledger_id, (stamp, value, weight));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_read_again_only_when_its_stamp_moves() {
        let cache = LedgerCache::default();
        let ledger = Uuid::new_v4();
        let mut reads = 0;
        for stamp in ["1", "1", "2", "2", "1"] {
            cache
                .get_or_read(ledger, stamp.into(), || {
                    reads += 1;
                    Ok(reads)
                })
                .unwrap();
        }
        assert_eq!(reads, 3);
    }

    #[test]
    fn a_full_cache_starts_over_rather_than_grow() {
        let cache = LedgerCache::with_capacity(2);
        let ledgers: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        let mut reads = 0;
        for ledger in ledgers.iter().chain(&ledgers[2..]) {
            cache
                .get_or_read(*ledger, "1".into(), || {
                    reads += 1;
                    Ok(())
                })
                .unwrap();
        }
        // The third ledger cleared the two before it; asking for it again finds it kept.
        assert_eq!(reads, 3);
        assert_eq!(cache.entries.lock().unwrap().kept.len(), 1);
        cache
            .get_or_read(ledgers[0], "1".into(), || Ok(()))
            .unwrap();
        assert_eq!(cache.entries.lock().unwrap().kept.len(), 2);
    }

    #[test]
    fn a_budget_bounds_what_values_weigh_together() {
        let cache: LedgerCache<Vec<u8>> = LedgerCache::with_budget(10, Vec::len);
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        cache.put(a, "1".into(), Arc::new(vec![0; 4]));
        cache.put(b, "1".into(), Arc::new(vec![0; 4]));
        assert!(cache.get(a, "1").is_some() && cache.get(b, "1").is_some());
        // A new value of the same ledger replaces the old one's weight.
        cache.put(b, "2".into(), Arc::new(vec![0; 6]));
        assert!(cache.get(a, "1").is_some() && cache.get(b, "2").is_some());
        assert_eq!(cache.entries.lock().unwrap().weight, 10);
        // One more would go over: the cache starts over.
        cache.put(c, "1".into(), Arc::new(vec![0; 1]));
        assert!(cache.get(a, "1").is_none() && cache.get(c, "1").is_some());
        // A value over the whole budget is not kept at all.
        cache.put(a, "2".into(), Arc::new(vec![0; 11]));
        assert!(cache.get(a, "2").is_none() && cache.get(c, "1").is_some());
        assert_eq!(cache.entries.lock().unwrap().weight, 1);
    }
}
