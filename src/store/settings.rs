//! The store's tunables as they are now: what [`Config`] set at build time, changed since by
//! `CONFIG SET` (Redis's runtime configuration), read by commands as they run.
//!
//! Every field is an atomic read with relaxed ordering: a command sees either the old or the
//! new value of a parameter, as a Redis command sees the configuration of the moment it runs.
//! Parameters that only a server acts on (`save`, `dir`, `appendonly`, ...) are kept as text
//! for `CONFIG GET`.

use super::Config;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

/// Redis 7.0's defaults of the encoding thresholds (`OBJECT ENCODING`, DUMP payloads).
pub(crate) const DEFAULT_HASH_MAX_LISTPACK_ENTRIES: usize = 512;
pub(crate) const DEFAULT_HASH_MAX_LISTPACK_VALUE: usize = 64;
pub(crate) const DEFAULT_SET_MAX_INTSET_ENTRIES: usize = 512;
pub(crate) const DEFAULT_ZSET_MAX_LISTPACK_ENTRIES: usize = 128;
pub(crate) const DEFAULT_ZSET_MAX_LISTPACK_VALUE: usize = 64;
pub(crate) const DEFAULT_LIST_MAX_LISTPACK_SIZE: i64 = -2;

macro_rules! sizes {
    ($($name:ident),* $(,)?) => {
        /// The runtime settings of one store.
        #[derive(Debug)]
        pub(crate) struct Settings {
            $($name: AtomicUsize,)*
            list_max_listpack_size: AtomicI64,
            /// Parameters the store keeps but does not act on (a server's), by name.
            text: Mutex<BTreeMap<String, Vec<u8>>>,
        }

        impl Settings {
            $(
                #[inline]
                pub(crate) fn $name(&self) -> usize {
                    self.$name.load(Ordering::Relaxed)
                }
            )*
        }
    };
}

sizes!(
    max_string_bytes,
    hll_sparse_max_bytes,
    pubsub_buffer_bytes,
    bloom_max_bytes,
    hash_max_listpack_entries,
    hash_max_listpack_value,
    set_max_intset_entries,
    zset_max_listpack_entries,
    zset_max_listpack_value,
);

/// A settable size parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Size {
    MaxStringBytes,
    HllSparseMaxBytes,
    HashMaxListpackEntries,
    HashMaxListpackValue,
    SetMaxIntsetEntries,
    ZsetMaxListpackEntries,
    ZsetMaxListpackValue,
}

impl Settings {
    pub(crate) fn new(config: &Config) -> Settings {
        let text = [
            ("save", ""),
            ("appendonly", "no"),
            ("dir", "."),
            ("dbfilename", "dump.rdb"),
            ("databases", "16"),
            ("io-threads", "1"),
            ("maxclients", "10000"),
            ("timeout", "0"),
            ("port", "6379"),
            ("bind", "127.0.0.1"),
            ("requirepass", ""),
            ("loglevel", "notice"),
            ("tcp-keepalive", "300"),
            ("lazyfree-lazy-user-del", "no"),
            ("lazyfree-lazy-user-flush", "no"),
            ("lua-time-limit", "5000"),
            ("maxmemory-samples", "5"),
            ("list-compress-depth", "0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
        .collect();
        Settings {
            max_string_bytes: AtomicUsize::new(config.max_string_bytes),
            hll_sparse_max_bytes: AtomicUsize::new(config.hll_sparse_max_bytes),
            pubsub_buffer_bytes: AtomicUsize::new(config.pubsub_buffer_bytes),
            bloom_max_bytes: AtomicUsize::new(config.bloom_max_bytes),
            hash_max_listpack_entries: AtomicUsize::new(DEFAULT_HASH_MAX_LISTPACK_ENTRIES),
            hash_max_listpack_value: AtomicUsize::new(DEFAULT_HASH_MAX_LISTPACK_VALUE),
            set_max_intset_entries: AtomicUsize::new(DEFAULT_SET_MAX_INTSET_ENTRIES),
            zset_max_listpack_entries: AtomicUsize::new(DEFAULT_ZSET_MAX_LISTPACK_ENTRIES),
            zset_max_listpack_value: AtomicUsize::new(DEFAULT_ZSET_MAX_LISTPACK_VALUE),
            list_max_listpack_size: AtomicI64::new(DEFAULT_LIST_MAX_LISTPACK_SIZE),
            text: Mutex::new(text),
        }
    }

    pub(crate) fn set_size(&self, which: Size, n: usize) {
        let cell = match which {
            Size::MaxStringBytes => &self.max_string_bytes,
            Size::HllSparseMaxBytes => &self.hll_sparse_max_bytes,
            Size::HashMaxListpackEntries => &self.hash_max_listpack_entries,
            Size::HashMaxListpackValue => &self.hash_max_listpack_value,
            Size::SetMaxIntsetEntries => &self.set_max_intset_entries,
            Size::ZsetMaxListpackEntries => &self.zset_max_listpack_entries,
            Size::ZsetMaxListpackValue => &self.zset_max_listpack_value,
        };
        cell.store(n, Ordering::Relaxed);
    }

    pub(crate) fn size(&self, which: Size) -> usize {
        match which {
            Size::MaxStringBytes => self.max_string_bytes(),
            Size::HllSparseMaxBytes => self.hll_sparse_max_bytes(),
            Size::HashMaxListpackEntries => self.hash_max_listpack_entries(),
            Size::HashMaxListpackValue => self.hash_max_listpack_value(),
            Size::SetMaxIntsetEntries => self.set_max_intset_entries(),
            Size::ZsetMaxListpackEntries => self.zset_max_listpack_entries(),
            Size::ZsetMaxListpackValue => self.zset_max_listpack_value(),
        }
    }

    pub(crate) fn list_max_listpack_size(&self) -> i64 {
        self.list_max_listpack_size.load(Ordering::Relaxed)
    }

    pub(crate) fn set_list_max_listpack_size(&self, n: i64) {
        self.list_max_listpack_size.store(n, Ordering::Relaxed);
    }

    /// A text parameter's value.
    pub(crate) fn text(&self, name: &str) -> Option<Vec<u8>> {
        self.text.lock().get(name).cloned()
    }

    /// Sets a text parameter.
    pub(crate) fn set_text(&self, name: &str, value: &[u8]) {
        self.text.lock().insert(name.to_owned(), value.to_vec());
    }

    /// The build-time view of the settings as they are now.
    pub(crate) fn snapshot(&self) -> Config {
        Config {
            max_string_bytes: self.max_string_bytes(),
            hll_sparse_max_bytes: self.hll_sparse_max_bytes(),
            pubsub_buffer_bytes: self.pubsub_buffer_bytes(),
            bloom_max_bytes: self.bloom_max_bytes(),
        }
    }
}
