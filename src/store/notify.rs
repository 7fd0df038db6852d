//! Keyspace notifications: the events a command causes, published on Redis's
//! `__keyspace@<db>__:<key>` and `__keyevent@<db>__:<event>` channels.
//!
//! # Design
//!
//! The enabled classes are one atomic word ([`Notifier`]), set by `CONFIG SET
//! notify-keyspace-events`. A command running in a [`Db`] view calls [`Db::notify`] where
//! Redis calls `notifyKeyspaceEvent`; with notifications off that is one relaxed load and a
//! branch. With them on, the event (class, name, key, db) is appended to the view's buffer,
//! and the store publishes the buffer through its pub/sub hub after the shard locks are
//! released, in the order the command recorded it (Redis's order). The store never knows
//! connections: subscribers are ordinary pattern or channel subscriptions.
//!
//! Keys that expire are removed inside a shard, which knows no view: a shard logs the keys
//! it expires (only while the `x` class is on) and the view collects that log before each
//! event it records and once more before publishing, so an `expired` event precedes the
//! events of the command whose lookup expired the key, as in Redis.
//!
//! # Representation
//!
//! ```text
//! flags (u32): bit 0 K keyspace | 1 E keyevent | 2 g | 3 $ | 4 l | 5 s | 6 h | 7 z
//!              | 8 x expired | 9 e evicted | 10 t | 11 m keymiss | 13 d | 14 n new
//! ```
//!
//! (Redis's own bit numbering; `A` is g$lshzxetd, without `m` and `n`.)
//!
//! # Worked example
//!
//! With `KEA`, `LPUSH l a` publishes `lpush` on `__keyspace@0__:l` and `l` on
//! `__keyevent@0__:lpush`; with `KEAn` the key's creation is published first as `new`.
//!
//! # References
//!
//! Redis 7.0 `src/notify.c` (class letters, their printing, the two channels), the
//! `notifyKeyspaceEvent` calls of `src/t_*.c`, `src/db.c`, `src/expire.c`, `src/evict.c`,
//! `src/bitops.c`, `src/hyperloglog.c`, `src/sort.c`; the `CONFIG SET` error of `src/config.c`.

use super::{Db, Inner};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

pub(crate) const KEYSPACE: u32 = 1 << 0;
pub(crate) const KEYEVENT: u32 = 1 << 1;
pub(crate) const GENERIC: u32 = 1 << 2;
pub(crate) const STRING: u32 = 1 << 3;
pub(crate) const LIST: u32 = 1 << 4;
pub(crate) const SET: u32 = 1 << 5;
pub(crate) const HASH: u32 = 1 << 6;
pub(crate) const ZSET: u32 = 1 << 7;
pub(crate) const EXPIRED: u32 = 1 << 8;
pub(crate) const EVICTED: u32 = 1 << 9;
pub(crate) const STREAM: u32 = 1 << 10;
pub(crate) const KEY_MISS: u32 = 1 << 11;
pub(crate) const MODULE: u32 = 1 << 13;
pub(crate) const NEW: u32 = 1 << 14;
/// Redis's `A`: every class but key misses and new keys.
pub(crate) const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// The error `CONFIG SET notify-keyspace-events` gives for a letter that names no class.
pub(crate) const INVALID_CLASSES: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/// The flags of a class string, or `None` if a letter names no class.
pub(crate) fn parse_classes(text: &[u8]) -> Option<u32> {
    text.iter().try_fold(0, |flags, &c| {
        let class = match c {
            b'A' => ALL,
            b'g' => GENERIC,
            b'$' => STRING,
            b'l' => LIST,
            b's' => SET,
            b'h' => HASH,
            b'z' => ZSET,
            b'x' => EXPIRED,
            b'e' => EVICTED,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b't' => STREAM,
            b'm' => KEY_MISS,
            b'd' => MODULE,
            b'n' => NEW,
            _ => return None,
        };
        Some(flags | class)
    })
}

/// The class string Redis prints for `flags`: `A` for all of its classes (then `n` is not
/// printed even when set, as Redis omits it), else the letters in Redis's order; then
/// `K`, `E`, `m`.
pub(crate) fn classes_text(flags: u32) -> String {
    let mut out = String::new();
    if flags & ALL == ALL {
        out.push('A');
    } else {
        for (class, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & class != 0 {
                out.push(c);
            }
        }
    }
    for (class, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & class != 0 {
            out.push(c);
        }
    }
    out
}

/// The enabled classes, shared by the store and its shards (which log expiries).
#[derive(Debug, Default)]
pub(crate) struct Notifier {
    flags: Arc<AtomicU32>,
}

impl Notifier {
    #[inline]
    pub(crate) fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    pub(crate) fn set_flags(&self, flags: u32) {
        self.flags.store(flags, Ordering::Relaxed);
    }

    /// The word a shard reads to decide whether it logs the keys it expires.
    pub(crate) fn shared(&self) -> Arc<AtomicU32> {
        self.flags.clone()
    }
}

/// Whether `flags` publish events of `class` at all (a class without `K` or `E` publishes
/// nothing).
#[inline]
pub(crate) fn enabled(flags: u32, class: u32) -> bool {
    flags & class != 0 && flags & (KEYSPACE | KEYEVENT) != 0
}

/// One recorded event.
#[derive(Debug)]
pub(crate) struct Event {
    pub(crate) name: &'static str,
    pub(crate) key: Box<[u8]>,
    pub(crate) db: u32,
}

impl Inner {
    /// The database shard `i` (an index into every database's shards) belongs to.
    pub(crate) fn db_of_shard(&self, i: usize) -> u32 {
        (i / self.shards_per_db.max(1)) as u32
    }

    /// Publishes `events` in order on the channels the enabled flags ask for. Called with no
    /// shard locked.
    pub(crate) fn publish_events(&self, events: Vec<Event>) {
        let flags = self.notify.flags();
        let mut channel = Vec::new();
        for e in events {
            if flags & KEYSPACE != 0 {
                channel.clear();
                channel.extend_from_slice(format!("__keyspace@{}__:", e.db).as_bytes());
                channel.extend_from_slice(&e.key);
                self.pubsub.publish(&channel, e.name.as_bytes());
            }
            if flags & KEYEVENT != 0 {
                channel.clear();
                channel.extend_from_slice(format!("__keyevent@{}__:{}", e.db, e.name).as_bytes());
                self.pubsub.publish(&channel, &e.key);
            }
        }
    }

    /// Publishes one event at once (eviction and active expiry, which run outside views).
    /// Called with no shard locked.
    pub(crate) fn notify_now(&self, class: u32, name: &'static str, key: &[u8], db: u32) {
        if enabled(self.notify.flags(), class) {
            self.publish_events(vec![Event {
                name,
                key: key.into(),
                db,
            }]);
        }
    }
}

impl Db<'_> {
    /// The number of the database this view's events name: the view's current one.
    #[inline]
    pub(crate) fn event_db(&self) -> u32 {
        self.db as u32
    }

    /// Records `name` on `key` if notifications of `class` are enabled (Redis's
    /// `notifyKeyspaceEvent`), counting one change of the dataset (Redis's `server.dirty`).
    #[inline]
    pub(crate) fn notify(&mut self, class: u32, name: &'static str, key: &[u8]) {
        self.notify_n(class, name, key, 1);
    }

    /// [`Db::notify`] counting `changes` changes of the dataset instead of one (Redis counts
    /// a push of three elements as three, a `del` that follows a pop as none).
    #[inline]
    pub(crate) fn notify_n(&mut self, class: u32, name: &'static str, key: &[u8], changes: u64) {
        self.changes += changes;
        if enabled(self.inner.notify.flags(), class) {
            let db = self.event_db();
            self.record(name, key, db);
        }
    }

    /// Records `name` on `key` of database `db` (MOVE's and COPY's destination), counting
    /// one change.
    #[inline]
    pub(crate) fn notify_in(&mut self, db: u32, class: u32, name: &'static str, key: &[u8]) {
        self.changes += 1;
        if enabled(self.inner.notify.flags(), class) {
            self.record(name, key, db);
        }
    }

    /// Whether events of `class` would be recorded now.
    #[inline]
    pub(crate) fn notifying(&self, class: u32) -> bool {
        enabled(self.inner.notify.flags(), class)
    }

    /// Where events recorded from now on start (the keys expired so far recorded first).
    #[cold]
    pub(crate) fn events_mark(&mut self) -> usize {
        self.collect_expired();
        self.events.len()
    }

    /// Records `keymiss` for each of `keys` at `mark` (a command's read lookups, announced
    /// before the events the command recorded since), counting no change.
    #[cold]
    pub(crate) fn insert_misses(&mut self, mark: usize, keys: &[&[u8]]) {
        let db = self.event_db();
        let at = mark.min(self.events.len());
        let misses = keys.iter().map(|k| Event {
            name: "keymiss",
            key: (*k).into(),
            db,
        });
        self.events.splice(at..at, misses);
    }

    #[cold]
    fn record(&mut self, name: &'static str, key: &[u8], db: u32) {
        self.collect_expired();
        self.events.push(Event {
            name,
            key: key.into(),
            db,
        });
    }

    /// Moves the keys the locked shards expired into the event buffer, each named with its
    /// shard's database.
    fn collect_expired(&mut self) {
        let per_db = self.inner.shards_per_db.max(1);
        for (i, g) in self.guards.iter_mut() {
            let db = (*i / per_db) as u32;
            for key in g.expired.drain(..) {
                self.events.push(Event {
                    name: "expired",
                    key,
                    db,
                });
            }
        }
    }

    /// The events to publish once the locks are released (none, with one load, when
    /// notifications are off). Also adds the view's changes to a locked shard's count.
    #[inline]
    pub(crate) fn take_events(&mut self) -> Vec<Event> {
        if self.changes != 0 {
            if let Some((_, g)) = self.guards.first_mut() {
                g.dirty += self.changes;
            }
            self.changes = 0;
        }
        if self.inner.notify.flags() == 0 {
            return Vec::new();
        }
        self.collect_expired();
        std::mem::take(&mut self.events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_print_as_redis_prints_them() {
        let cases: [(&str, &str); 8] = [
            ("", ""),
            ("KEA", "AKE"),
            ("AKEn", "AKE"),
            ("Kx", "xK"),
            ("EKzh$lsg", "g$lshzKE"),
            ("mE", "Em"),
            ("Kgn", "gnK"),
            ("g$lshzxetd", "A"),
        ];
        for (input, shown) in cases {
            let flags = parse_classes(input.as_bytes()).unwrap_or(u32::MAX);
            assert_eq!(classes_text(flags), shown, "{input}");
        }
        assert_eq!(parse_classes(b"KEw"), None);
        assert_eq!(parse_classes(b" "), None);
    }
}
