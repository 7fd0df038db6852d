//! RedisBloom's cuckoo filter commands (`CF.*`): argument checks in RedisBloom's order, with
//! its texts (mostly without an `ERR ` prefix), and its reply shapes in RESP2 and RESP3.
//!
//! RedisBloom registers every command with arity -1 and counts arguments itself, so a wrong
//! count is not refused when queued in MULTI but answered when the transaction runs. The
//! rows here do the same: arity -1, and the count checked while parsing.
//!
//! RESP3: CF.ADD, CF.ADDNX, CF.EXISTS, CF.MEXISTS and CF.DEL answer booleans, CF.INSERT
//! answers `true` per stored item, CF.INSERTNX and CF.COUNT integers, CF.INFO a map.

use super::{Args, Command, Flags, Keys, Runner, Spec};
use crate::error::{Error, Result};
use crate::num::parse_i64;
use crate::reply::Reply;
use crate::store::cuckoo::{check_insert_capacity, CfReserveOptions, BAD_CAPACITY};
use crate::store::Db;
use crate::types::cuckoo::{self, CuckooError, CuckooInfo, InsertOutcome, DEFAULT_CAPACITY};

fn arity(name: &str) -> Error {
    Error::WrongArity(name.to_owned())
}

fn err_reply(e: Error) -> Reply {
    Reply::Error(e.to_string())
}

/// CF.INFO's map, in RedisBloom's order.
fn info_reply(i: &CuckooInfo) -> Reply {
    let fields = [
        ("Size", i.size),
        ("Number of buckets", i.num_buckets),
        ("Number of filters", i.num_filters),
        ("Number of items inserted", i.num_items),
        ("Number of items deleted", i.num_deletes),
        ("Bucket size", i.bucket_size),
        ("Expansion rate", i.expansion),
        ("Max iterations", i.max_iterations),
    ];
    // RedisBloom replies its unsigned counters as `long long`.
    Reply::Map(
        fields
            .into_iter()
            .map(|(k, v)| (Reply::status(k), Reply::Integer(v as i64)))
            .collect(),
    )
}

/// `CF.RESERVE key capacity [BUCKETSIZE bucketsize] [MAXITERATIONS maxiterations]
/// [EXPANSION expansion]`
///
/// Options are found anywhere among the arguments (the key included) and unknown words are
/// ignored, as RedisBloom does; the argument count must be odd. Checked in RedisBloom's
/// order: capacity parsed, MAXITERATIONS, BUCKETSIZE, EXPANSION (each parsed then range
/// checked), then the capacity against the bucket size.
pub(crate) struct CfReserve<'a> {
    key: &'a [u8],
    capacity: i64,
    opts: CfReserveOptions,
}

impl<'a> Command<'a> for CfReserve<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let all = args.rest();
        if all.len() < 2 || all.len() % 2 == 1 {
            return Err(arity("cf.reserve"));
        }
        let capacity = parse_i64(all[1]).ok_or_else(|| Error::other(BAD_CAPACITY))?;
        // RedisBloom reads the word after the option; for an option that is the last
        // argument it reads past its argument array (and may crash). Here: a parse error.
        let option = |word: &str,
                      check: fn(i64) -> std::result::Result<u16, CuckooError>,
                      default: u16|
         -> Result<u16> {
            match all.iter().position(|a| Args::is(a, word)) {
                None => Ok(default),
                Some(at) => {
                    let v = all
                        .get(at + 1)
                        .and_then(|v| parse_i64(v))
                        .ok_or_else(|| Error::other(format!("Couldn't parse {word}")))?;
                    Ok(check(v)?)
                }
            }
        };
        let d = CfReserveOptions::default();
        let max_iterations = option(
            "MAXITERATIONS",
            cuckoo::check_max_iterations,
            d.max_iterations,
        )?;
        let bucket_size = option("BUCKETSIZE", cuckoo::check_bucket_size, d.bucket_size)?;
        let expansion = option("EXPANSION", cuckoo::check_expansion, d.expansion)?;
        cuckoo::check_capacity(capacity, bucket_size)?;
        Ok(CfReserve {
            key: all[0],
            capacity,
            opts: CfReserveOptions {
                bucket_size,
                max_iterations,
                expansion,
            },
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        super::reply(db.cf_reserve(self.key, self.capacity, &self.opts))
    }
}

/// `CF.ADD key item` and `CF.ADDNX key item` (told apart by the name's last letter, as
/// RedisBloom does).
pub(crate) struct CfAdd<'a, const NX: bool> {
    key: &'a [u8],
    item: &'a [u8],
}

impl<'a, const NX: bool> Command<'a> for CfAdd<'a, NX> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        match args.rest() {
            [key, item] => Ok(CfAdd { key, item }),
            _ => Err(arity(if NX { "cf.addnx" } else { "cf.add" })),
        }
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.cf_add(self.key, self.item, NX) {
            Ok(b) => Reply::Bool(b),
            Err(e) => err_reply(e),
        }
    }
}

/// `CF.INSERT key [CAPACITY capacity] [NOCREATE] ITEMS item [item ...]` and CF.INSERTNX.
///
/// Options are told apart by their first letter (`c` CAPACITY, `n` NOCREATE, `i` ITEMS),
/// as RedisBloom does; everything after ITEMS is an item.
pub(crate) struct CfInsert<'a, const NX: bool> {
    key: &'a [u8],
    capacity: i64,
    nocreate: bool,
    items: &'a [&'a [u8]],
}

impl<'a, const NX: bool> Command<'a> for CfInsert<'a, NX> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let name = if NX { "cf.insertnx" } else { "cf.insert" };
        let all = args.rest();
        if all.len() < 3 {
            return Err(arity(name));
        }
        let mut capacity = DEFAULT_CAPACITY;
        let mut nocreate = false;
        let mut items_at = None;
        let mut pos = 1;
        while pos < all.len() && items_at.is_none() {
            let letter = all[pos].first().map_or(0, u8::to_ascii_lowercase);
            pos += 1;
            match letter {
                b'c' => {
                    let Some(v) = all.get(pos) else {
                        return Err(arity(name));
                    };
                    pos += 1;
                    let v = parse_i64(v).ok_or_else(|| Error::other(BAD_CAPACITY))?;
                    capacity = check_insert_capacity(v)?;
                }
                b'i' => items_at = Some(pos),
                b'n' => nocreate = true,
                _ => return Err(Error::other("Unknown argument received")),
            }
        }
        let items = match items_at {
            Some(at) if at < all.len() => &all[at..],
            _ => return Err(arity(name)),
        };
        Ok(CfInsert {
            key: all[0],
            capacity,
            nocreate,
            items,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.cf_insert(self.key, self.capacity, self.nocreate, self.items, NX) {
            Ok(outcomes) => Reply::Array(
                outcomes
                    .into_iter()
                    .map(|o| match o {
                        InsertOutcome::Inserted if !NX => Reply::Bool(true),
                        InsertOutcome::Inserted => Reply::Integer(1),
                        InsertOutcome::Exists => Reply::Integer(0),
                        // No room in a filter that cannot grow: RedisBloom answers -1 in
                        // RESP2 and `false` in RESP3 for CF.INSERT (-1 in both for INSERTNX).
                        InsertOutcome::NoSpace if !NX => {
                            Reply::Shapes(Box::new((Reply::Integer(-1), Reply::Bool(false))))
                        }
                        InsertOutcome::NoSpace => Reply::Integer(-1),
                        InsertOutcome::OutOfMemory => {
                            Reply::Error(CuckooError::OutOfMemory.to_string())
                        }
                    })
                    .collect(),
            ),
            Err(e) => err_reply(e),
        }
    }
}

/// `CF.EXISTS key item`, `CF.MEXISTS key item [item ...]` (`MULTI`) and `CF.COUNT key item`
/// (`COUNT`). A missing key or another type answers 0 / false.
pub(crate) struct CfCheck<'a, const MULTI: bool, const COUNT: bool> {
    key: &'a [u8],
    items: &'a [&'a [u8]],
}

impl<'a, const MULTI: bool, const COUNT: bool> Command<'a> for CfCheck<'a, MULTI, COUNT> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let all = args.rest();
        let ok = if MULTI {
            all.len() >= 2
        } else {
            all.len() == 2
        };
        if !ok {
            let name = match (MULTI, COUNT) {
                (true, _) => "cf.mexists",
                (false, true) => "cf.count",
                (false, false) => "cf.exists",
            };
            return Err(arity(name));
        }
        Ok(CfCheck {
            key: all[0],
            items: &all[1..],
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        if COUNT {
            let n = self.items.first().map_or(0, |i| db.cf_count(self.key, i));
            return Reply::Integer(n as i64);
        }
        let found = db.cf_mexists(self.key, self.items);
        if MULTI {
            Reply::Array(found.into_iter().map(Reply::Bool).collect())
        } else {
            Reply::Bool(found.first().copied().unwrap_or(false))
        }
    }
}

/// `CF.DEL key item`
pub(crate) struct CfDel<'a> {
    key: &'a [u8],
    item: &'a [u8],
}

impl<'a> Command<'a> for CfDel<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        match args.rest() {
            [key, item] => Ok(CfDel { key, item }),
            _ => Err(arity("cf.del")),
        }
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.cf_del(self.key, self.item) {
            Ok(b) => Reply::Bool(b),
            Err(e) => err_reply(e),
        }
    }
}

/// One-key commands: CF.COMPACT, CF.INFO and CF.DEBUG.
pub(crate) struct CfKeyOnly<'a, const WHICH: u8> {
    key: &'a [u8],
}

const COMPACT: u8 = 0;
const INFO: u8 = 1;
const DEBUG: u8 = 2;

impl<'a, const WHICH: u8> Command<'a> for CfKeyOnly<'a, WHICH> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        match args.rest() {
            [key] => Ok(CfKeyOnly { key }),
            _ => Err(arity(match WHICH {
                COMPACT => "cf.compact",
                INFO => "cf.info",
                _ => "cf.debug",
            })),
        }
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let r = match WHICH {
            COMPACT => db.cf_compact(self.key).map(|()| Reply::ok()),
            INFO => db.cf_info(self.key).map(|i| info_reply(&i)),
            _ => db.cf_debug(self.key).map(|s| Reply::Bulk(s.into_bytes())),
        };
        r.unwrap_or_else(err_reply)
    }
}

/// `CF.SCANDUMP key cursor`. The cursor is checked before the key.
pub(crate) struct CfScanDump<'a> {
    key: &'a [u8],
    cursor: i64,
}

impl<'a> Command<'a> for CfScanDump<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        match args.rest() {
            [key, cursor] => Ok(CfScanDump {
                key,
                cursor: parse_i64(cursor)
                    .filter(|&c| c >= 0)
                    .ok_or(CuckooError::InvalidPosition)?,
            }),
            _ => Err(arity("cf.scandump")),
        }
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.cf_scandump(self.key, self.cursor) {
            Ok((next, chunk)) => Reply::Array(vec![
                Reply::Integer(next),
                chunk.map_or(Reply::Nil, Reply::Bulk),
            ]),
            Err(e) => err_reply(e),
        }
    }
}

/// `CF.LOADCHUNK key cursor data`. The key is opened (and marked modified) before the
/// cursor is checked.
pub(crate) struct CfLoadChunk<'a> {
    key: &'a [u8],
    cursor: &'a [u8],
    data: &'a [u8],
}

impl<'a> Command<'a> for CfLoadChunk<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        match args.rest() {
            [key, cursor, data] => Ok(CfLoadChunk { key, cursor, data }),
            _ => Err(arity("cf.loadchunk")),
        }
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        db.touch(self.key);
        // 0 is refused by `cf_loadchunk` too.
        let cursor = parse_i64(self.cursor).unwrap_or(0);
        super::reply(db.cf_loadchunk(self.key, cursor, self.data))
    }
}

/// A RedisBloom row: arity -1 (the module counts arguments itself), one key.
pub(super) fn module_row(name: &'static str, flags: Flags, keys: Keys, run: Runner) -> Spec {
    Spec {
        name,
        arity: -1,
        flags,
        keys,
        run,
        block: None,
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let row =
        |name: &'static str, flags: Flags, run: Runner| module_row(name, flags, Keys::ONE, run);
    let w = Flags::WRITE_DENYOOM;
    let r = Flags::NONE;
    t.extend([
        row("cf.reserve", w, cmd!(CfReserve)),
        row("cf.add", w, cmd!(CfAdd<false>)),
        row("cf.addnx", w, cmd!(CfAdd<true>)),
        row("cf.insert", w, cmd!(CfInsert<false>)),
        row("cf.insertnx", w, cmd!(CfInsert<true>)),
        row("cf.exists", r, cmd!(CfCheck<false, false>)),
        row("cf.mexists", r, cmd!(CfCheck<true, false>)),
        row("cf.count", r, cmd!(CfCheck<false, true>)),
        row("cf.del", Flags::WRITE, cmd!(CfDel)),
        // RedisBloom declares CF.COMPACT read-only although it rewrites the filter.
        row("cf.compact", r, cmd!(CfKeyOnly<COMPACT>)),
        row("cf.scandump", r, cmd!(CfScanDump)),
        row("cf.loadchunk", w, cmd!(CfLoadChunk)),
        row("cf.info", r, cmd!(CfKeyOnly<INFO>)),
        row("cf.debug", r, cmd!(CfKeyOnly<DEBUG>)),
    ]);
}
