//! String and counter commands.

use super::{reply, Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::strings::{SetCondition, SetExpiry, SetOptions};
use crate::store::Db;

/// How an expire number is given: EX, PX, EXAT or PXAT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExpireArg {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl ExpireArg {
    fn parse(word: &[u8]) -> Option<ExpireArg> {
        [
            ("ex", ExpireArg::Ex),
            ("px", ExpireArg::Px),
            ("exat", ExpireArg::ExAt),
            ("pxat", ExpireArg::PxAt),
        ]
        .into_iter()
        .find(|(w, _)| Args::is(word, w))
        .map(|(_, e)| e)
    }

    /// Redis's `getExpireMillisecondsOrReply`: validates the number and returns the
    /// absolute time in ms.
    pub(crate) fn absolute(self, n: &[u8], now: i64, cmd: &str) -> Result<i64> {
        let n = crate::num::parse_i64(n).ok_or(Error::NotInteger)?;
        let invalid = || Error::InvalidExpire(cmd.to_owned());
        let seconds = matches!(self, ExpireArg::Ex | ExpireArg::ExAt);
        if n <= 0 || (seconds && n > i64::MAX / 1000) {
            return Err(invalid());
        }
        let ms = if seconds { n * 1000 } else { n };
        match self {
            ExpireArg::Ex | ExpireArg::Px => ms.checked_add(now).ok_or_else(invalid),
            ExpireArg::ExAt | ExpireArg::PxAt => Ok(ms),
        }
    }
}

/// `GET key`
pub(crate) struct Get<'a> {
    pub(super) key: &'a [u8],
}

impl<'a> Command<'a> for Get<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Get {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.get(self.key))
    }
}

/// `SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | KEEPTTL]`
pub(crate) struct Set<'a> {
    key: &'a [u8],
    value: &'a [u8],
    condition: Option<SetCondition>,
    get: bool,
    keepttl: bool,
    expire: Option<(ExpireArg, &'a [u8])>,
}

impl<'a> Command<'a> for Set<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let value = args.required()?;
        let mut cmd = Set {
            key,
            value,
            condition: None,
            get: false,
            keepttl: false,
            expire: None,
        };
        while let Some(word) = args.next() {
            if Args::is(word, "nx") && cmd.condition != Some(SetCondition::Xx) {
                cmd.condition = Some(SetCondition::Nx);
            } else if Args::is(word, "xx") && cmd.condition != Some(SetCondition::Nx) {
                cmd.condition = Some(SetCondition::Xx);
            } else if Args::is(word, "get") {
                cmd.get = true;
            } else if Args::is(word, "keepttl") && cmd.expire.is_none() {
                cmd.keepttl = true;
            } else if let Some(kind) = ExpireArg::parse(word) {
                let same_or_none = cmd.expire.is_none_or(|(k, _)| k == kind);
                match args.next() {
                    Some(n) if !cmd.keepttl && same_or_none => cmd.expire = Some((kind, n)),
                    _ => return Err(Error::Syntax),
                }
            } else {
                return Err(Error::Syntax);
            }
        }
        Ok(cmd)
    }

    fn apply(self, db: &mut Db<'_>) -> Reply {
        let expiry = match self.expire {
            Some((kind, n)) => match kind.absolute(n, db.now(), "set") {
                Ok(at) => Some(SetExpiry::AtMs(at)),
                Err(e) => return Reply::Error(e.to_string()),
            },
            None if self.keepttl => Some(SetExpiry::KeepTtl),
            None => None,
        };
        let opts = SetOptions {
            condition: self.condition,
            expiry,
            get: self.get,
        };
        match db.set(self.key, self.value.to_vec(), opts, "set") {
            Err(e) => Reply::Error(e.to_string()),
            Ok(o) if self.get => Reply::from(o.previous),
            Ok(o) if o.written => Reply::ok(),
            Ok(_) => Reply::Nil,
        }
    }
}

/// `SETNX key value`
pub(crate) struct SetNx<'a> {
    key: &'a [u8],
    value: &'a [u8],
}

impl<'a> Command<'a> for SetNx<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(SetNx {
            key: args.required()?,
            value: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let opts = SetOptions {
            condition: Some(SetCondition::Nx),
            ..SetOptions::default()
        };
        reply(
            db.set(self.key, self.value.to_vec(), opts, "setnx")
                .map(|o| o.written),
        )
    }
}

/// `SETEX key seconds value` and `PSETEX key milliseconds value`
pub(crate) struct SetEx<'a, const MILLIS: bool> {
    key: &'a [u8],
    ttl: &'a [u8],
    value: &'a [u8],
}

impl<'a, const MILLIS: bool> Command<'a> for SetEx<'a, MILLIS> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(SetEx {
            key: args.required()?,
            ttl: args.required()?,
            value: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let (kind, name) = if MILLIS {
            (ExpireArg::Px, "psetex")
        } else {
            (ExpireArg::Ex, "setex")
        };
        let at = match kind.absolute(self.ttl, db.now(), name) {
            Ok(at) => at,
            Err(e) => return Reply::Error(e.to_string()),
        };
        let opts = SetOptions {
            expiry: Some(SetExpiry::AtMs(at)),
            ..SetOptions::default()
        };
        reply(
            db.set(self.key, self.value.to_vec(), opts, name)
                .map(|_| ()),
        )
    }
}

/// `GETSET key value`
pub(crate) struct GetSet<'a> {
    key: &'a [u8],
    value: &'a [u8],
}

impl<'a> Command<'a> for GetSet<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(GetSet {
            key: args.required()?,
            value: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.getset(self.key, self.value.to_vec()))
    }
}

/// `GETDEL key`
pub(crate) struct GetDel<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for GetDel<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(GetDel {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.getdel(self.key))
    }
}

/// `GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | PERSIST]`
pub(crate) struct GetEx<'a> {
    key: &'a [u8],
    expire: Option<(ExpireArg, &'a [u8])>,
    persist: bool,
}

impl<'a> Command<'a> for GetEx<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let mut cmd = GetEx {
            key,
            expire: None,
            persist: false,
        };
        while let Some(word) = args.next() {
            if Args::is(word, "persist") && cmd.expire.is_none() {
                cmd.persist = true;
            } else if let Some(kind) = ExpireArg::parse(word) {
                let same_or_none = cmd.expire.is_none_or(|(k, _)| k == kind);
                match args.next() {
                    Some(n) if !cmd.persist && same_or_none => cmd.expire = Some((kind, n)),
                    _ => return Err(Error::Syntax),
                }
            } else {
                return Err(Error::Syntax);
            }
        }
        Ok(cmd)
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        // Redis looks the key up (nil, WRONGTYPE) before it validates the expire number.
        match db.get(self.key) {
            Ok(Some(_)) => {}
            other => return reply(other),
        }
        let expiry = match self.expire {
            Some((kind, n)) => match kind.absolute(n, db.now(), "getex") {
                Ok(at) => Some(Some(at)),
                Err(e) => return Reply::Error(e.to_string()),
            },
            None if self.persist => Some(None),
            None => None,
        };
        reply(db.getex(self.key, expiry))
    }
}

/// `MGET key [key ...]`
pub(crate) struct MGet<'a> {
    keys: &'a [&'a [u8]],
}

impl<'a> Command<'a> for MGet<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(MGet { keys: args.rest() })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::from(db.mget(self.keys))
    }
}

fn pairs<'a>(items: &'a [&'a [u8]], name: &str) -> Result<Vec<(&'a [u8], &'a [u8])>> {
    if items.is_empty() || items.len() % 2 != 0 {
        return Err(Error::WrongArity(name.to_owned()));
    }
    Ok(items.chunks_exact(2).map(|c| (c[0], c[1])).collect())
}

/// `MSET key value [key value ...]`
pub(crate) struct MSet<'a> {
    pairs: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> Command<'a> for MSet<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(MSet {
            pairs: pairs(args.rest(), "mset")?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.mset(&self.pairs))
    }
}

/// `MSETNX key value [key value ...]`
pub(crate) struct MSetNx<'a> {
    pairs: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> Command<'a> for MSetNx<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(MSetNx {
            pairs: pairs(args.rest(), "msetnx")?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.msetnx(&self.pairs))
    }
}

/// `APPEND key value`
pub(crate) struct Append<'a> {
    key: &'a [u8],
    value: &'a [u8],
}

impl<'a> Command<'a> for Append<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Append {
            key: args.required()?,
            value: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.append(self.key, self.value))
    }
}

/// `STRLEN key`
pub(crate) struct StrLen<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for StrLen<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(StrLen {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.strlen(self.key))
    }
}

/// `GETRANGE key start end`
pub(crate) struct GetRange<'a> {
    key: &'a [u8],
    start: i64,
    end: i64,
}

impl<'a> Command<'a> for GetRange<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(GetRange {
            key: args.required()?,
            start: args.i64()?,
            end: args.i64()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.getrange(self.key, self.start, self.end))
    }
}

/// `SETRANGE key offset value`
pub(crate) struct SetRange<'a> {
    key: &'a [u8],
    offset: i64,
    value: &'a [u8],
}

impl<'a> Command<'a> for SetRange<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(SetRange {
            key: args.required()?,
            offset: args.i64()?,
            value: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.setrange(self.key, self.offset, self.value))
    }
}

/// `INCR key`, `DECR key`, `INCRBY key increment`, `DECRBY key decrement`: `SIGN` is the
/// direction, `BY` whether an amount follows the key.
pub(crate) struct IncrBy<'a, const DECR: bool, const BY: bool> {
    pub(super) key: &'a [u8],
    pub(super) by: i64,
}

impl<'a, const DECR: bool, const BY: bool> Command<'a> for IncrBy<'a, DECR, BY> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let by = if BY { args.i64()? } else { 1 };
        Ok(IncrBy { key, by })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        if DECR {
            reply(db.decrby(self.key, self.by))
        } else {
            reply(db.incrby(self.key, self.by))
        }
    }
}

/// `INCRBYFLOAT key increment`
pub(crate) struct IncrByFloat<'a> {
    key: &'a [u8],
    by: &'a [u8],
}

impl<'a> Command<'a> for IncrByFloat<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(IncrByFloat {
            key: args.required()?,
            by: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.incrbyfloat(self.key, self.by))
    }
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]`. Redis reads
/// the keys before the options, so a non-string key is reported before a syntax error.
pub(crate) struct Lcs<'a> {
    a: &'a [u8],
    b: &'a [u8],
    options: &'a [&'a [u8]],
}

impl<'a> Command<'a> for Lcs<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Lcs {
            a: args.required()?,
            b: args.required()?,
            options: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        use crate::store::lcs::{lcs, LcsOutcome, LcsWant};
        let (a, b) = match db.lcs_inputs(self.a, self.b) {
            Ok(ab) => ab,
            Err(e) => return Reply::Error(e.to_string()),
        };
        let (mut len, mut idx, mut with_len) = (false, false, false);
        let mut min_len = 0usize;
        let mut args = Args::new(self.options);
        while let Some(word) = args.next() {
            if Args::is(word, "idx") {
                idx = true;
            } else if Args::is(word, "len") {
                len = true;
            } else if Args::is(word, "withmatchlen") {
                with_len = true;
            } else if Args::is(word, "minmatchlen") && args.remaining() > 0 {
                match args.i64() {
                    Ok(n) => min_len = usize::try_from(n.max(0)).unwrap_or(usize::MAX),
                    Err(e) => return Reply::Error(e.to_string()),
                }
            } else {
                return Reply::Error(Error::Syntax.to_string());
            }
        }
        if len && idx {
            return Reply::Error(
                "ERR If you want both the length and indexes, please just use IDX.".into(),
            );
        }
        let want = if idx {
            LcsWant::Idx { min_len }
        } else if len {
            LcsWant::Len
        } else {
            LcsWant::String
        };
        let int = |n: usize| Reply::Integer(i64::try_from(n).unwrap_or(i64::MAX));
        match lcs(&a, &b, want, db.settings().max_string_bytes()) {
            Err(e) => Reply::Error(e.to_string()),
            Ok(LcsOutcome::String(s)) => Reply::Bulk(s),
            Ok(LcsOutcome::Len(n)) => int(n),
            Ok(LcsOutcome::Idx(m)) => {
                let ranges = m
                    .matches
                    .into_iter()
                    .map(|r| {
                        let mut item = vec![
                            Reply::Array(vec![int(r.a.0), int(r.a.1)]),
                            Reply::Array(vec![int(r.b.0), int(r.b.1)]),
                        ];
                        if with_len {
                            item.push(int(r.len));
                        }
                        Reply::Array(item)
                    })
                    .collect();
                Reply::Map(vec![
                    (Reply::bulk("matches"), Reply::Array(ranges)),
                    (Reply::bulk("len"), int(m.len)),
                ])
            }
        }
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let one = Keys::ONE;
    t.extend([
        Spec {
            name: "get",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(Get),
            block: None,
        },
        Spec {
            name: "set",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(Set),
            block: None,
        },
        Spec {
            name: "setnx",
            arity: 3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(SetNx),
            block: None,
        },
        Spec {
            name: "setex",
            arity: 4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(SetEx<false>),
            block: None,
        },
        Spec {
            name: "psetex",
            arity: 4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(SetEx<true>),
            block: None,
        },
        Spec {
            name: "getset",
            arity: 3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(GetSet),
            block: None,
        },
        Spec {
            name: "getdel",
            arity: 2,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(GetDel),
            block: None,
        },
        Spec {
            name: "getex",
            arity: -2,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(GetEx),
            block: None,
        },
        Spec {
            name: "mget",
            arity: -2,
            flags: Flags::NONE,
            keys: Keys::ALL_ARGS,
            run: cmd!(MGet),
            block: None,
        },
        Spec {
            name: "mset",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: Keys::Range {
                first: 1,
                last: -1,
                step: 2,
            },
            run: cmd!(MSet),
            block: None,
        },
        Spec {
            name: "msetnx",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: Keys::Range {
                first: 1,
                last: -1,
                step: 2,
            },
            run: cmd!(MSetNx),
            block: None,
        },
        Spec {
            name: "append",
            arity: 3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(Append),
            block: None,
        },
        Spec {
            name: "strlen",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(StrLen),
            block: None,
        },
        Spec {
            name: "getrange",
            arity: 4,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(GetRange),
            block: None,
        },
        Spec {
            name: "substr",
            arity: 4,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(GetRange),
            block: None,
        },
        Spec {
            name: "setrange",
            arity: 4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(SetRange),
            block: None,
        },
        Spec {
            name: "incr",
            arity: 2,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(IncrBy<false, false>),
            block: None,
        },
        Spec {
            name: "decr",
            arity: 2,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(IncrBy<true, false>),
            block: None,
        },
        Spec {
            name: "incrby",
            arity: 3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(IncrBy<false, true>),
            block: None,
        },
        Spec {
            name: "decrby",
            arity: 3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(IncrBy<true, true>),
            block: None,
        },
        Spec {
            name: "incrbyfloat",
            arity: 3,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(IncrByFloat),
            block: None,
        },
        Spec {
            name: "lcs",
            arity: -3,
            flags: Flags::NONE,
            keys: Keys::Range {
                first: 1,
                last: 2,
                step: 1,
            },
            run: cmd!(Lcs),
            block: None,
        },
    ]);
}
