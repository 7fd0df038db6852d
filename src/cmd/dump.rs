//! DUMP and RESTORE.

use super::{reply, Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::dump::RestoreOptions;
use crate::store::Db;

/// `DUMP key`
pub(crate) struct Dump<'a> {
    key: &'a [u8],
}

impl<'a> Command<'a> for Dump<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Dump {
            key: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        reply(db.dump(self.key))
    }
}

/// `RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]`.
/// Options are checked first, then (in the store) BUSYKEY; the TTL's integer syntax is
/// checked after BUSYKEY too, as Redis does, so it is kept as text until then.
pub(crate) struct Restore<'a> {
    key: &'a [u8],
    ttl: &'a [u8],
    payload: &'a [u8],
    opts: RestoreOptions,
}

impl<'a> Command<'a> for Restore<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let key = args.required()?;
        let ttl = args.required()?;
        let payload = args.required()?;
        let mut opts = RestoreOptions::default();
        while let Some(opt) = args.next() {
            let more = args.remaining() >= 1;
            if Args::is(opt, "replace") {
                opts.replace = true;
            } else if Args::is(opt, "absttl") {
                opts.absttl = true;
            } else if Args::is(opt, "idletime") && more && opts.freq.is_none() {
                let n = args.i64()?;
                if n < 0 {
                    return Err(Error::err("Invalid IDLETIME value, must be >= 0"));
                }
                opts.idletime = Some(n);
            } else if Args::is(opt, "freq") && more && opts.idletime.is_none() {
                let n = args.i64()?;
                if !(0..=255).contains(&n) {
                    return Err(Error::err("Invalid FREQ value, must be >= 0 and <= 255"));
                }
                opts.freq = Some(n);
            } else {
                return Err(Error::Syntax);
            }
        }
        Ok(Restore {
            key,
            ttl,
            payload,
            opts,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        let r = db.restore_checked(self.key, self.ttl, self.payload, self.opts);
        reply(r)
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    t.extend([
        Spec {
            name: "dump",
            arity: 2,
            flags: Flags::NONE,
            keys: Keys::ONE,
            run: cmd!(Dump),
            block: None,
        },
        Spec {
            name: "restore",
            arity: -4,
            flags: Flags::WRITE_DENYOOM,
            keys: Keys::ONE,
            run: cmd!(Restore),
            block: None,
        },
    ]);
}
