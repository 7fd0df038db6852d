//! Keyspace, expiry and connection-free utility commands.

use super::{reply, Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::generic::{
    random_u64, ExpireCondition, ExpireForm, ObjectField, ObjectInfo, ScanOptions,
};
use crate::store::sort::SortOptions;
use crate::store::Db;

/// `DEL key [key ...]` and `UNLINK key [key ...]`
pub(crate) struct Del<'a> {
    keys: &'a [&'a [u8]],
}

impl<'a> Command<'a> for Del<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Del { keys: args.rest() })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::from(db.del(self.keys))
    }
}

/// `EXISTS key [key ...]`
pub(crate) struct Exists<'a> {
    keys: &'a [&'a [u8]],
}

impl<'a> Command<'a> for Exists<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Exists { keys: args.rest() })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::from(db.exists(self.keys))
    }
}

/// `TYPE key`
pub(crate) struct Type<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for Type<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Type {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::status(db.key_type(self.key).as_str())
    }
}

/// `KEYS pattern`
pub(crate) struct KeysCmd<'a> {
    pattern: &'a [u8],
}

impl<'a> Command<'a> for KeysCmd<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(KeysCmd {
            pattern: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::from(db.keys(self.pattern))
    }
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]`
pub(crate) struct Scan<'a> {
    cursor: u64,
    opts: ScanOptions<'a>,
}

impl<'a> Command<'a> for Scan<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let cursor = crate::num::parse_u64_cursor(args.required()?).ok_or(Error::InvalidCursor)?;
        let mut opts = ScanOptions {
            pattern: None,
            count: 10,
            type_name: None,
        };
        while let Some(word) = args.next() {
            let has_value = args.remaining() > 0;
            if Args::is(word, "count") && has_value {
                let n = args.i64()?;
                if n < 1 {
                    return Err(Error::Syntax);
                }
                opts.count = usize::try_from(n).unwrap_or(usize::MAX);
            } else if Args::is(word, "match") && has_value {
                opts.pattern = Some(args.required()?);
            } else if Args::is(word, "type") && has_value {
                opts.type_name = Some(args.required()?);
            } else {
                return Err(Error::Syntax);
            }
        }
        Ok(Scan { cursor, opts })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let page = db.scan(self.cursor, self.opts);
        Reply::Array(vec![
            Reply::bulk(page.cursor.to_string()),
            Reply::from(page.keys),
        ])
    }
}

/// `DBSIZE`
pub(crate) struct DbSize;

impl<'a> Command<'a> for DbSize {
    fn parse(_: &mut Args<'a>) -> Result<Self> {
        Ok(DbSize)
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::from(db.dbsize())
    }
}

/// `RENAME key newkey` and `RENAMENX key newkey`
pub(crate) struct Rename<'a, const NX: bool> {
    from: &'a [u8],
    to: &'a [u8],
}

impl<'a, const NX: bool> Command<'a> for Rename<'a, NX> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Rename {
            from: args.required()?,
            to: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match db.rename(self.from, self.to, NX) {
            Ok(_) if !NX => Reply::ok(),
            r => reply(r),
        }
    }
}

/// `EXPIRE key seconds [NX | XX | GT | LT]`, and PEXPIRE, EXPIREAT, PEXPIREAT by `FORM`
/// (0, 1, 2, 3).
pub(crate) struct Expire<'a, const FORM: u8> {
    pub(super) key: &'a [u8],
    /// The time argument; None when it is not an integer (an error once the options have
    /// been checked, as in Redis).
    pub(super) number: Option<i64>,
    pub(super) cond: ExpireCondition,
}

impl<const FORM: u8> Expire<'_, FORM> {
    /// Whether the expiry was set (or the key deleted, its time being past).
    pub(super) fn run(self, db: &mut Db<'_>) -> Result<bool> {
        let n = self.number.ok_or(Error::NotInteger)?;
        let when = db.expire_time(Self::form(), n)?;
        Ok(db.expire_at(self.key, when, self.cond))
    }

    fn form() -> ExpireForm {
        match FORM {
            0 => ExpireForm {
                name: "expire",
                seconds: true,
                relative: true,
            },
            1 => ExpireForm {
                name: "pexpire",
                seconds: false,
                relative: true,
            },
            2 => ExpireForm {
                name: "expireat",
                seconds: true,
                relative: false,
            },
            _ => ExpireForm {
                name: "pexpireat",
                seconds: false,
                relative: false,
            },
        }
    }
}

impl<'a, const FORM: u8> Command<'a> for Expire<'a, FORM> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let number = crate::num::parse_i64(args.required()?);
        let mut cond = ExpireCondition::default();
        for word in args.rest() {
            if Args::is(word, "nx") {
                cond.nx = true;
            } else if Args::is(word, "xx") {
                cond.xx = true;
            } else if Args::is(word, "gt") {
                cond.gt = true;
            } else if Args::is(word, "lt") {
                cond.lt = true;
            } else {
                return Err(Error::with_user_text("ERR Unsupported option ", word, ""));
            }
        }
        cond.check()?;
        Ok(Expire { key, number, cond })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(self.run(db))
    }
}

/// `TTL key` and `PTTL key`
pub(crate) struct TtlCmd<'a, const MILLIS: bool> {
    key: &'a [u8],
}

impl<'a, const MILLIS: bool> Command<'a> for TtlCmd<'a, MILLIS> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(TtlCmd {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let ttl = db.ttl(self.key);
        Reply::Integer(if MILLIS {
            ttl.as_redis_millis()
        } else {
            ttl.as_redis_secs()
        })
    }
}

/// `PERSIST key`
pub(crate) struct Persist<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for Persist<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Persist {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::from(db.persist(self.key))
    }
}

/// `PING [message]`
pub(crate) struct Ping<'a> {
    message: Option<&'a [u8]>,
}

impl<'a> Command<'a> for Ping<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let message = args.next();
        if args.remaining() > 0 {
            return Err(Error::WrongArity("ping".into()));
        }
        Ok(Ping { message })
    }
    fn apply(self, _: &mut Db<'_>) -> Reply {
        match self.message {
            Some(m) => Reply::bulk(m),
            None => Reply::status("PONG"),
        }
    }
}

/// `ECHO message`
pub(crate) struct Echo<'a> {
    message: &'a [u8],
}

impl<'a> Command<'a> for Echo<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Echo {
            message: args.required()?,
        })
    }
    fn apply(self, _: &mut Db<'_>) -> Reply {
        Reply::bulk(self.message)
    }
}

/// `TOUCH key [key ...]`
pub(crate) struct Touch<'a> {
    keys: &'a [&'a [u8]],
}

impl<'a> Command<'a> for Touch<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Touch { keys: args.rest() })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::from(db.touch_keys(self.keys))
    }
}

/// `EXPIRETIME key` and `PEXPIRETIME key`
pub(crate) struct ExpireTime<'a, const MILLIS: bool> {
    key: &'a [u8],
}

impl<'a, const MILLIS: bool> Command<'a> for ExpireTime<'a, MILLIS> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(ExpireTime {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let ms = db.expiretime_ms(self.key);
        Reply::Integer(if MILLIS || ms < 0 {
            ms
        } else {
            (ms + 500) / 1000
        })
    }
}

/// `COPY source destination [DB destination-db] [REPLACE]`. The options are read when the
/// command runs, where the number of databases is known: Redis refuses an out-of-range
/// `DB` as soon as it reads it, before the options after it.
pub(crate) struct Copy<'a> {
    src: &'a [u8],
    dst: &'a [u8],
    opts: &'a [&'a [u8]],
}

impl<'a> Command<'a> for Copy<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let src = args.required()?;
        let dst = args.required()?;
        Ok(Copy {
            src,
            dst,
            opts: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let mut replace = false;
        let mut to = db.db;
        let mut i = 0;
        while let Some(word) = self.opts.get(i) {
            if Args::is(word, "replace") {
                replace = true;
            } else if let (true, Some(n)) = (Args::is(word, "db"), self.opts.get(i + 1)) {
                match super::databases::int_arg(n, None).and_then(|n| db.db_index(n)) {
                    Ok(d) => to = d,
                    Err(e) => return Reply::Error(e.to_string()),
                }
                i += 1;
            } else {
                return Reply::Error(Error::Syntax.to_string());
            }
            i += 1;
        }
        reply(db.copy(self.src, self.dst, to, replace))
    }
}

/// `RANDOMKEY`
pub(crate) struct RandomKey;

impl<'a> Command<'a> for RandomKey {
    fn parse(_: &mut Args<'a>) -> Result<Self> {
        Ok(RandomKey)
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::from(db.randomkey(|n| (random_u64() % n as u64) as usize))
    }
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

enum ObjectSub<'a> {
    Help,
    Field(ObjectField, &'a [u8]),
    Freq(&'a [u8]),
}

/// `OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key`, `OBJECT HELP`
pub(crate) struct Object<'a> {
    sub: ObjectSub<'a>,
}

impl<'a> Command<'a> for Object<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let word = args.required()?;
        let (name, keyed) = [
            ("encoding", true),
            ("refcount", true),
            ("idletime", true),
            ("freq", true),
            ("help", false),
        ]
        .into_iter()
        .find(|(n, _)| Args::is(word, n))
        .ok_or_else(|| {
            Error::with_user_text("ERR unknown subcommand '", word, "'. Try OBJECT HELP.")
        })?;
        let want = usize::from(keyed);
        if args.remaining() != want {
            return Err(Error::WrongArity(format!("object|{name}")));
        }
        let sub = match name {
            "help" => ObjectSub::Help,
            "freq" => ObjectSub::Freq(args.required()?),
            "encoding" => ObjectSub::Field(ObjectField::Encoding, args.required()?),
            "refcount" => ObjectSub::Field(ObjectField::RefCount, args.required()?),
            _ => ObjectSub::Field(ObjectField::IdleTime, args.required()?),
        };
        Ok(Object { sub })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match self.sub {
            ObjectSub::Help => Reply::Array(OBJECT_HELP.iter().map(|l| Reply::status(l)).collect()),
            ObjectSub::Freq(key) => {
                if db.key_type(key) == crate::store::generic::KeyType::None {
                    return Reply::Nil;
                }
                // This store has no LFU policy, so frequencies are never tracked.
                Reply::Error(
                    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
                     Please note that when switching between policies at runtime LRU and LFU \
                     data will take some time to adjust."
                        .into(),
                )
            }
            ObjectSub::Field(field, key) => match db.object(key, field) {
                None => Reply::Nil,
                Some(ObjectInfo::Encoding(e)) => Reply::bulk(e),
                Some(ObjectInfo::Int(n)) => Reply::Integer(n),
            },
        }
    }
}

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC]
/// [ALPHA] [STORE destination]`, and `SORT_RO` (the same without STORE).
pub(crate) struct Sort<'a, const RO: bool> {
    key: &'a [u8],
    opts: SortOptions,
    store: Option<&'a [u8]>,
}

impl<'a, const RO: bool> Command<'a> for Sort<'a, RO> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let mut opts = SortOptions::default();
        let mut store = None;
        while let Some(word) = args.next() {
            let left = args.remaining();
            if Args::is(word, "asc") {
                opts.desc = false;
            } else if Args::is(word, "desc") {
                opts.desc = true;
            } else if Args::is(word, "alpha") {
                opts.alpha = true;
            } else if Args::is(word, "limit") && left >= 2 {
                opts.limit = Some((args.i64()?, args.i64()?));
            } else if !RO && Args::is(word, "store") && left >= 1 {
                store = args.next();
            } else if Args::is(word, "by") && left >= 1 {
                opts.by = args.next().map(<[u8]>::to_vec);
            } else if Args::is(word, "get") && left >= 1 {
                opts.get.extend(args.next().map(<[u8]>::to_vec));
            } else {
                return Err(Error::Syntax);
            }
        }
        Ok(Sort { key, opts, store })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        match self.store {
            Some(dst) => reply(db.sort_store(self.key, &self.opts, dst)),
            None => reply(db.sort(self.key, &self.opts)),
        }
    }
}

/// `LOLWUT [VERSION version]`. Redis 7.0 has no art of its own: its answer is the version
/// line. `VERSION 5` and `VERSION 6` select Redis 5's and 6's drawings, which are random and
/// not reproduced here; they answer the version line too.
pub(crate) struct Lolwut;

impl<'a> Command<'a> for Lolwut {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let rest = args.rest();
        if rest.len() >= 2 && Args::is(rest[0], "version") {
            crate::num::parse_i64(rest[1]).ok_or(Error::NotInteger)?;
        }
        Ok(Lolwut)
    }
    fn apply(self, _: &mut Db<'_>) -> Reply {
        Reply::Verbatim(
            "txt",
            format!("Redis ver. {}\n", crate::REDIS_VERSION).into_bytes(),
        )
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let one = Keys::ONE;
    let two = Keys::Range {
        first: 1,
        last: 2,
        step: 1,
    };
    t.extend([
        Spec {
            name: "del",
            arity: -2,
            flags: Flags::WRITE,
            keys: Keys::ALL_ARGS,
            run: cmd!(Del),
            block: None,
        },
        Spec {
            name: "unlink",
            arity: -2,
            flags: Flags::WRITE,
            keys: Keys::ALL_ARGS,
            run: cmd!(Del),
            block: None,
        },
        Spec {
            name: "exists",
            arity: -2,
            flags: Flags::NONE,
            keys: Keys::ALL_ARGS,
            run: cmd!(Exists),
            block: None,
        },
        Spec {
            name: "type",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(Type),
            block: None,
        },
        Spec {
            name: "keys",
            arity: 2,
            flags: Flags::NONE,
            keys: Keys::All,
            run: cmd!(KeysCmd),
            block: None,
        },
        Spec {
            name: "scan",
            arity: -2,
            flags: Flags::NONE,
            keys: Keys::All,
            run: cmd!(Scan),
            block: None,
        },
        Spec {
            name: "dbsize",
            arity: 1,
            flags: Flags::NONE,
            keys: Keys::All,
            run: cmd!(DbSize),
            block: None,
        },
        Spec {
            name: "rename",
            arity: 3,
            flags: Flags::WRITE,
            keys: two,
            run: cmd!(Rename<false>),
            block: None,
        },
        Spec {
            name: "renamenx",
            arity: 3,
            flags: Flags::WRITE,
            keys: two,
            run: cmd!(Rename<true>),
            block: None,
        },
        Spec {
            name: "expire",
            arity: -3,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(Expire<0>),
            block: None,
        },
        Spec {
            name: "pexpire",
            arity: -3,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(Expire<1>),
            block: None,
        },
        Spec {
            name: "expireat",
            arity: -3,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(Expire<2>),
            block: None,
        },
        Spec {
            name: "pexpireat",
            arity: -3,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(Expire<3>),
            block: None,
        },
        Spec {
            name: "ttl",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(TtlCmd<false>),
            block: None,
        },
        Spec {
            name: "pttl",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(TtlCmd<true>),
            block: None,
        },
        Spec {
            name: "persist",
            arity: 2,
            flags: Flags::WRITE,
            keys: one,
            run: cmd!(Persist),
            block: None,
        },
        Spec {
            name: "ping",
            arity: -1,
            flags: Flags::PUBSUB,
            keys: Keys::None,
            run: cmd!(Ping),
            block: None,
        },
        Spec {
            name: "echo",
            arity: 2,
            flags: Flags::NONE,
            keys: Keys::None,
            run: cmd!(Echo),
            block: None,
        },
        Spec {
            name: "touch",
            arity: -2,
            flags: Flags::NONE,
            keys: Keys::ALL_ARGS,
            run: cmd!(Touch),
            block: None,
        },
        Spec {
            name: "expiretime",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(ExpireTime<false>),
            block: None,
        },
        Spec {
            name: "pexpiretime",
            arity: 2,
            flags: Flags::NONE,
            keys: one,
            run: cmd!(ExpireTime<true>),
            block: None,
        },
        Spec {
            name: "copy",
            arity: -3,
            flags: Flags::WRITE_DENYOOM,
            keys: Keys::Copy,
            run: cmd!(Copy),
            block: None,
        },
        Spec {
            name: "randomkey",
            arity: 1,
            flags: Flags::NONE,
            keys: Keys::All,
            run: cmd!(RandomKey),
            block: None,
        },
        Spec {
            name: "object",
            arity: -2,
            flags: Flags::NONE,
            keys: Keys::Range {
                first: 2,
                last: 2,
                step: 1,
            },
            run: cmd!(Object),
            block: None,
        },
        Spec {
            name: "sort",
            arity: -2,
            flags: Flags::WRITE_DENYOOM,
            keys: Keys::All,
            run: cmd!(Sort<false>),
            block: None,
        },
        Spec {
            name: "sort_ro",
            arity: -2,
            flags: Flags::NONE,
            keys: Keys::All,
            run: cmd!(Sort<true>),
            block: None,
        },
        Spec {
            name: "lolwut",
            arity: -1,
            flags: Flags::NONE,
            keys: Keys::None,
            run: cmd!(Lolwut),
            block: None,
        },
    ]);
}
