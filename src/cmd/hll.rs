//! HyperLogLog commands.

use super::{reply, Args, Command, Flags, Keys, Spec};
use crate::error::Result;
use crate::reply::Reply;
use crate::store::Db;

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
    ]);
}
