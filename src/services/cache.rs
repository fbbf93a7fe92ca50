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
}

impl<V> Default for LedgerCache<V> {
    fn default() -> Self {
        LedgerCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V> LedgerCache<V> {
    /// The ledger's value read at `stamp`, reading it with `read` unless it is kept.
    pub fn get_or_read(
        &self,
        ledger_id: Uuid,
        stamp: String,
        read: impl FnOnce() -> Result<V, ApiError>,
    ) -> Result<Arc<V>, ApiError> {
        if let Ok(entries) = self.entries.lock() {
            if let Some((kept, value)) = entries.get(&ledger_id) {
                if *kept == stamp {
                    return Ok(value.clone());
                }
            }
        }
        let value = Arc::new(read()?);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= LEDGERS {
                entries.clear();
            }
            entries.insert(ledger_id, (stamp, value.clone()));
        }
        Ok(value)
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
}
