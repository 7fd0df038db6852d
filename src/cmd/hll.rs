//! HyperLogLog commands.

use super::{reply, Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::hll::{PfDebug, PfDebugReply};
use crate::store::Db;
use crate::types::hll::HllEncoding;

/// `PFADD key [element ...]`
pub(crate) struct PfAdd<'a> {
    pub(super) key: &'a [u8],
    pub(super) items: &'a [&'a [u8]],
}

impl<'a> Command<'a> for PfAdd<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(PfAdd {
            key: args.required()?,
            items: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.pfadd(self.key, self.items))
    }
}

/// `PFCOUNT key [key ...]`
pub(crate) struct PfCount<'a> {
    pub(super) keys: &'a [&'a [u8]],
}

impl<'a> Command<'a> for PfCount<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(PfCount { keys: args.rest() })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        // Redis replies with the 64-bit cardinality as a signed integer.
        reply(db.pfcount(self.keys).map(|n| n as i64))
    }
}

/// `PFMERGE destkey [sourcekey ...]`
pub(crate) struct PfMerge<'a> {
    dest: &'a [u8],
    sources: &'a [&'a [u8]],
}

impl<'a> Command<'a> for PfMerge<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(PfMerge {
            dest: args.required()?,
            sources: args.rest(),
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.pfmerge(self.dest, self.sources))
    }
}

/// `PFDEBUG GETREG|DECODE|ENCODING|TODENSE key`. Redis looks the key up before it reads
/// the subcommand.
pub(crate) struct PfDebugCmd<'a> {
    sub: &'a [u8],
    key: &'a [u8],
}

impl<'a> Command<'a> for PfDebugCmd<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(PfDebugCmd {
            sub: args.required()?,
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let sub = [
            ("getreg", PfDebug::GetReg),
            ("decode", PfDebug::Decode),
            ("encoding", PfDebug::Encoding),
            ("todense", PfDebug::ToDense),
        ]
        .into_iter()
        .find(|(n, _)| Args::is(self.sub, n))
        .map(|(_, s)| s);
        if let Some(e) = db.pfdebug(PfDebug::Encoding, self.key).err() {
            return Reply::Error(e.to_string());
        }
        let Some(sub) = sub else {
            return Reply::Error(
                Error::with_user_text("ERR Unknown PFDEBUG subcommand '", self.sub, "'")
                    .to_string(),
            );
        };
        match db.pfdebug(sub, self.key) {
            Err(e) => Reply::Error(e.to_string()),
            Ok(PfDebugReply::Registers(r)) => Reply::Array(
                r.into_iter()
                    .map(|v| Reply::Integer(i64::from(v)))
                    .collect(),
            ),
            Ok(PfDebugReply::Decoded(s)) => Reply::bulk(s),
            Ok(PfDebugReply::Encoding(HllEncoding::Sparse)) => Reply::status("sparse"),
            Ok(PfDebugReply::Encoding(HllEncoding::Dense)) => Reply::status("dense"),
            Ok(PfDebugReply::Converted(c)) => Reply::from(c),
        }
    }
}

/// `PFSELFTEST`
pub(crate) struct PfSelfTest;

impl<'a> Command<'a> for PfSelfTest {
    fn parse(_: &mut Args<'a>) -> Result<Self> {
        Ok(PfSelfTest)
    }
    fn apply(self, _: &mut Db<'_>) -> Reply {
        reply(crate::store::hll::pfselftest())
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    t.extend([
        Spec {
            name: "pfadd",
            arity: -2,
            flags: Flags::WRITE_DENYOOM,
            keys: Keys::ONE,
            run: cmd!(PfAdd),
            block: None,
        },
        Spec {
            name: "pfcount",
            arity: -2,
            flags: Flags::NONE,
            keys: Keys::ALL_ARGS,
            run: cmd!(PfCount),
            block: None,
        },
        Spec {
            name: "pfmerge",
            arity: -2,
            flags: Flags::WRITE_DENYOOM,
            keys: Keys::ALL_ARGS,
            run: cmd!(PfMerge),
            block: None,
        },
        Spec {
            name: "pfdebug",
            arity: 3,
            flags: Flags::WRITE_DENYOOM.with(Flags::ADMIN),
            keys: Keys::Range {
                first: 2,
                last: 2,
                step: 1,
            },
            run: cmd!(PfDebugCmd),
            block: None,
        },
        Spec {
            name: "pfselftest",
            arity: 1,
            flags: Flags::ADMIN,
            keys: Keys::None,
            run: cmd!(PfSelfTest),
            block: None,
        },
    ]);
}
