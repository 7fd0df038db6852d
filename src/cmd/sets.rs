//! Set commands.

use super::{reply, Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::Db;

fn bulks(items: Vec<Vec<u8>>) -> Vec<Reply> {
    items.into_iter().map(Reply::Bulk).collect()
}

/// A reply that is a set in RESP3 (SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a count).
fn set_reply(r: Result<Vec<Vec<u8>>>) -> Reply {
    match r {
        Ok(items) => Reply::Set(bulks(items)),
        Err(e) => Reply::Error(e.to_string()),
    }
}

/// `SADD key member [member ...]`, `SREM key member [member ...]`
pub(crate) struct SAddRem<'a, const REM: bool> {
    key: &'a [u8],
    members: &'a [&'a [u8]],
}

impl<'a, const REM: bool> Command<'a> for SAddRem<'a, REM> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(SAddRem {
            key: args.required()?,
            members: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        if REM {
            reply(db.srem(self.key, self.members))
        } else {
            reply(db.sadd(self.key, self.members))
        }
    }
}

/// `SMEMBERS key`
pub(crate) struct SMembers<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for SMembers<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(SMembers {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        set_reply(db.smembers(self.key))
    }
}

/// `SISMEMBER key member`
pub(crate) struct SIsMember<'a> {
    key: &'a [u8],
    member: &'a [u8],
}

impl<'a> Command<'a> for SIsMember<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(SIsMember {
            key: args.required()?,
            member: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.sismember(self.key, self.member))
    }
}

/// `SMISMEMBER key member [member ...]`
pub(crate) struct SMIsMember<'a> {
    key: &'a [u8],
    members: &'a [&'a [u8]],
}

impl<'a> Command<'a> for SMIsMember<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(SMIsMember {
            key: args.required()?,
            members: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.smismember(self.key, self.members) {
            Ok(v) => Reply::Array(v.into_iter().map(Reply::from).collect()),
            Err(e) => Reply::Error(e.to_string()),
        }
    }
}

/// `SCARD key`
pub(crate) struct SCard<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for SCard<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(SCard {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.scard(self.key))
    }
}

/// `SPOP key [count]`
pub(crate) struct SPop<'a> {
    key: &'a [u8],
    count: Option<usize>,
}

impl<'a> Command<'a> for SPop<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let count = match args.next() {
            None => None,
            Some(c) => {
                if args.remaining() > 0 {
                    return Err(Error::Syntax);
                }
                let n = crate::num::parse_i64(c)
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| Error::err("value is out of range, must be positive"))?;
                Some(usize::try_from(n).unwrap_or(usize::MAX))
            }
        };
        Ok(SPop { key, count })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match self.count {
            None => reply(db.spop(self.key)),
            Some(n) => set_reply(db.spop_count(self.key, n)),
        }
    }
}

/// `SRANDMEMBER key [count]`
pub(crate) struct SRandMember<'a> {
    key: &'a [u8],
    count: Option<i64>,
}

impl<'a> Command<'a> for SRandMember<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let count = match args.next() {
            None => None,
            Some(c) => {
                if args.remaining() > 0 {
                    return Err(Error::Syntax);
                }
                let n = crate::num::parse_i64(c).ok_or(Error::NotInteger)?;
                if n == i64::MIN {
                    return Err(Error::err(
                        "value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                    ));
                }
                Some(n)
            }
        };
        Ok(SRandMember { key, count })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match self.count {
            None => reply(db.srandmember(self.key)),
            Some(n) => reply(db.srandmember_count(self.key, n)),
        }
    }
}

/// `SMOVE source destination member`
pub(crate) struct SMove<'a> {
    src: &'a [u8],
    dst: &'a [u8],
    member: &'a [u8],
}

impl<'a> Command<'a> for SMove<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(SMove {
            src: args.required()?,
            dst: args.required()?,
            member: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.smove(self.src, self.dst, self.member))
    }
}

/// Which algebra a command runs.
const INTER: u8 = 0;
const UNION: u8 = 1;
const DIFF: u8 = 2;

/// `SINTER key [key ...]`, `SUNION key [key ...]`, `SDIFF key [key ...]`
pub(crate) struct SAlgebra<'a, const OP: u8> {
    keys: &'a [&'a [u8]],
}

impl<'a, const OP: u8> Command<'a> for SAlgebra<'a, OP> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(SAlgebra { keys: args.rest() })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        set_reply(match OP {
            INTER => db.sinter(self.keys),
            UNION => db.sunion(self.keys),
            _ => db.sdiff(self.keys),
        })
    }
}

/// `SINTERSTORE destination key [key ...]`, `SUNIONSTORE ...`, `SDIFFSTORE ...`
pub(crate) struct SAlgebraStore<'a, const OP: u8> {
    dst: &'a [u8],
    keys: &'a [&'a [u8]],
}

impl<'a, const OP: u8> Command<'a> for SAlgebraStore<'a, OP> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(SAlgebraStore {
            dst: args.required()?,
            keys: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(match OP {
            INTER => db.sinterstore(self.dst, self.keys),
            UNION => db.sunionstore(self.dst, self.keys),
            _ => db.sdiffstore(self.dst, self.keys),
        })
    }
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`
pub(crate) struct SInterCard<'a> {
    keys: &'a [&'a [u8]],
    limit: usize,
}

impl<'a> Command<'a> for SInterCard<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let numkeys = crate::num::parse_i64(args.required()?)
            .filter(|n| *n > 0)
            .ok_or_else(|| Error::err("numkeys should be greater than 0"))?;
        let rest = args.rest();
        let n = usize::try_from(numkeys).unwrap_or(usize::MAX);
        if n > rest.len() {
            return Err(Error::err(
                "Number of keys can't be greater than number of args",
            ));
        }
        let (keys, mut opts) = rest.split_at(n);
        let mut limit = 0;
        while let Some((opt, tail)) = opts.split_first() {
            match tail.first() {
                Some(v) if Args::is(opt, "limit") => {
                    limit = crate::num::parse_i64(v)
                        .filter(|l| *l >= 0)
                        .ok_or_else(|| Error::err("LIMIT can't be negative"))?;
                    opts = &tail[1..];
                }
                _ => return Err(Error::Syntax),
            }
        }
        Ok(SInterCard {
            keys,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.sintercard(self.keys, self.limit))
    }
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]`. As in Redis the cursor is checked
/// first, then the key (a missing key answers an empty page whatever the options), then
/// the options.
pub(crate) struct SScan<'a> {
    key: &'a [u8],
    cursor: u64,
    opts: &'a [&'a [u8]],
}

/// A SCAN cursor as Redis parses it (`strtoul`): decimal digits after an optional sign, a
/// negative value wrapping around.
fn parse_cursor(c: &[u8]) -> Result<u64> {
    let invalid = || Error::err("invalid cursor");
    let (neg, digits) = match c.first() {
        Some(b'-') => (true, &c[1..]),
        Some(b'+') => (false, &c[1..]),
        _ => (false, c),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let n = digits.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    let n = n.ok_or_else(invalid)?;
    Ok(if neg { n.wrapping_neg() } else { n })
}

/// SCAN's MATCH and COUNT options: the pattern and the count (10 by default).
fn scan_options<'a>(opts: &'a [&'a [u8]]) -> Result<(Option<&'a [u8]>, usize)> {
    let mut args = Args::new(opts);
    let mut pattern = None;
    let mut count = 10;
    while let Some(opt) = args.next() {
        if args.remaining() == 0 {
            return Err(Error::Syntax);
        }
        if Args::is(opt, "count") {
            let n = args.i64()?;
            if n < 1 {
                return Err(Error::Syntax);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if Args::is(opt, "match") {
            pattern = Some(args.required()?);
        } else {
            return Err(Error::Syntax);
        }
    }
    Ok((pattern, count))
}

impl<'a> Command<'a> for SScan<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let cursor = parse_cursor(args.required()?)?;
        Ok(SScan {
            key,
            cursor,
            opts: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let page = db.scard(self.key).and_then(|n| {
            if n == 0 {
                return Ok(crate::store::sets::SScanPage {
                    cursor: 0,
                    members: Vec::new(),
                });
            }
            let (pattern, count) = scan_options(self.opts)?;
            db.sscan(self.key, self.cursor, pattern, count)
        });
        match page {
            Ok(page) => Reply::Array(vec![
                Reply::Bulk(page.cursor.to_string().into_bytes()),
                Reply::Array(bulks(page.members)),
            ]),
            Err(e) => Reply::Error(e.to_string()),
        }
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let one = Keys::ONE;
    let all = Keys::ALL_ARGS;
    t.extend([
        Spec {
            name: "sadd",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(SAddRem<false>),
            block: None,
        },
        Spec {
            name: "srem",
            arity: -3,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(SAddRem<true>),
            block: None,
        },
        Spec {
            name: "smembers",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(SMembers),
            block: None,
        },
        Spec {
            name: "sismember",
            arity: 3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(SIsMember),
            block: None,
        },
        Spec {
            name: "smismember",
            arity: -3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(SMIsMember),
            block: None,
        },
        Spec {
            name: "scard",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(SCard),
            block: None,
        },
        Spec {
            name: "spop",
            arity: -2,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(SPop),
            block: None,
        },
        Spec {
            name: "srandmember",
            arity: -2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(SRandMember),
            block: None,
        },
        Spec {
            name: "smove",
            arity: 4,
            flags: Flags::WRITE,
            keys: Keys::Range {
                first: 1,
                last: 2,
                step: 1,
            },
            run: cmd!(SMove),
            block: None,
        },
        Spec {
            name: "sinter",
            arity: -2,
            flags: Flags::NONE,
            keys: all,
            run: cmd!(SAlgebra<INTER>),
            block: None,
        },
        // The keys are the `numkeys` arguments after it; every argument is locked, which
        // covers them (a few extra shards at most).
        Spec {
            name: "sintercard",
            arity: -3,
            flags: Flags::NONE,
            keys: Keys::Range {
                first: 2,
                last: -1,
                step: 1,
            },
            run: cmd!(SInterCard),
            block: None,
        },
        Spec {
            name: "sinterstore",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: all,
            run: cmd!(SAlgebraStore<INTER>),
            block: None,
        },
        Spec {
            name: "sunion",
            arity: -2,
            flags: Flags::NONE,
            keys: all,
            run: cmd!(SAlgebra<UNION>),
            block: None,
        },
        Spec {
            name: "sunionstore",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: all,
            run: cmd!(SAlgebraStore<UNION>),
            block: None,
        },
        Spec {
            name: "sdiff",
            arity: -2,
            flags: Flags::NONE,
            keys: all,
            run: cmd!(SAlgebra<DIFF>),
            block: None,
        },
        Spec {
            name: "sdiffstore",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: all,
            run: cmd!(SAlgebraStore<DIFF>),
            block: None,
        },
        Spec {
            name: "sscan",
            arity: -3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(SScan),
            block: None,
        },
    ]);
}
