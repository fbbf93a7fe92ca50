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
    entries: Mutex<HashMap<Uuid, (String, Arc<V>)>>,
    capacity: usize,
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
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
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
        let (kept, value) = entries.get(&ledger_id)?;
        (kept == stamp).then(|| value.clone())
    }

    /// Keeps `value`, read at `stamp`, for the ledger (in place of any other).
    pub fn put(&self, ledger_id: Uuid, stamp: String, value: Arc<V>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity && !entries.contains_key(&ledger_id) {
                entries.clear();
            }
            entries.insert(ledger_id, (stamp, value));
        }
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
        assert_eq!(cache.entries.lock().unwrap().len(), 1);
        cache
            .get_or_read(ledgers[0], "1".into(), || Ok(()))
            .unwrap();
        assert_eq!(cache.entries.lock().unwrap().len(), 2);
    }
}
