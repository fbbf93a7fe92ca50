//! Where uploaded files (attachments, receipt images, bank files queued for import) are kept:
//! one interface, [`FileStore`], with an implementation on a local directory,
//! `$FINAI_DATA_DIR/files` (the default), and one on an S3-compatible store ([`s3`]). Files are
//! content-addressed per ledger (`<ledger>/<aa>/<sha256>`): the same file attached twice is
//! stored once, and a key never names two different contents, so a write may be repeated
//! safely. Which keys are still used is the database's business (`services::attachments`).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use uuid::Uuid;

pub mod s3;

/// A store of immutable files under string keys.
pub trait FileStore: Send + Sync {
    /// Stores `bytes` under `key`, whole or not at all.
    fn put(&self, key: &FileKey, bytes: &[u8]) -> io::Result<()>;
    fn get(&self, key: &FileKey) -> io::Result<Vec<u8>>;
    /// Removes the file; a missing file is not an error.
    fn delete(&self, key: &FileKey) -> io::Result<()>;
    /// Calls `visit` with the key of every stored file last written before `cutoff` (and drops
    /// what writes that died before then left behind).
    fn each_written_before(
        &self,
        cutoff: SystemTime,
        visit: &mut dyn FnMut(FileKey),
    ) -> io::Result<()>;
}

/// A file's key: its ledger and the SHA-256 of its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileKey {
    pub ledger_id: Uuid,
    /// Lower-case hex, 64 characters.
    pub sha256: String,
}

impl FileKey {
    pub fn of(ledger_id: Uuid, bytes: &[u8]) -> FileKey {
        FileKey {
            ledger_id,
            sha256: hex(&Sha256::digest(bytes)),
        }
    }

    /// `None` unless `sha256` is 64 lower-case hex digits (so a key never walks out of its
    /// directory, whatever a row holds).
    pub fn new(ledger_id: Uuid, sha256: &str) -> Option<FileKey> {
        (sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| FileKey {
            ledger_id,
            sha256: sha256.to_owned(),
        })
    }

    fn relative(&self) -> PathBuf {
        Path::new(&self.ledger_id.to_string())
            .join(&self.sha256[..2])
            .join(&self.sha256)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Files in a local directory.
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: PathBuf) -> LocalStore {
        LocalStore { root }
    }
}

impl FileStore for LocalStore {
    fn put(&self, key: &FileKey, bytes: &[u8]) -> io::Result<()> {
        let path = self.root.join(key.relative());
        if path.exists() {
            return Ok(());
        }
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        // Written beside, then renamed: a reader never sees half a file, and a crash leaves
        // only a temporary file behind.
        let temporary = dir.join(format!(".{}.{}", key.sha256, Uuid::new_v4()));
        let written = (|| {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written
    }

    fn get(&self, key: &FileKey) -> io::Result<Vec<u8>> {
        std::fs::read(self.root.join(key.relative()))
    }

    fn delete(&self, key: &FileKey) -> io::Result<()> {
        match std::fs::remove_file(self.root.join(key.relative())) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// Walks `<ledger>/<aa>/<sha256>`; anything else in the tree is left alone, but for the
    /// temporary files (`.<sha256>.<uuid>`) of writes that died, which are removed.
    fn each_written_before(
        &self,
        cutoff: SystemTime,
        visit: &mut dyn FnMut(FileKey),
    ) -> io::Result<()> {
        let entries = |dir: &Path| match std::fs::read_dir(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            listed => listed?.collect::<io::Result<Vec<_>>>(),
        };
        for ledger in entries(&self.root)? {
            let Some(ledger_id) = ledger.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            for prefix in entries(&ledger.path())? {
                for file in entries(&prefix.path())? {
                    let written = file.metadata()?.modified()?;
                    if written >= cutoff {
                        continue;
                    }
                    let name = file.file_name();
                    let name = name.to_string_lossy();
                    if name.starts_with('.') {
                        std::fs::remove_file(file.path())?;
                    } else if let Some(key) = FileKey::new(ledger_id, &name) {
                        visit(key);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_content_addresses_and_never_paths() {
        let ledger = Uuid::nil();
        let key = FileKey::of(ledger, b"abc");
        assert_eq!(
            key.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(FileKey::new(ledger, &key.sha256), Some(key));
        assert_eq!(FileKey::new(ledger, "../../etc/passwd"), None);
        assert_eq!(FileKey::new(ledger, &"A".repeat(64)), None);
    }

    #[test]
    fn a_local_store_keeps_deletes_and_forgets() {
        let root = std::env::temp_dir().join(format!("finai-store-{}", Uuid::new_v4()));
        let store = LocalStore::new(root.clone());
        let key = FileKey::of(Uuid::new_v4(), b"receipt");
        store.put(&key, b"receipt").unwrap();
        store.put(&key, b"receipt").unwrap();
        assert_eq!(store.get(&key).unwrap(), b"receipt");
        store.delete(&key).unwrap();
        store.delete(&key).unwrap();
        assert_eq!(store.get(&key).unwrap_err().kind(), io::ErrorKind::NotFound);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_local_store_lists_what_was_written_before_a_time_and_drops_dead_writes() {
        let root = std::env::temp_dir().join(format!("finai-store-{}", Uuid::new_v4()));
        let store = LocalStore::new(root.clone());
        let (old, new) = (
            FileKey::of(Uuid::new_v4(), b"old"),
            FileKey::of(Uuid::new_v4(), b"new"),
        );
        store.put(&old, b"old").unwrap();
        store.put(&new, b"new").unwrap();
        let hour_ago = SystemTime::now() - std::time::Duration::from_secs(3600);
        let dead = root
            .join(old.relative())
            .with_file_name(format!(".{}.x", old.sha256));
        std::fs::write(&dead, b"half").unwrap();
        for path in [root.join(old.relative()), dead.clone()] {
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(hour_ago)
                .unwrap();
        }
        std::fs::write(root.join("README"), b"not a ledger").unwrap();
        let mut seen = Vec::new();
        let cutoff = SystemTime::now() - std::time::Duration::from_secs(60);
        store
            .each_written_before(cutoff, &mut |key| seen.push(key))
            .unwrap();
        assert_eq!(seen, vec![old]);
        assert!(!dead.exists());
        std::fs::remove_dir_all(root).unwrap();
    }
}
