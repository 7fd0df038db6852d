//! Loading a Redis RDB file (`dump.rdb`) into a store: the whole-file reader of
//! [`crate::types::rdb::file`] turns the file into keys, this module turns each into a store
//! value with RESTORE's conversion and decides which database it goes to.
//!
//! # Design
//!
//! - [`load_file`] is the one entry point for a file found at a store's snapshot path: the
//!   magic `REDIS` selects this loader, anything else the store's own snapshot format. What
//!   the store saves later is always its own format.
//! - Values are built as `RESTORE` builds them (a set of integers within
//!   `set-max-intset-entries` is an intset, a small sorted set a listpack, a RedisBloom
//!   filter of encoding version 4 a Bloom filter). Strings get no size limit (as the store's
//!   own snapshots), a key that appears twice is refused (Redis exits on it too), keys whose
//!   expiry has passed are dropped, module values the store does not model are refused with
//!   their type name.
//! - Databases: [`target_db`] is the only place that maps an RDB database number to a
//!   database of the store: keys of `SELECTDB n` go to database `n`, and a file holding a
//!   database the store does not have (`databases` too low) is refused, as Redis refuses it.
//!
//! # References
//!
//! Redis 7.0 `src/rdb.c` (`rdbLoadRioWithLoadingCtx`: duplicate keys, expired keys on a
//! master, SELECTDB beyond `databases`).

use super::dump::from_rdb;
use super::Store;
use crate::error::{Error, Result};
use crate::types::bloom::BloomLimits;
use crate::types::hash::HashLimits;
use crate::types::rdb::file::{is_rdb_file, read_rdb_file, RdbFileInfo};
use std::io::{Read, Seek, SeekFrom};

/// The store database an RDB database number loads into (the same number), or why it
/// cannot: Redis refuses a file made by a server with more databases than it has.
fn target_db(store: &Store, db: u64) -> std::result::Result<Store, String> {
    usize::try_from(db)
        .ok()
        .and_then(|n| store.select(n).ok())
        .ok_or_else(|| {
            format!(
                "Data file was created with a Redis server configured to handle more than {} databases (it holds keys of database {db})",
                store.inner.databases
            )
        })
}

/// Loads the file at a store's snapshot path (`len` bytes): a Redis RDB file when it starts
/// with `REDIS`, the store's own snapshot otherwise. Returns the keys loaded.
pub(crate) fn load_file<R: Read + Seek>(store: &Store, mut r: R, len: u64) -> Result<usize> {
    let mut magic = [0u8; 5];
    let got = super::persist::read_up_to(&mut r, &mut magic)
        .map_err(|e| Error::Snapshot(format!("Short read loading DB: {e}")))?;
    r.seek(SeekFrom::Start(0))
        .map_err(|e| Error::Snapshot(format!("Short read loading DB: {e}")))?;
    if !is_rdb_file(&magic[..got]) {
        return super::persist::load_snapshot(store, r, len);
    }
    // The reader works in memory; the buffer grows only with bytes the file really holds.
    let mut data = Vec::new();
    r.read_to_end(&mut data)
        .map_err(|e| Error::Snapshot(format!("Short read loading DB: {e}")))?;
    load_rdb(store, &data).map(|info| info.keys)
}

/// Loads the RDB file `data` into `store` (which should be empty); the keys counted in the
/// result are those loaded (already expired ones are dropped).
pub(crate) fn load_rdb(store: &Store, data: &[u8]) -> Result<RdbFileInfo> {
    let settings = &store.inner.settings;
    let limits = BloomLimits {
        max_bytes: settings.bloom_max_bytes(),
    };
    let max_intset = settings.set_max_intset_entries();
    let zset_limits = (
        settings.zset_max_listpack_entries(),
        settings.zset_max_listpack_value(),
    );
    let hash_limits = HashLimits {
        entries: settings.hash_max_listpack_entries(),
        value: settings.hash_max_listpack_value(),
    };
    let now = store.inner.clock.now_ms();
    let mut loaded = 0usize;
    let mut info = read_rdb_file(data, |entry| {
        let target = target_db(store, entry.db)?;
        let name = String::from_utf8_lossy(&entry.key).into_owned();
        let value = from_rdb(
            entry.value,
            usize::MAX,
            max_intset,
            zset_limits,
            hash_limits,
            limits,
        )
        .map_err(|e| format!("key '{name}': {e}"))?;
        let expired = entry.expire_at_ms.is_some_and(|at| at <= now);
        target.with_key(&entry.key, |db| {
            if db.value(&entry.key).is_some() {
                return Err(format!(
                    "RDB has duplicated key '{name}' in DB {}",
                    entry.db
                ));
            }
            if !expired {
                db.insert(&entry.key, value, entry.expire_at_ms);
                loaded += 1;
            }
            Ok(())
        })
    })
    .map_err(|e| Error::Snapshot(e.to_string()))?;
    info.keys = loaded;
    Ok(info)
}

/// The body of the `rdb_file` fuzz target: `data` as an RDB file, as given and with its
/// trailer replaced by the right CRC64 (so that the item decoders are reached), read by the
/// whole-file reader and loaded into a store. Must never panic nor allocate more than a small
/// multiple of `data.len()`.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_rdb_file(data: &[u8]) {
    let mut fixed = data.to_vec();
    if fixed.len() >= 18 {
        let end = fixed.len() - 8;
        let crc = crate::types::rdb::crc64(0, &fixed[..end]);
        fixed[end..].copy_from_slice(&crc.to_le_bytes());
    }
    for input in [data, &fixed[..]] {
        let _ = read_rdb_file(input, |_| Ok(()));
        let store = Store::builder().bloom_max_bytes(1 << 20).build();
        let _ = load_rdb(&store, input);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::rdb::crc64;

    fn file(items: &[u8]) -> Vec<u8> {
        let mut f = b"REDIS0010".to_vec();
        f.extend_from_slice(items);
        f.push(0xFF);
        let crc = crc64(0, &f);
        f.extend_from_slice(&crc.to_le_bytes());
        f
    }

    #[test]
    fn loads_each_database_refuses_missing_ones_and_duplicates() {
        let store = Store::new();
        let items = [0, 1, b'k', 1, b'v', 0xFE, 2, 0, 1, b'k', 1, b'w'];
        let info = load_rdb(&store, &file(&items)).unwrap();
        assert_eq!(info.keys, 2);
        assert_eq!(store.get("k").unwrap(), Some(b"v".to_vec()));
        let db2 = store.select(2).unwrap();
        assert_eq!(db2.get("k").unwrap(), Some(b"w".to_vec()));

        let small = Store::builder().databases(2).build();
        let e = load_rdb(&small, &file(&[0xFE, 2, 0, 1, b'k', 1, b'v'])).unwrap_err();
        assert!(e.to_string().contains("database 2"), "{e}");
        let e = load_rdb(
            &Store::new(),
            &file(&[0, 1, b'k', 1, b'v', 0, 1, b'k', 1, b'w']),
        )
        .unwrap_err();
        assert!(e.to_string().contains("duplicated key 'k'"), "{e}");
    }

    #[test]
    fn expired_keys_are_dropped() {
        let mut items = vec![0xFC];
        items.extend_from_slice(&1000i64.to_le_bytes());
        items.extend_from_slice(&[0, 1, b'a', 1, b'v', 0, 1, b'b', 1, b'v']);
        let store = Store::new();
        assert_eq!(load_rdb(&store, &file(&items)).unwrap().keys, 1);
        assert_eq!(store.get("a").unwrap(), None);
    }

    #[test]
    fn fuzz_body_runs_on_seeds() {
        let good = file(&[0, 1, b'k', 1, b'v']);
        for i in 0..good.len() {
            fuzz_rdb_file(&good[..i]);
        }
        fuzz_rdb_file(&good);
        let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/rdb_file");
        for seed in std::fs::read_dir(seeds).unwrap() {
            let bytes = std::fs::read(seed.unwrap().path()).unwrap();
            fuzz_rdb_file(&bytes);
            let info = load_rdb(&Store::new(), &bytes).unwrap();
            assert!(info.keys > 0);
        }
    }
}
