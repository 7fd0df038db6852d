//! List commands, blocking pops included.
//!
//! The table runners of BLPOP, BRPOP, BLMOVE and BRPOPLPUSH are their non-blocking forms,
//! which is how they run inside EXEC (Redis's `CLIENT_DENY_BLOCKING`); `Store::execute` sends
//! them to `Store::execute_blocking` instead, which waits.

use super::{reply, Args, Command, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::blocking::{parse_timeout, WaitKind};
use crate::store::lists::ListEnd;
use crate::store::Db;

fn end(left: bool) -> ListEnd {
    if left {
        ListEnd::Left
    } else {
        ListEnd::Right
    }
}

/// `LPUSH key element [element ...]`, `RPUSH`, `LPUSHX`, `RPUSHX`
pub(crate) struct Push<'a, const LEFT: bool, const XX: bool> {
    key: &'a [u8],
    values: &'a [&'a [u8]],
}

impl<'a, const LEFT: bool, const XX: bool> Command<'a> for Push<'a, LEFT, XX> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Push {
            key: args.required()?,
            values: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.push(self.key, self.values, end(LEFT), XX))
    }
}

/// `LPOP key [count]`, `RPOP key [count]`
pub(crate) struct Pop<'a, const LEFT: bool> {
    key: &'a [u8],
    count: Option<usize>,
}

impl<'a, const LEFT: bool> Command<'a> for Pop<'a, LEFT> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        if args.remaining() > 1 {
            return Err(Error::WrongArity(if LEFT { "lpop" } else { "rpop" }.into()));
        }
        let count = match args.next() {
            None => None,
            Some(n) => match crate::num::parse_i64(n) {
                Some(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => return Err(Error::err("value is out of range, must be positive")),
            },
        };
        Ok(Pop { key, count })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match self.count {
            None => reply(db.pop(self.key, end(LEFT))),
            Some(n) => match db.pop_count(self.key, end(LEFT), n) {
                Ok(Some(items)) => Reply::from(items),
                Ok(None) => Reply::NilArray,
                Err(e) => Reply::Error(e.to_string()),
            },
        }
    }
}

/// `LRANGE key start stop`
pub(crate) struct LRange<'a> {
    key: &'a [u8],
    start: i64,
    stop: i64,
}

impl<'a> Command<'a> for LRange<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LRange {
            key: args.required()?,
            start: args.i64()?,
            stop: args.i64()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.lrange(self.key, self.start, self.stop))
    }
}

/// `LTRIM key start stop`
pub(crate) struct LTrim<'a> {
    key: &'a [u8],
    start: i64,
    stop: i64,
}

impl<'a> Command<'a> for LTrim<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LTrim {
            key: args.required()?,
            start: args.i64()?,
            stop: args.i64()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.ltrim(self.key, self.start, self.stop))
    }
}

/// `LLEN key`
pub(crate) struct LLen<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for LLen<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LLen {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.llen(self.key))
    }
}

/// `LINDEX key index` (the key is looked up before the index is parsed)
pub(crate) struct LIndex<'a> {
    key: &'a [u8],
    index: &'a [u8],
}

impl<'a> Command<'a> for LIndex<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LIndex {
            key: args.required()?,
            index: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.llen(self.key) {
            Err(e) => return Reply::Error(e.to_string()),
            Ok(0) => return Reply::Nil,
            Ok(_) => {}
        }
        match crate::num::parse_i64(self.index) {
            None => Reply::Error(Error::NotInteger.to_string()),
            Some(i) => reply(db.lindex(self.key, i)),
        }
    }
}

/// `LSET key index element` (the key is looked up before the index is parsed)
pub(crate) struct LSet<'a> {
    key: &'a [u8],
    index: &'a [u8],
    value: &'a [u8],
}

impl<'a> Command<'a> for LSet<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LSet {
            key: args.required()?,
            index: args.required()?,
            value: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.llen(self.key) {
            Err(e) => return Reply::Error(e.to_string()),
            Ok(0) => return Reply::Error(Error::NoSuchKey.to_string()),
            Ok(_) => {}
        }
        match crate::num::parse_i64(self.index) {
            None => Reply::Error(Error::NotInteger.to_string()),
            Some(i) => reply(db.lset(self.key, i, self.value)),
        }
    }
}

/// `LREM key count element`
pub(crate) struct LRem<'a> {
    key: &'a [u8],
    count: i64,
    value: &'a [u8],
}

impl<'a> Command<'a> for LRem<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(LRem {
            key: args.required()?,
            count: args.i64()?,
            value: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.lrem(self.key, self.count, self.value))
    }
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT`, and `RPOPLPUSH source destination`
/// (`RPOPLPUSH` is `LMOVE source destination RIGHT LEFT`).
pub(crate) struct LMove<'a, const RPOPLPUSH: bool> {
    src: &'a [u8],
    dst: &'a [u8],
    from: ListEnd,
    to: ListEnd,
}

impl<'a, const RPOPLPUSH: bool> Command<'a> for LMove<'a, RPOPLPUSH> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let src = args.required()?;
        let dst = args.required()?;
        let (from, to) = if RPOPLPUSH {
            (ListEnd::Right, ListEnd::Left)
        } else {
            (
                ListEnd::parse(args.required()?)?,
                ListEnd::parse(args.required()?)?,
            )
        };
        Ok(LMove { src, dst, from, to })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.lmove(self.src, self.dst, self.from, self.to))
    }
}

/// `BLPOP key [key ...] timeout`, `BRPOP`: here the non-blocking form.
pub(crate) struct BPop<'a, const LEFT: bool> {
    keys: &'a [&'a [u8]],
}

impl<'a, const LEFT: bool> Command<'a> for BPop<'a, LEFT> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let all = args.rest();
        let (keys, timeout) = all.split_at(all.len().saturating_sub(1));
        parse_timeout(timeout.first().copied().unwrap_or_default())?;
        Ok(BPop { keys })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.try_pop_now(self.keys, &WaitKind::Pop(end(LEFT))) {
            Ok(Some((k, v))) => Reply::Array(vec![Reply::Bulk(k.into_vec()), Reply::Bulk(v)]),
            Ok(None) => Reply::NilArray,
            Err(e) => Reply::Error(e.to_string()),
        }
    }
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout` and
/// `BRPOPLPUSH source destination timeout`: here the non-blocking form.
pub(crate) struct BLMove<'a, const RPOPLPUSH: bool> {
    mv: LMove<'a, RPOPLPUSH>,
}

impl<'a, const RPOPLPUSH: bool> Command<'a> for BLMove<'a, RPOPLPUSH> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let mv = LMove::parse(args)?;
        parse_timeout(args.required()?)?;
        Ok(BLMove { mv })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        self.mv.apply(db)
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let one = Keys::ONE;
    let two = Keys::Range {
        first: 1,
        last: 2,
        step: 1,
    };
    let all_but_last = Keys::Range {
        first: 1,
        last: -2,
        step: 1,
    };
    t.extend([
        Spec {
            name: "lpush",
            arity: -3,
            keys: one,
            run: cmd!(Push<true, false>),
        },
        Spec {
            name: "rpush",
            arity: -3,
            keys: one,
            run: cmd!(Push<false, false>),
        },
        Spec {
            name: "lpushx",
            arity: -3,
            keys: one,
            run: cmd!(Push<true, true>),
        },
        Spec {
            name: "rpushx",
            arity: -3,
            keys: one,
            run: cmd!(Push<false, true>),
        },
        Spec {
            name: "lpop",
            arity: -2,
            keys: one,
            run: cmd!(Pop<true>),
        },
        Spec {
            name: "rpop",
            arity: -2,
            keys: one,
            run: cmd!(Pop<false>),
        },
        Spec {
            name: "lrange",
            arity: 4,
            keys: one,
            run: cmd!(LRange),
        },
        Spec {
            name: "ltrim",
            arity: 4,
            keys: one,
            run: cmd!(LTrim),
        },
        Spec {
            name: "llen",
            arity: 2,
            keys: one,
            run: cmd!(LLen),
        },
        Spec {
            name: "lindex",
            arity: 3,
            keys: one,
            run: cmd!(LIndex),
        },
        Spec {
            name: "lset",
            arity: 4,
            keys: one,
            run: cmd!(LSet),
        },
        Spec {
            name: "lrem",
            arity: 4,
            keys: one,
            run: cmd!(LRem),
        },
        Spec {
            name: "lmove",
            arity: 5,
            keys: two,
            run: cmd!(LMove<false>),
        },
        Spec {
            name: "rpoplpush",
            arity: 3,
            keys: two,
            run: cmd!(LMove<true>),
        },
        Spec {
            name: "blpop",
            arity: -3,
            keys: all_but_last,
            run: cmd!(BPop<true>),
        },
        Spec {
            name: "brpop",
            arity: -3,
            keys: all_but_last,
            run: cmd!(BPop<false>),
        },
        Spec {
            name: "blmove",
            arity: 6,
            keys: two,
            run: cmd!(BLMove<false>),
        },
        Spec {
            name: "brpoplpush",
            arity: 4,
            keys: two,
            run: cmd!(BLMove<true>),
        },
    ]);
}
