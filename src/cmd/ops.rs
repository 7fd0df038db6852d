//! Typed transactions: a [`TxOp`] is one command of a transaction given already parsed.
//!
//! # Design
//!
//! The session-intelligence transactions (a pageview is eleven commands) are built by code,
//! not typed by a user, so on the embedded store turning them into argv only to parse it
//! back is wasted work: a pageview spent about a third of its instructions building,
//! checking and parsing arguments. A `TxOp` carries the parsed arguments and runs as the
//! same command struct the argv front end builds (`PfAdd`, `IncrBy`, `BitField`, ...),
//! skipping only `parse`, so replies and errors are the argv path's by construction. On
//! another backend `TxOp::to_argv` (in `crate::backend`, beside the other argv builders)
//! gives the command as Redis takes it.
//!
//! A caller that reads the replies rather than forwarding them takes them as [`TxReply`]
//! values (`transaction_ops_typed`): the embedded store builds those straight from the typed
//! methods' results, without the `Reply` values, the RESP2 conversion or the array
//! BITFIELD's reply would need; another backend converts its EXEC replies. Both give what
//! [`TxReply::from_reply`] makes of the argv path's replies (the tests hold them equal).
//!
//! A caller that runs such transactions again and again (a pageview) passes its reply slots
//! (`transaction_ops_typed_into`): a `GET` or `BITFIELD` whose slot still holds the bulk
//! string or the fields of the previous run writes into that allocation, so that with kept
//! slots a transaction allocates nothing. It may also pass the time it read from the
//! store's clock to build the ops, which the transaction takes as its own instead of
//! reading the clock a second time.

use super::bits::bitfield_reply;
use super::bloom::BfAdd;
use super::generic::Expire;
use super::hll::{PfAdd, PfCount};
use super::strings::{Get, IncrBy};
use super::Command;
use crate::error::Error;
use crate::reply::Reply;
use crate::store::Db;
use crate::types::bitmap::BitfieldOp;
use std::time::Duration;

/// One command of a typed transaction ([`crate::Backend::transaction_ops`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxOp<'a> {
    /// `PFADD key element [element ...]`
    PfAdd(&'a [u8], &'a [&'a [u8]]),
    /// `INCR key`
    Incr(&'a [u8]),
    /// `BITFIELD key <ops>`
    Bitfield(&'a [u8], &'a [BitfieldOp]),
    /// `PFCOUNT key`
    PfCount(&'a [u8]),
    /// `BF.ADD key item`
    BfAdd(&'a [u8], &'a [u8]),
    /// `GET key`
    Get(&'a [u8]),
    /// `PEXPIRE key milliseconds` (whole milliseconds of the duration)
    PExpire(&'a [u8], Duration),
}

impl<'a> TxOp<'a> {
    /// The command's name in lower case, as Redis's command table has it.
    pub fn name(&self) -> &'static str {
        match self {
            TxOp::PfAdd(..) => "pfadd",
            TxOp::Incr(_) => "incr",
            TxOp::Bitfield(..) => "bitfield",
            TxOp::PfCount(_) => "pfcount",
            TxOp::BfAdd(..) => "bf.add",
            TxOp::Get(_) => "get",
            TxOp::PExpire(..) => "pexpire",
        }
    }

    /// The key the command acts on.
    pub fn key(&self) -> &'a [u8] {
        match *self {
            TxOp::PfAdd(k, _)
            | TxOp::Incr(k)
            | TxOp::Bitfield(k, _)
            | TxOp::PfCount(k)
            | TxOp::BfAdd(k, _)
            | TxOp::Get(k)
            | TxOp::PExpire(k, _) => k,
        }
    }

    /// Whether Redis refuses the command while over `maxmemory` (its `denyoom` flag):
    /// fixed per command, so a typed transaction never looks its commands up in the table
    /// (the `typed_ops_carry_their_commands_denyoom_flags` test pins it to the table).
    pub(crate) fn denyoom(&self) -> bool {
        match self {
            TxOp::PfAdd(..) | TxOp::Incr(_) | TxOp::Bitfield(..) | TxOp::BfAdd(..) => true,
            TxOp::PfCount(_) | TxOp::Get(_) | TxOp::PExpire(..) => false,
        }
    }

    /// Runs the command on a view that holds its key's shard: its command struct's `apply`.
    pub(crate) fn run(&self, db: &mut Db<'_>) -> Reply {
        match *self {
            TxOp::PfAdd(key, items) => PfAdd { key, items }.apply(db),
            TxOp::Incr(key) => IncrBy::<false, false> { key, by: 1 }.apply(db),
            // BITFIELD's own apply, without copying the ops into a `BitField`.
            TxOp::Bitfield(key, ops) => bitfield_reply(db, key, ops),
            TxOp::PfCount(key) => PfCount {
                keys: std::slice::from_ref(&key),
            }
            .apply(db),
            TxOp::BfAdd(key, item) => BfAdd { key, item }.apply(db),
            TxOp::Get(key) => Get { key }.apply(db),
            // A duration past i64 milliseconds is what Redis answers for a number it
            // cannot parse.
            TxOp::PExpire(key, ttl) => Expire::<1> {
                key,
                number: i64::try_from(ttl.as_millis()).ok(),
                cond: Default::default(),
            }
            .apply(db),
        }
    }
}

/// Whether `r` is a reply RESP2 gives as it is.
#[inline]
fn plain(r: &Reply) -> bool {
    matches!(
        r,
        Reply::Integer(_) | Reply::Nil | Reply::Bulk(_) | Reply::Status(_) | Reply::Error(_)
    )
}

/// A reply of a typed transaction in the shape its caller reads
/// ([`crate::Backend::transaction_ops_typed`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxReply {
    /// An integer (`BF.ADD`'s and `PEXPIRE`'s answers too, 1 or 0, as RESP2 gives them).
    Integer(i64),
    /// Nil (`GET` of a missing key).
    Nil,
    /// A bulk string.
    Bulk(Vec<u8>),
    /// `BITFIELD`'s reply: each subcommand's value, `None` where `OVERFLOW FAIL` refused it.
    Fields(Vec<Option<i64>>),
    /// The command's error.
    Error(Error),
    /// Any other reply, as EXEC gave it.
    Other(Reply),
}

impl TxReply {
    /// What a caller of [`crate::Backend::transaction_ops_typed`] receives for `op`'s reply
    /// `r` (in RESP2's shapes) from EXEC.
    pub fn from_reply(r: Reply, op: &TxOp<'_>) -> TxReply {
        match r {
            Reply::Integer(n) => TxReply::Integer(n),
            Reply::Bool(b) => TxReply::Integer(i64::from(b)),
            Reply::Nil => TxReply::Nil,
            Reply::Bulk(b) => TxReply::Bulk(b),
            Reply::Error(e) => TxReply::Error(Error::from_reply_text(&e)),
            Reply::Array(items)
                if matches!(op, TxOp::Bitfield(..))
                    && items
                        .iter()
                        .all(|i| matches!(i, Reply::Integer(_) | Reply::Nil)) =>
            {
                let mut fields = Vec::with_capacity(items.len());
                for i in items {
                    fields.push(match i {
                        Reply::Integer(n) => Some(n),
                        _ => None,
                    });
                }
                TxReply::Fields(fields)
            }
            r => TxReply::Other(r),
        }
    }

    /// The reply in RESP2's shapes, as [`crate::Backend::transaction_ops`] gives it.
    pub fn into_reply(self) -> Reply {
        match self {
            TxReply::Integer(n) => Reply::Integer(n),
            TxReply::Nil => Reply::Nil,
            TxReply::Bulk(b) => Reply::Bulk(b),
            TxReply::Fields(f) => Reply::Array(
                f.into_iter()
                    .map(|v| v.map_or(Reply::Nil, Reply::Integer))
                    .collect(),
            ),
            TxReply::Error(e) => Reply::Error(e.to_string()),
            TxReply::Other(r) => r,
        }
    }
}

/// A typed method's result as a [`TxReply`]; an error as EXEC's reply carries it.
#[inline]
fn typed<T>(r: crate::Result<T>, f: impl FnOnce(T) -> TxReply) -> TxReply {
    match r {
        Ok(v) => f(v),
        Err(e) => TxReply::Error(Error::from_reply_text(&e.to_string())),
    }
}

impl TxOp<'_> {
    /// Runs the command as [`TxOp::run`] does, answering what [`TxReply::from_reply`] makes
    /// of its reply without building that reply.
    pub(crate) fn run_typed(&self, db: &mut Db<'_>) -> TxReply {
        match *self {
            TxOp::PfAdd(key, items) => {
                typed(db.pfadd(key, items), |b| TxReply::Integer(i64::from(b)))
            }
            TxOp::Incr(key) => typed(db.incrby(key, 1), TxReply::Integer),
            TxOp::Bitfield(key, ops) => typed(db.bitfield(key, ops), TxReply::Fields),
            // Redis replies with the 64-bit cardinality as a signed integer.
            TxOp::PfCount(key) => typed(db.pfcount(std::slice::from_ref(&key)), |n| {
                TxReply::Integer(n as i64)
            }),
            TxOp::BfAdd(key, item) => {
                typed(db.bf_add(key, item), |b| TxReply::Integer(i64::from(b)))
            }
            TxOp::Get(key) => typed(db.get(key), |v| v.map_or(TxReply::Nil, TxReply::Bulk)),
            TxOp::PExpire(key, ttl) => typed(
                Expire::<1> {
                    key,
                    number: i64::try_from(ttl.as_millis()).ok(),
                    cond: Default::default(),
                }
                .run(db),
                |b| TxReply::Integer(i64::from(b)),
            ),
        }
    }
}

impl TxOp<'_> {
    /// [`TxOp::run_typed`] into `slot`: a GET whose slot holds a bulk string from an earlier
    /// run, or a BITFIELD whose slot holds fields, writes its answer into that allocation.
    pub(crate) fn run_typed_into(&self, db: &mut Db<'_>, slot: &mut TxReply) {
        match (*self, &mut *slot) {
            (TxOp::Get(key), TxReply::Bulk(buf)) => match db.get_into(key, buf) {
                Ok(true) => {}
                Ok(false) => *slot = TxReply::Nil,
                Err(e) => *slot = typed::<()>(Err(e), |_| TxReply::Nil),
            },
            (TxOp::Bitfield(key, ops), TxReply::Fields(fields)) => {
                if let Err(e) = db.bitfield_into(key, ops, fields) {
                    *slot = typed::<()>(Err(e), |_| TxReply::Nil);
                }
            }
            _ => {
                let old = std::mem::replace(slot, self.run_typed(db));
                // Most slots held a scalar from the last run, which owns nothing: skipping
                // its drop glue saves a call per op.
                if matches!(old, TxReply::Integer(_) | TxReply::Nil) {
                    std::mem::forget(old);
                }
            }
        }
    }
}

/// `r` in RESP2's shapes; the scalar replies most typed ops give are already, and so is
/// BITFIELD's array of integers and nils (converting it would rebuild the array).
#[inline]
fn resp2(r: Reply) -> Reply {
    match r {
        r if plain(&r) => r,
        Reply::Array(items) if items.iter().all(plain) => Reply::Array(items),
        r => r.into_resp2(),
    }
}

impl crate::store::Store {
    /// MULTI, the typed `ops`, EXEC, with no WATCH: what a connection does with the ops'
    /// argv (same queue-time memory check, same locks, same replies), without building or
    /// parsing it.
    pub(crate) fn exec_ops(&self, ops: &[TxOp<'_>]) -> crate::Result<Vec<Reply>> {
        self.exec_ops_each(ops, |op, db| resp2(op.run(db)))
    }

    /// [`Store::exec_ops`] answering [`TxReply`] values.
    pub(crate) fn exec_ops_typed(&self, ops: &[TxOp<'_>]) -> crate::Result<Vec<TxReply>> {
        self.exec_ops_each(ops, |op, db| op.run_typed(db))
    }

    /// [`Store::exec_ops_typed`] into `replies` (at least as long as `ops`), reusing the
    /// allocations of the replies it holds; `now`, when given, is the transaction's time
    /// (read from this store's clock by the caller). How many replies it wrote: all, or
    /// none if the transaction did not run.
    pub(crate) fn exec_ops_typed_into(
        &self,
        ops: &[TxOp<'_>],
        now: Option<i64>,
        replies: &mut [TxReply],
    ) -> crate::Result<usize> {
        if replies.len() < ops.len() {
            return Err(short_buffer(ops.len(), replies.len()));
        }
        let done = self.exec_ops_with(ops, |db| {
            if let Some(t) = now {
                db.assume_now(t);
            }
            for (op, slot) in ops.iter().zip(replies.iter_mut()) {
                op.run_typed_into(db, slot);
            }
        })?;
        Ok(if done.is_some() { ops.len() } else { 0 })
    }

    /// MULTI, `ops`, EXEC, each op run by `run`.
    #[inline]
    fn exec_ops_each<T>(
        &self,
        ops: &[TxOp<'_>],
        run: impl Fn(&TxOp<'_>, &mut Db<'_>) -> T,
    ) -> crate::Result<Vec<T>> {
        Ok(self
            .exec_ops_with(ops, |db| ops.iter().map(|op| run(op, db)).collect())?
            .unwrap_or_default())
    }

    /// MULTI, `ops`, EXEC, the ops run by `batch` on the locked view: `None` when the
    /// transaction did not run.
    #[inline]
    fn exec_ops_with<R>(
        &self,
        ops: &[TxOp<'_>],
        batch: impl FnOnce(&mut Db<'_>) -> R,
    ) -> crate::Result<Option<R>> {
        for op in ops {
            if self.check_memory(op.denyoom()).is_err() {
                return Err(crate::Error::from_reply_text(
                    "EXECABORT Transaction discarded because of previous errors.",
                ));
            }
        }
        // A fixed array for the usual few ops: collecting into a list cost more.
        let mut few: [&[u8]; 16] = [&[]; 16];
        let many: Vec<&[u8]>;
        let keys: &[&[u8]] = if ops.len() <= few.len() {
            for (k, op) in few.iter_mut().zip(ops) {
                *k = op.key();
            }
            &few[..ops.len()]
        } else {
            many = ops.iter().map(TxOp::key).collect();
            &many
        };
        Ok(self.run_atomic(keys, false, false, &[], None, batch))
    }
}

/// The error of a reply buffer shorter than its transaction.
pub(crate) fn short_buffer(ops: usize, replies: usize) -> Error {
    Error::Io(format!(
        "a transaction of {ops} commands needs room for {ops} replies, not {replies}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::bitmap::{BitfieldOffset, BitfieldType, Overflow};
    use crate::Store;
    use proptest::prelude::*;

    /// Every op, run typed on one store and as its argv on another, answers the same and
    /// leaves the same bytes.
    #[test]
    fn typed_ops_answer_as_their_argv() {
        let typed = Store::new();
        let argv = Store::new();
        let t = BitfieldType::U8;
        let bf = [
            BitfieldOp::Set(BitfieldType::new(true, 16).unwrap(), 0.into(), -3),
            BitfieldOp::Overflow(Overflow::Sat),
            BitfieldOp::IncrBy(t, 16.into(), 300),
            BitfieldOp::Get(t, BitfieldOffset::Fields(2)),
            BitfieldOp::Overflow(Overflow::Fail),
            BitfieldOp::IncrBy(t, BitfieldOffset::Fields(2), 1),
            BitfieldOp::Overflow(Overflow::Wrap),
        ];
        let items: [&[u8]; 3] = [b"a", b"b", b"a"];
        let ops = [
            TxOp::PfAdd(b"h", &items),
            TxOp::PfCount(b"h"),
            TxOp::PfCount(b"missing"),
            TxOp::Incr(b"n"),
            TxOp::Incr(b"n"),
            TxOp::Incr(b"h"),
            TxOp::Bitfield(b"b", &bf),
            TxOp::Get(b"b"),
            TxOp::Get(b"n"),
            TxOp::BfAdd(b"f", b"x"),
            TxOp::BfAdd(b"f", b"x"),
            TxOp::BfAdd(b"n", b"x"),
            TxOp::PfAdd(b"n", &items),
            TxOp::PExpire(b"n", Duration::from_millis(1500)),
            TxOp::PExpire(b"missing", Duration::from_secs(1)),
            TxOp::PExpire(b"n", Duration::ZERO),
            TxOp::PExpire(b"f", Duration::from_secs(u64::MAX)),
        ];
        let typed_replies = Store::new();
        for op in &ops {
            let a = argv.execute(&op.to_argv());
            // `execute` answers in RESP2's shapes; the typed run in the protocol-neutral ones.
            let b = typed.with_key(op.key(), |db| op.run(db)).into_resp2();
            assert_eq!(a, b, "{op:?}");
            let c = typed_replies.with_key(op.key(), |db| op.run_typed(db));
            assert_eq!(c, TxReply::from_reply(a.clone(), op), "{op:?}");
            assert_eq!(c.into_reply(), a, "{op:?}");
        }
        for key in [&b"h"[..], b"n", b"b", b"f"] {
            assert_eq!(
                typed.execute(&[&b"TYPE"[..], key]),
                argv.execute(&[&b"TYPE"[..], key])
            );
            assert_eq!(
                typed.execute(&[&b"PTTL"[..], key]),
                argv.execute(&[&b"PTTL"[..], key])
            );
        }
        assert_eq!(typed.execute(&["GET", "h"]), argv.execute(&["GET", "h"]));
        assert_eq!(
            typed.execute(&["BF.CARD", "f"]),
            argv.execute(&["BF.CARD", "f"])
        );
    }

    #[test]
    fn typed_ops_carry_their_commands_denyoom_flags() {
        let bf: [BitfieldOp; 0] = [];
        let items: [&[u8]; 1] = [b"a"];
        let d = Duration::from_secs(1);
        for op in [
            TxOp::PfAdd(b"k", &items),
            TxOp::Incr(b"k"),
            TxOp::Bitfield(b"k", &bf),
            TxOp::PfCount(b"k"),
            TxOp::BfAdd(b"k", b"a"),
            TxOp::Get(b"k"),
            TxOp::PExpire(b"k", d),
        ] {
            let spec = crate::cmd::lookup(op.name().as_bytes()).expect("a known command");
            assert_eq!(
                op.denyoom(),
                spec.flags.has(crate::cmd::Flags::WRITE_DENYOOM),
                "{op:?}"
            );
        }
    }

    /// An owned op, for generating random transactions.
    #[derive(Clone, Debug)]
    enum Owned {
        PfAdd(usize, Vec<Vec<u8>>),
        Incr(usize),
        Bitfield(usize, Vec<BitfieldOp>),
        PfCount(usize),
        BfAdd(usize, Vec<u8>),
        Get(usize),
        PExpire(usize, u64),
    }

    const KEYS: [&[u8]; 4] = [b"{s}:a", b"{s}:b", b"c", b"ss:{u1}:pages"];

    fn owned() -> impl Strategy<Value = Owned> {
        let key = 0..KEYS.len();
        let item = proptest::collection::vec(0u8..4, 0..3);
        let bf_op = (
            0u8..4,
            prop_oneof![Just(8u8), Just(16), Just(3), Just(63)],
            0u64..40,
            any::<i64>(),
            0u8..3,
        )
            .prop_map(|(kind, bits, offset, v, of)| {
                let signed = bits != 63 && v % 2 == 0;
                let t = BitfieldType::new(signed, bits).unwrap();
                let v = v % 1000;
                // Odd offsets count fields (`#n`), even ones bits.
                let offset = if offset % 2 == 1 {
                    BitfieldOffset::Fields(offset / 8)
                } else {
                    BitfieldOffset::Bits(offset)
                };
                match kind {
                    0 => BitfieldOp::Get(t, offset),
                    1 => BitfieldOp::Set(t, offset, v),
                    2 => BitfieldOp::IncrBy(t, offset, v),
                    _ => BitfieldOp::Overflow(
                        [Overflow::Wrap, Overflow::Sat, Overflow::Fail][usize::from(of)],
                    ),
                }
            });
        prop_oneof![
            (key.clone(), proptest::collection::vec(item.clone(), 1..4))
                .prop_map(|(k, i)| Owned::PfAdd(k, i)),
            key.clone().prop_map(Owned::Incr),
            (key.clone(), proptest::collection::vec(bf_op, 0..5))
                .prop_map(|(k, o)| Owned::Bitfield(k, o)),
            key.clone().prop_map(Owned::PfCount),
            (key.clone(), item).prop_map(|(k, i)| Owned::BfAdd(k, i)),
            key.clone().prop_map(Owned::Get),
            (key, 0u64..5_000).prop_map(|(k, ms)| Owned::PExpire(k, ms)),
        ]
    }

    fn borrow<'a>(o: &'a Owned, items: &'a [&'a [u8]]) -> TxOp<'a> {
        match o {
            Owned::PfAdd(k, _) => TxOp::PfAdd(KEYS[*k], items),
            Owned::Incr(k) => TxOp::Incr(KEYS[*k]),
            Owned::Bitfield(k, ops) => TxOp::Bitfield(KEYS[*k], ops),
            Owned::PfCount(k) => TxOp::PfCount(KEYS[*k]),
            Owned::BfAdd(k, i) => TxOp::BfAdd(KEYS[*k], i),
            Owned::Get(k) => TxOp::Get(KEYS[*k]),
            Owned::PExpire(k, ms) => TxOp::PExpire(KEYS[*k], Duration::from_millis(*ms)),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Random typed transactions answer as their argv sent through MULTI/EXEC, and leave
        /// the same keys behind.
        #[test]
        fn typed_transactions_match_multi_exec(txs in proptest::collection::vec(proptest::collection::vec(owned(), 1..8), 1..6)) {
            use crate::backend::Backend;
            let clock = crate::ManualClock::new(1_700_000_000_000);
            let typed = Store::builder().clock(crate::Clock::manual(&clock)).build();
            let argv = Store::builder().clock(crate::Clock::manual(&clock)).build();
            let typed_replies = Store::builder().clock(crate::Clock::manual(&clock)).build();
            let typed_into = Store::builder().clock(crate::Clock::manual(&clock)).build();
            // Kept across transactions, as a caller reusing its buffers keeps them.
            let mut slots: Vec<TxReply> = Vec::new();
            for tx in &txs {
                let items: Vec<Vec<&[u8]>> = tx
                    .iter()
                    .map(|o| match o {
                        Owned::PfAdd(_, i) => i.iter().map(Vec::as_slice).collect(),
                        _ => Vec::new(),
                    })
                    .collect();
                let ops: Vec<TxOp<'_>> = tx.iter().zip(&items).map(|(o, i)| borrow(o, i)).collect();
                let a = typed.transaction_ops(&ops);
                let cmds: Vec<Vec<Vec<u8>>> = ops.iter().map(TxOp::to_argv).collect();
                let b = Backend::transaction(&argv, &[], &cmds).map(|r| r.expect("nothing watched"));
                let c = typed_replies.transaction_ops_typed(&ops);
                slots.resize_with(ops.len().max(slots.len()), || TxReply::Nil);
                let now = typed_into.clock().now_ms();
                let n = typed_into.transaction_ops_typed_into(&ops, Some(now), &mut slots);
                let d = n.map(|n| slots[..n].to_vec());
                let from_b = b.clone().map(|replies| {
                    replies.into_iter().zip(&ops).map(|(r, op)| TxReply::from_reply(r, op)).collect::<Vec<_>>()
                });
                prop_assert_eq!(a, b);
                prop_assert_eq!(&d, &from_b);
                prop_assert_eq!(c, from_b);
                clock.advance(Duration::from_millis(700));
                for key in KEYS {
                    for cmd in ["GET", "TYPE", "PTTL", "BF.CARD", "PFCOUNT"] {
                        let (x, y) = (typed.execute(&[cmd.as_bytes(), key]), argv.execute(&[cmd.as_bytes(), key]));
                        let z = typed_replies.execute(&[cmd.as_bytes(), key]);
                        let w = typed_into.execute(&[cmd.as_bytes(), key]);
                        prop_assert_eq!(&x, &y, "{} {:?}", cmd, String::from_utf8_lossy(key));
                        prop_assert_eq!(&z, &y, "{} {:?}", cmd, String::from_utf8_lossy(key));
                        prop_assert_eq!(&w, &y, "{} {:?}", cmd, String::from_utf8_lossy(key));
                    }
                }
            }
        }
    }
}
