//! The rows of the commands that act on a connection: MULTI, EXEC, DISCARD, WATCH, UNWATCH,
//! and SELECT, HELLO, CLIENT, RESET, QUIT, MONITOR. A [`super::Connection`] runs them itself (their
//! `TXN` and `CONN` flags say so); these runners are what `Store::execute`, which has no
//! connection, answers: EXEC and DISCARD as on a connection that never sent MULTI, WATCH and
//! UNWATCH with nothing to guard, the others with an error pointing to `Store::connection`.
//! UNWATCH queued in a transaction runs here, inside EXEC.

use super::{Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::Db;

/// The commands of this family by kind: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
pub(crate) struct Stateless<const KIND: u8>;

impl<'a, const KIND: u8> Command<'a> for Stateless<KIND> {
    fn parse(_: &mut Args<'a>) -> Result<Self> {
        match KIND {
            0 => Err(Error::err(
                "MULTI needs a connection: use Store::connection() and Connection::execute",
            )),
            1 => Err(Error::err("EXEC without MULTI")),
            2 => Err(Error::err("DISCARD without MULTI")),
            3 | 4 => Ok(Stateless),
            // Inside EXEC, as Redis answers a client that must get one reply per command.
            6 => Err(Error::err("MONITOR isn't allowed for DENY BLOCKING client")),
            _ => Err(Error::err(
                "this command acts on a connection: use Store::connection() and Connection::execute",
            )),
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
            flags: Flags::TXN,
            keys: Keys::None,
            run: cmd!(Stateless<0>),
            block: None,
        },
        Spec {
            name: "exec",
            arity: 1,
            flags: Flags::TXN,
            keys: Keys::None,
            run: cmd!(Stateless<1>),
            block: None,
        },
        Spec {
            name: "discard",
            arity: 1,
            flags: Flags::TXN,
            keys: Keys::None,
            run: cmd!(Stateless<2>),
            block: None,
        },
        Spec {
            name: "watch",
            arity: -2,
            flags: Flags::TXN,
            keys: all_args,
            run: cmd!(Stateless<3>),
            block: None,
        },
        Spec {
            name: "unwatch",
            arity: 1,
            flags: Flags::NONE,
            keys: Keys::None,
            run: cmd!(Stateless<4>),
            block: None,
        },
        Spec {
            name: "select",
            arity: 2,
            flags: Flags::CONN,
            keys: Keys::None,
            run: cmd!(Stateless<5>),
            block: None,
        },
        Spec {
            name: "hello",
            arity: -1,
            flags: Flags::CONN,
            keys: Keys::None,
            run: cmd!(Stateless<5>),
            block: None,
        },
        Spec {
            name: "client",
            arity: -2,
            flags: Flags::CONN,
            keys: Keys::None,
            run: cmd!(Stateless<5>),
            block: None,
        },
        Spec {
            name: "reset",
            arity: 1,
            flags: Flags::CONN.with(Flags::PUBSUB),
            keys: Keys::None,
            run: cmd!(Stateless<5>),
            block: None,
        },
        Spec {
            name: "monitor",
            arity: 1,
            flags: Flags::CONN.with(Flags::ADMIN),
            keys: Keys::None,
            run: cmd!(Stateless<6>),
            block: None,
        },
        Spec {
            name: "quit",
            arity: -1,
            flags: Flags::CONN.with(Flags::PUBSUB),
            keys: Keys::None,
            run: cmd!(Stateless<5>),
            block: None,
        },
    ]);
}
