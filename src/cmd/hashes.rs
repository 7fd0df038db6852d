//! Hash commands.

use super::{reply, Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::Db;

fn field_pairs<'a>(items: &'a [&'a [u8]], name: &str) -> Result<Vec<(&'a [u8], &'a [u8])>> {
    if items.is_empty() || items.len() % 2 != 0 {
        return Err(Error::WrongArity(name.to_owned()));
    }
    Ok(items.chunks_exact(2).map(|c| (c[0], c[1])).collect())
}

/// `HSET key field value [field value ...]` and `HMSET` (which replies `+OK`).
pub(crate) struct HSet<'a, const HMSET: bool> {
    key: &'a [u8],
    pairs: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a, const HMSET: bool> Command<'a> for HSet<'a, HMSET> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let name = if HMSET { "hmset" } else { "hset" };
        Ok(HSet {
            key,
            pairs: field_pairs(args.rest(), name)?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.hset(self.key, &self.pairs) {
            Ok(_) if HMSET => Reply::ok(),
            r => reply(r),
        }
    }
}

/// `HSETNX key field value`
pub(crate) struct HSetNx<'a> {
    key: &'a [u8],
    field: &'a [u8],
    value: &'a [u8],
}

impl<'a> Command<'a> for HSetNx<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(HSetNx {
            key: args.required()?,
            field: args.required()?,
            value: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.hsetnx(self.key, self.field, self.value))
    }
}

/// `HGET key field`
pub(crate) struct HGet<'a> {
    key: &'a [u8],
    field: &'a [u8],
}

impl<'a> Command<'a> for HGet<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(HGet {
            key: args.required()?,
            field: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.hget(self.key, self.field))
    }
}

/// `HMGET key field [field ...]`
pub(crate) struct HMGet<'a> {
    key: &'a [u8],
    fields: &'a [&'a [u8]],
}

impl<'a> Command<'a> for HMGet<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(HMGet {
            key: args.required()?,
            fields: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.hmget(self.key, self.fields))
    }
}

/// What HGETALL, HKEYS and HVALS list.
#[derive(Clone, Copy)]
pub(crate) enum HashPart {
    All,
    Keys,
    Vals,
}

/// `HGETALL key`, `HKEYS key`, `HVALS key`
pub(crate) struct HGetAll<'a, const PART: u8> {
    key: &'a [u8],
}

impl<'a, const PART: u8> Command<'a> for HGetAll<'a, PART> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(HGetAll {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let part = match PART {
            0 => HashPart::All,
            1 => HashPart::Keys,
            _ => HashPart::Vals,
        };
        match db.hgetall(self.key) {
            Err(e) => Reply::Error(e.to_string()),
            Ok(pairs) if matches!(part, HashPart::All) => Reply::Map(
                pairs
                    .into_iter()
                    .map(|(f, v)| (Reply::Bulk(f), Reply::Bulk(v)))
                    .collect(),
            ),
            Ok(pairs) => Reply::Array(
                pairs
                    .into_iter()
                    .flat_map(|(f, v)| match part {
                        HashPart::All => vec![Reply::Bulk(f), Reply::Bulk(v)],
                        HashPart::Keys => vec![Reply::Bulk(f)],
                        HashPart::Vals => vec![Reply::Bulk(v)],
                    })
                    .collect(),
            ),
        }
    }
}

/// `HDEL key field [field ...]`
pub(crate) struct HDel<'a> {
    key: &'a [u8],
    fields: &'a [&'a [u8]],
}

impl<'a> Command<'a> for HDel<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(HDel {
            key: args.required()?,
            fields: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.hdel(self.key, self.fields))
    }
}

/// `HEXISTS key field`
pub(crate) struct HExists<'a> {
    key: &'a [u8],
    field: &'a [u8],
}

impl<'a> Command<'a> for HExists<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(HExists {
            key: args.required()?,
            field: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.hexists(self.key, self.field))
    }
}

/// `HLEN key`
pub(crate) struct HLen<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for HLen<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(HLen {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.hlen(self.key))
    }
}

/// `HSTRLEN key field`
pub(crate) struct HStrLen<'a> {
    key: &'a [u8],
    field: &'a [u8],
}

impl<'a> Command<'a> for HStrLen<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(HStrLen {
            key: args.required()?,
            field: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.hstrlen(self.key, self.field))
    }
}

/// `HINCRBY key field increment`
pub(crate) struct HIncrBy<'a> {
    key: &'a [u8],
    field: &'a [u8],
    by: i64,
}

impl<'a> Command<'a> for HIncrBy<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(HIncrBy {
            key: args.required()?,
            field: args.required()?,
            by: args.i64()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.hincrby(self.key, self.field, self.by))
    }
}

/// `HINCRBYFLOAT key field increment`
pub(crate) struct HIncrByFloat<'a> {
    key: &'a [u8],
    field: &'a [u8],
    by: &'a [u8],
}

impl<'a> Command<'a> for HIncrByFloat<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(HIncrByFloat {
            key: args.required()?,
            field: args.required()?,
            by: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.hincrbyfloat(self.key, self.field, self.by))
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let one = Keys::ONE;
    t.extend([
        Spec {
            name: "hset",
            arity: -4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(HSet<false>),
            block: None,
        },
        Spec {
            name: "hmset",
            arity: -4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(HSet<true>),
            block: None,
        },
        Spec {
            name: "hsetnx",
            arity: 4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(HSetNx),
            block: None,
        },
        Spec {
            name: "hget",
            arity: 3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(HGet),
            block: None,
        },
        Spec {
            name: "hmget",
            arity: -3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(HMGet),
            block: None,
        },
        Spec {
            name: "hgetall",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(HGetAll<0>),
            block: None,
        },
        Spec {
            name: "hkeys",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(HGetAll<1>),
            block: None,
        },
        Spec {
            name: "hvals",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(HGetAll<2>),
            block: None,
        },
        Spec {
            name: "hdel",
            arity: -3,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(HDel),
            block: None,
        },
        Spec {
            name: "hexists",
            arity: 3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(HExists),
            block: None,
        },
        Spec {
            name: "hlen",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(HLen),
            block: None,
        },
        Spec {
            name: "hstrlen",
            arity: 3,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(HStrLen),
            block: None,
        },
        Spec {
            name: "hincrby",
            arity: 4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(HIncrBy),
            block: None,
        },
        Spec {
            name: "hincrbyfloat",
            arity: 4,
            flags: Flags::WRITE_DENYOOM,
            keys: one,
            run: cmd!(HIncrByFloat),
            block: None,
        },
    ]);
}
