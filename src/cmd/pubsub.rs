//! PUBLISH and PUBSUB. SUBSCRIBE and its relatives need a connection's state, so through
//! `Store::execute` they answer with an error that points to `Store::subscriber`; a
//! `Subscription` runs them itself.

use super::{Args, Command, Flags, Keys, Spec};
use crate::error::{Error, Result};
use crate::reply::Reply;
use crate::store::Db;

/// `PUBSUB` subcommands with Redis's arities (counting `PUBSUB` and the subcommand).
const SUBCOMMANDS: &[(&str, i32)] = &[
    ("channels", -2),
    ("help", 2),
    ("numpat", 2),
    ("numsub", -2),
    ("shardchannels", -2),
    ("shardnumsub", -2),
];

/// `OBJECT` subcommands with Redis's arities.
const OBJECT_SUBCOMMANDS: &[(&str, i32)] = &[
    ("encoding", 3),
    ("freq", 3),
    ("help", 2),
    ("idletime", 3),
    ("refcount", 3),
];

/// The container commands whose subcommands are checked when they are queued.
fn subcommands_of(spec: &Spec) -> Option<&'static [(&'static str, i32)]> {
    match spec.name {
        "pubsub" => Some(SUBCOMMANDS),
        "object" => Some(OBJECT_SUBCOMMANDS),
        _ => None,
    }
}

/// The queue-time checks Redis makes on a container command's subcommand: it must exist
/// (`ERR unknown subcommand 'X'. Try PUBSUB HELP.`) and have its arity
/// (`ERR wrong number of arguments for 'pubsub|numpat' command`).
pub(crate) fn check_subcommand(spec: &Spec, argv: &[&[u8]]) -> Result<()> {
    let Some(subcommands) = subcommands_of(spec) else {
        return Ok(());
    };
    if argv.len() < 2 {
        return Ok(());
    }
    let sub = argv[1];
    let Some(&(name, arity)) = subcommands
        .iter()
        .find(|(n, _)| sub.eq_ignore_ascii_case(n.as_bytes()))
    else {
        let shown = String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned();
        return Err(Error::other(format!(
            "ERR unknown subcommand '{shown}'. Try {} HELP.",
            String::from_utf8_lossy(argv[0]).to_ascii_uppercase()
        )));
    };
    let n = argv.len() as i32;
    if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
        return Err(Error::WrongArity(format!("{}|{name}", spec.name)));
    }
    Ok(())
}

/// The name Redis shows for a command in errors: `container|sub` for a subcommand.
pub(crate) fn full_name(spec: &Spec, argv: &[&[u8]]) -> String {
    if subcommands_of(spec).is_some() && argv.len() >= 2 {
        format!(
            "{}|{}",
            spec.name,
            String::from_utf8_lossy(argv[1]).to_ascii_lowercase()
        )
    } else {
        spec.name.to_owned()
    }
}

/// `PUBLISH channel message`
pub(crate) struct Publish<'a> {
    channel: &'a [u8],
    message: &'a [u8],
}

impl<'a> Command<'a> for Publish<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        Ok(Publish {
            channel: args.required()?,
            message: args.required()?,
        })
    }
    fn apply(self, db: &mut Db<'_>) -> Reply {
        Reply::from(db.inner.pubsub.publish(self.channel, self.message))
    }
}

enum Which<'a> {
    Help,
    Channels(Option<&'a [u8]>),
    NumSub(&'a [&'a [u8]]),
    NumPat,
    ShardChannels,
    ShardNumSub(&'a [&'a [u8]]),
}

/// `PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT | SHARDCHANNELS [pattern] |
/// SHARDNUMSUB [channel ...] | HELP`
pub(crate) struct PubSub<'a> {
    sub: Which<'a>,
}

impl<'a> Command<'a> for PubSub<'a> {
    fn parse(args: &mut Args<'a>) -> Result<Self> {
        let all = args.rest();
        let mut argv: Vec<&[u8]> = Vec::with_capacity(all.len() + 1);
        argv.push(b"PUBSUB");
        argv.extend_from_slice(all);
        if let Some(spec) = super::lookup(b"pubsub") {
            check_subcommand(spec, &argv)?;
        }
        let word = all[0];
        let rest = &all[1..];
        let is = |w: &str| Args::is(word, w);
        let sub = if is("help") {
            Which::Help
        } else if is("channels") && rest.len() <= 1 {
            Which::Channels(rest.first().copied())
        } else if is("numsub") {
            Which::NumSub(rest)
        } else if is("numpat") {
            Which::NumPat
        } else if is("shardchannels") && rest.len() <= 1 {
            Which::ShardChannels
        } else if is("shardnumsub") {
            Which::ShardNumSub(rest)
        } else {
            let shown = String::from_utf8_lossy(&word[..word.len().min(128)]).into_owned();
            return Err(Error::other(format!(
                "ERR unknown subcommand or wrong number of arguments for '{shown}'. Try PUBSUB HELP."
            )));
        };
        Ok(PubSub { sub })
    }

    fn apply(self, db: &mut Db<'_>) -> Reply {
        let hub = &db.inner.pubsub;
        match self.sub {
            Which::Help => {
                let lines = [
                    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "CHANNELS [<pattern>]",
                    "    Return the currently active channels matching a <pattern> (default: '*').",
                    "NUMPAT",
                    "    Return number of subscriptions to patterns.",
                    "NUMSUB [<channel> ...]",
                    "    Return the number of subscribers for the specified channels, excluding",
                    "    pattern subscriptions(default: no channels).",
                    "SHARDCHANNELS [<pattern>]",
                    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                    "SHARDNUMSUB [<shardchannel> ...]",
                    "    Return the number of subscribers for the specified shard level channel(s)",
                    "HELP",
                    "    Prints this help.",
                ];
                Reply::Array(lines.iter().map(|l| Reply::status(l)).collect())
            }
            Which::Channels(p) => Reply::from(hub.channels(p)),
            Which::NumSub(chs) => Reply::Array(
                hub.numsub(chs)
                    .into_iter()
                    .flat_map(|(c, n)| [Reply::Bulk(c), Reply::from(n)])
                    .collect(),
            ),
            Which::NumPat => Reply::from(hub.numpat()),
            Which::ShardChannels => Reply::Array(Vec::new()),
            Which::ShardNumSub(chs) => Reply::Array(
                chs.iter()
                    .flat_map(|c| [Reply::bulk(c), Reply::Integer(0)])
                    .collect(),
            ),
        }
    }
}

/// `SUBSCRIBE`, `PSUBSCRIBE`, `UNSUBSCRIBE`, `PUNSUBSCRIBE` without a subscription handle.
pub(crate) struct NeedsSubscriber<const KIND: u8>;

impl<'a, const KIND: u8> Command<'a> for NeedsSubscriber<KIND> {
    fn parse(_: &mut Args<'a>) -> Result<Self> {
        let name = ["SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE"][usize::from(KIND)];
        Err(Error::err(format!(
            "{name} needs a subscription: use Store::subscriber() and Subscription::execute"
        )))
    }
    fn apply(self, _: &mut Db<'_>) -> Reply {
        unreachable!("parse always fails")
    }
}

pub(super) fn register(t: &mut Vec<Spec>) {
    t.extend([
        Spec {
            name: "publish",
            arity: 3,
            flags: Flags::NONE,
            keys: Keys::None,
            run: cmd!(Publish),
            block: None,
        },
        Spec {
            name: "pubsub",
            arity: -2,
            flags: Flags::NONE,
            keys: Keys::None,
            run: cmd!(PubSub),
            block: None,
        },
        Spec {
            name: "subscribe",
            arity: -2,
            flags: Flags::PUBSUB,
            keys: Keys::None,
            run: cmd!(NeedsSubscriber<0>),
            block: None,
        },
        Spec {
            name: "psubscribe",
            arity: -2,
            flags: Flags::PUBSUB,
            keys: Keys::None,
            run: cmd!(NeedsSubscriber<1>),
            block: None,
        },
        Spec {
            name: "unsubscribe",
            arity: -1,
            flags: Flags::PUBSUB,
            keys: Keys::None,
            run: cmd!(NeedsSubscriber<2>),
            block: None,
        },
        Spec {
            name: "punsubscribe",
            arity: -1,
            flags: Flags::PUBSUB,
            keys: Keys::None,
            run: cmd!(NeedsSubscriber<3>),
            block: None,
        },
    ]);
}
