//! MULTI, EXEC, DISCARD, WATCH and UNWATCH through `Store::execute`, which has no
//! connection state: EXEC and DISCARD answer as on a connection that never sent MULTI, WATCH
//! and UNWATCH have nothing to guard, and MULTI points to `Store::transaction`, whose handle
//! runs all five itself. UNWATCH queued in a transaction runs here, inside EXEC.

use super::{Args, Command, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::Db;

/// The commands of this family by kind: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
pub(crate) struct Stateless<const KIND: u8>;

impl<'a, const KIND: u8> Command<'a> for Stateless<KIND> {
    fn parse(_: &mut Args<'a>) -> Result<Self> {
        match KIND {
            0 => Err(Error::err(
                "MULTI needs a transaction: use Store::transaction() and Transaction::execute",
            )),
            1 => Err(Error::err("EXEC without MULTI")),
            2 => Err(Error::err("DISCARD without MULTI")),
            _ => Ok(Stateless),
        }
    }
    fn apply(self, _: &mut Db<'_>) -> Reply {
        Reply::ok()
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    let all_args = Keys::Range {
        first: 1,
        last: -1,
        step: 1,
    };
    t.extend([
        Spec {
            name: "multi",
            arity: 1,
            keys: Keys::None,
            run: cmd!(Stateless<0>),
        },
        Spec {
            name: "exec",
            arity: 1,
            keys: Keys::None,
            run: cmd!(Stateless<1>),
        },
        Spec {
            name: "discard",
            arity: 1,
            keys: Keys::None,
            run: cmd!(Stateless<2>),
        },
        Spec {
            name: "watch",
            arity: -2,
            keys: all_args,
            run: cmd!(Stateless<3>),
        },
        Spec {
            name: "unwatch",
            arity: 1,
            keys: Keys::None,
            run: cmd!(Stateless<4>),
        },
    ]);
}
