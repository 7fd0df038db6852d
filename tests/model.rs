//! Model test: random command sequences run on a `Store` with a manual clock and on a plain
//! reference model written here from Redis 7.0's keyspace and expiry rules, compared after
//! every step, through `execute` and through the typed methods.
//!
//! The model is deliberately naive: a `BTreeMap` of key -> (value, absolute expiry in ms),
//! expired keys purged before every step, integers checked by printing them back.

use proptest::prelude::*;
use sketchstore::{
    ExpireCondition, KeyType, ManualClock, Reply, SetCondition, SetExpiry, SetOptions, Store, Ttl,
};
use std::collections::BTreeMap;
use std::time::Duration;

const KEYS: &[&str] = &["a", "b", "c", "d"];
const FIELDS: &[&str] = &["f", "g", "h"];
const VALUES: &[&str] = &[
    "x",
    "1",
    "-3",
    "0",
    "9223372036854775807",
    "-9223372036854775808",
    "01",
    "",
];
const START_MS: i64 = 1_700_000_000_000;

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const OVERFLOW: &str = "ERR increment or decrement would overflow";

#[derive(Clone, Debug, PartialEq, Eq)]
enum MVal {
    Str(Vec<u8>),
    /// Fields in insertion order, as a small Redis hash (listpack) keeps them.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
}

#[derive(Default)]
struct Model {
    now: i64,
    keys: BTreeMap<Vec<u8>, (MVal, Option<i64>)>,
}

fn canonical_i64(b: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(b).ok()?;
    let n: i64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

fn err(text: &str) -> Reply {
    Reply::Error(text.to_owned())
}

#[derive(Clone, Copy, Debug)]
enum Cond {
    None,
    Nx,
    Xx,
    Gt,
    Lt,
    XxGt,
    XxLt,
    NxXx,
    GtLt,
}

impl Cond {
    fn words(self) -> &'static [&'static str] {
        match self {
            Cond::None => &[],
            Cond::Nx => &["NX"],
            Cond::Xx => &["XX"],
            Cond::Gt => &["GT"],
            Cond::Lt => &["LT"],
            Cond::XxGt => &["XX", "GT"],
            Cond::XxLt => &["xx", "lt"],
            Cond::NxXx => &["NX", "XX"],
            Cond::GtLt => &["GT", "LT"],
        }
    }

    fn typed(self) -> ExpireCondition {
        let w = self.words();
        let has = |x: &str| w.iter().any(|y| y.eq_ignore_ascii_case(x));
        ExpireCondition {
            nx: has("nx"),
            xx: has("xx"),
            gt: has("gt"),
            lt: has("lt"),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum SetExp {
    None,
    Ex(i64),
    Px(i64),
    KeepTtl,
}

#[derive(Clone, Debug)]
enum Op {
    Get(usize, bool),
    Set {
        key: usize,
        val: usize,
        cond: Option<SetCondition>,
        get: bool,
        exp: SetExp,
        typed: bool,
    },
    IncrBy(usize, i64, bool),
    DecrBy(usize, i64),
    HSet(usize, Vec<(usize, usize)>, bool),
    HGet(usize, usize),
    HDel(usize, Vec<usize>),
    HLen(usize),
    HGetAll(usize),
    HIncrBy(usize, usize, i64),
    Del(Vec<usize>, bool),
    Exists(Vec<usize>, bool),
    Type(usize, bool),
    Rename(usize, usize),
    Expire {
        key: usize,
        n: i64,
        millis: bool,
        cond: Cond,
        typed: bool,
    },
    Ttl(usize, bool, bool),
    Persist(usize),
    Advance(u64),
    Sweep(usize),
}

fn key() -> impl Strategy<Value = usize> {
    0..KEYS.len()
}

fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => -5i64..=5,
        1 => Just(i64::MAX),
        1 => Just(i64::MIN),
        1 => Just(i64::MAX - 1),
    ]
}

fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        4 => Just(Cond::None),
        1 => Just(Cond::Nx),
        1 => Just(Cond::Xx),
        1 => Just(Cond::Gt),
        1 => Just(Cond::Lt),
        1 => Just(Cond::XxGt),
        1 => Just(Cond::XxLt),
        1 => Just(Cond::NxXx),
        1 => Just(Cond::GtLt),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let set_cond = prop_oneof![
        3 => Just(None),
        1 => Just(Some(SetCondition::Nx)),
        1 => Just(Some(SetCondition::Xx)),
    ];
    let set_exp = prop_oneof![
        3 => Just(SetExp::None),
        1 => (1i64..=5).prop_map(SetExp::Ex),
        1 => (1i64..=5000).prop_map(SetExp::Px),
        1 => Just(SetExp::KeepTtl),
    ];
    prop_oneof![
        4 => (key(), any::<bool>()).prop_map(|(k, t)| Op::Get(k, t)),
        6 => (key(), 0..VALUES.len(), set_cond, any::<bool>(), set_exp, any::<bool>()).prop_map(
            |(key, val, cond, get, exp, typed)| Op::Set { key, val, cond, get, exp, typed }
        ),
        3 => (key(), amount(), any::<bool>()).prop_map(|(k, n, t)| Op::IncrBy(k, n, t)),
        1 => (key(), amount()).prop_map(|(k, n)| Op::DecrBy(k, n)),
        4 => (key(), prop::collection::vec((0..FIELDS.len(), 0..VALUES.len()), 1..4), any::<bool>())
            .prop_map(|(k, p, t)| Op::HSet(k, p, t)),
        2 => (key(), 0..FIELDS.len()).prop_map(|(k, f)| Op::HGet(k, f)),
        2 => (key(), prop::collection::vec(0..FIELDS.len(), 1..4)).prop_map(|(k, f)| Op::HDel(k, f)),
        1 => key().prop_map(Op::HLen),
        1 => key().prop_map(Op::HGetAll),
        2 => (key(), 0..FIELDS.len(), amount()).prop_map(|(k, f, n)| Op::HIncrBy(k, f, n)),
        2 => (prop::collection::vec(key(), 1..4), any::<bool>()).prop_map(|(k, t)| Op::Del(k, t)),
        2 => (prop::collection::vec(key(), 1..4), any::<bool>()).prop_map(|(k, t)| Op::Exists(k, t)),
        2 => (key(), any::<bool>()).prop_map(|(k, t)| Op::Type(k, t)),
        2 => (key(), key()).prop_map(|(a, b)| Op::Rename(a, b)),
        5 => (key(), -2i64..=6, any::<bool>(), cond(), any::<bool>()).prop_map(
            |(key, n, millis, cond, typed)| {
                let n = if millis { n * 700 } else { n };
                Op::Expire { key, n, millis, cond, typed }
            }
        ),
        4 => (key(), any::<bool>(), any::<bool>()).prop_map(|(k, m, t)| Op::Ttl(k, m, t)),
        2 => key().prop_map(Op::Persist),
        5 => prop_oneof![Just(0u64), 1u64..1000, 1000u64..4000, Just(500)].prop_map(Op::Advance),
        1 => prop_oneof![Just(1usize), Just(3), Just(usize::MAX)].prop_map(Op::Sweep),
    ]
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn typed_reply<T>(r: sketchstore::Result<T>, f: impl FnOnce(T) -> Reply) -> Reply {
    match r {
        Ok(v) => f(v),
        Err(e) => Reply::Error(e.to_string()),
    }
}

fn ttl_reply(t: Ttl, millis: bool) -> Reply {
    Reply::Integer(if millis {
        t.as_redis_millis()
    } else {
        t.as_redis_secs()
    })
}

impl Model {
    fn purge(&mut self) {
        let now = self.now;
        self.keys.retain(|_, (_, at)| at.is_none_or(|t| t > now));
    }

    fn incrby(&mut self, k: &[u8], by: i64) -> Reply {
        match self.keys.get_mut(k) {
            None => {
                self.keys
                    .insert(k.to_vec(), (MVal::Str(by.to_string().into_bytes()), None));
                Reply::Integer(by)
            }
            Some((MVal::Hash(_), _)) => err(WRONGTYPE),
            Some((MVal::Str(s), _)) => match canonical_i64(s) {
                None => err(NOT_INT),
                Some(cur) => match cur.checked_add(by) {
                    None => err(OVERFLOW),
                    Some(n) => {
                        *s = n.to_string().into_bytes();
                        Reply::Integer(n)
                    }
                },
            },
        }
    }

    fn ttl(&self, k: &[u8]) -> Ttl {
        match self.keys.get(k) {
            None => Ttl::Missing,
            Some((_, None)) => Ttl::Persistent,
            Some((_, Some(at))) => Ttl::Expires(Duration::from_millis((at - self.now) as u64)),
        }
    }

    fn key_type(&self, k: &[u8]) -> &'static str {
        match self.keys.get(k) {
            None => "none",
            Some((MVal::Str(_), _)) => "string",
            Some((MVal::Hash(_), _)) => "hash",
        }
    }

    /// The argv of `op` and the reply the model expects; applies `op` to the model.
    fn apply(&mut self, op: &Op) -> Option<(Vec<Vec<u8>>, Reply)> {
        self.purge();
        let k = |i: &usize| b(KEYS[*i]);
        Some(match op {
            Op::Get(i, _) => {
                let r = match self.keys.get(&k(i)) {
                    None => Reply::Nil,
                    Some((MVal::Str(s), _)) => Reply::Bulk(s.clone()),
                    Some((MVal::Hash(_), _)) => err(WRONGTYPE),
                };
                (vec![b("GET"), k(i)], r)
            }
            Op::Set {
                key,
                val,
                cond,
                get,
                exp,
                ..
            } => {
                let key = k(key);
                let v = b(VALUES[*val]);
                let mut argv = vec![b("SET"), key.clone(), v.clone()];
                match cond {
                    Some(SetCondition::Nx) => argv.push(b("NX")),
                    Some(SetCondition::Xx) => argv.push(b("xx")),
                    None => {}
                }
                if *get {
                    argv.push(b("GET"));
                }
                match exp {
                    SetExp::None => {}
                    SetExp::Ex(s) => argv.extend([b("EX"), b(&s.to_string())]),
                    SetExp::Px(ms) => argv.extend([b("px"), b(&ms.to_string())]),
                    SetExp::KeepTtl => argv.push(b("KEEPTTL")),
                }
                let old = self.keys.get(&key).cloned();
                if *get {
                    if let Some((MVal::Hash(_), _)) = old {
                        return Some((argv, err(WRONGTYPE)));
                    }
                }
                let exists = old.is_some();
                let write = match cond {
                    Some(SetCondition::Nx) => !exists,
                    Some(SetCondition::Xx) => exists,
                    None => true,
                };
                if write {
                    let at = match exp {
                        SetExp::None => None,
                        SetExp::Ex(s) => Some(self.now + s * 1000),
                        SetExp::Px(ms) => Some(self.now + ms),
                        SetExp::KeepTtl => old.as_ref().and_then(|(_, at)| *at),
                    };
                    self.keys.insert(key, (MVal::Str(v), at));
                }
                let r = if *get {
                    match old {
                        Some((MVal::Str(s), _)) => Reply::Bulk(s),
                        _ => Reply::Nil,
                    }
                } else if write {
                    Reply::ok()
                } else {
                    Reply::Nil
                };
                (argv, r)
            }
            Op::IncrBy(i, n, _) => {
                let r = self.incrby(&k(i), *n);
                (vec![b("INCRBY"), k(i), b(&n.to_string())], r)
            }
            Op::DecrBy(i, n) => {
                let r = match n.checked_neg() {
                    // The negation fails before the key is looked at.
                    None => err("ERR decrement would overflow"),
                    Some(neg) => self.incrby(&k(i), neg),
                };
                (vec![b("DECRBY"), k(i), b(&n.to_string())], r)
            }
            Op::HSet(i, pairs, _) => {
                let mut argv = vec![b("HSET"), k(i)];
                for (f, v) in pairs {
                    argv.extend([b(FIELDS[*f]), b(VALUES[*v])]);
                }
                let entry = self
                    .keys
                    .entry(k(i))
                    .or_insert_with(|| (MVal::Hash(Vec::new()), None));
                let r = match &mut entry.0 {
                    MVal::Str(_) => err(WRONGTYPE),
                    MVal::Hash(h) => {
                        let mut new = 0;
                        for (f, v) in pairs {
                            let (f, v) = (b(FIELDS[*f]), b(VALUES[*v]));
                            match h.iter_mut().find(|(g, _)| *g == f) {
                                Some(slot) => slot.1 = v,
                                None => {
                                    h.push((f, v));
                                    new += 1;
                                }
                            }
                        }
                        Reply::Integer(new)
                    }
                };
                (argv, r)
            }
            Op::HGet(i, f) => {
                let r = match self.keys.get(&k(i)) {
                    None => Reply::Nil,
                    Some((MVal::Str(_), _)) => err(WRONGTYPE),
                    Some((MVal::Hash(h), _)) => Reply::opt_bulk(
                        h.iter()
                            .find(|(g, _)| g == FIELDS[*f].as_bytes())
                            .map(|(_, v)| v),
                    ),
                };
                (vec![b("HGET"), k(i), b(FIELDS[*f])], r)
            }
            Op::HDel(i, fields) => {
                let mut argv = vec![b("HDEL"), k(i)];
                argv.extend(fields.iter().map(|f| b(FIELDS[*f])));
                let r = match self.keys.get_mut(&k(i)) {
                    None => Reply::Integer(0),
                    Some((MVal::Str(_), _)) => err(WRONGTYPE),
                    Some((MVal::Hash(h), _)) => {
                        let mut removed = 0;
                        for f in fields {
                            let before = h.len();
                            h.retain(|(g, _)| g != FIELDS[*f].as_bytes());
                            removed += before - h.len();
                        }
                        if h.is_empty() {
                            self.keys.remove(&k(i));
                        }
                        Reply::Integer(removed as i64)
                    }
                };
                (argv, r)
            }
            Op::HLen(i) => {
                let r = match self.keys.get(&k(i)) {
                    None => Reply::Integer(0),
                    Some((MVal::Str(_), _)) => err(WRONGTYPE),
                    Some((MVal::Hash(h), _)) => Reply::Integer(h.len() as i64),
                };
                (vec![b("HLEN"), k(i)], r)
            }
            Op::HGetAll(i) => {
                let r = match self.keys.get(&k(i)) {
                    None => Reply::Array(vec![]),
                    Some((MVal::Str(_), _)) => err(WRONGTYPE),
                    Some((MVal::Hash(h), _)) => Reply::Array(
                        h.iter()
                            .flat_map(|(f, v)| [Reply::Bulk(f.clone()), Reply::Bulk(v.clone())])
                            .collect(),
                    ),
                };
                (vec![b("HGETALL"), k(i)], r)
            }
            Op::HIncrBy(i, f, n) => {
                let argv = vec![b("HINCRBY"), k(i), b(FIELDS[*f]), b(&n.to_string())];
                let field = b(FIELDS[*f]);
                let r = match self.keys.get_mut(&k(i)) {
                    Some((MVal::Str(_), _)) => err(WRONGTYPE),
                    slot => {
                        let cur = match &slot {
                            Some((MVal::Hash(h), _)) => {
                                h.iter().find(|(g, _)| *g == field).map(|(_, v)| v.clone())
                            }
                            _ => None,
                        };
                        let cur = match cur {
                            None => Some(0),
                            Some(v) => canonical_i64(&v),
                        };
                        match cur {
                            None => err("ERR hash value is not an integer"),
                            Some(c) => match c.checked_add(*n) {
                                None => err(OVERFLOW),
                                Some(new) => {
                                    let text = new.to_string().into_bytes();
                                    let entry = self
                                        .keys
                                        .entry(k(i))
                                        .or_insert_with(|| (MVal::Hash(Vec::new()), None));
                                    if let MVal::Hash(h) = &mut entry.0 {
                                        match h.iter_mut().find(|(g, _)| *g == field) {
                                            Some(s) => s.1 = text,
                                            None => h.push((field, text)),
                                        }
                                    }
                                    Reply::Integer(new)
                                }
                            },
                        }
                    }
                };
                (argv, r)
            }
            Op::Del(ks, _) => {
                let mut argv = vec![b("DEL")];
                argv.extend(ks.iter().map(k));
                let n = ks
                    .iter()
                    .filter(|i| self.keys.remove(&k(i)).is_some())
                    .count();
                (argv, Reply::Integer(n as i64))
            }
            Op::Exists(ks, _) => {
                let mut argv = vec![b("EXISTS")];
                argv.extend(ks.iter().map(k));
                let n = ks.iter().filter(|i| self.keys.contains_key(&k(i))).count();
                (argv, Reply::Integer(n as i64))
            }
            Op::Type(i, _) => (vec![b("TYPE"), k(i)], Reply::status(self.key_type(&k(i)))),
            Op::Rename(x, y) => {
                let argv = vec![b("RENAME"), k(x), k(y)];
                let r = match self.keys.remove(&k(x)) {
                    None => err("ERR no such key"),
                    Some(v) => {
                        self.keys.insert(k(y), v);
                        Reply::ok()
                    }
                };
                (argv, r)
            }
            Op::Expire {
                key,
                n,
                millis,
                cond,
                ..
            } => {
                let name = if *millis { "PEXPIRE" } else { "EXPIRE" };
                let mut argv = vec![b(name), k(key), b(&n.to_string())];
                argv.extend(cond.words().iter().map(|w| b(w)));
                let c = cond.typed();
                if c.nx && (c.xx || c.gt || c.lt) {
                    let e = "ERR NX and XX, GT or LT options at the same time are not compatible";
                    return Some((argv, err(e)));
                }
                if c.gt && c.lt {
                    return Some((
                        argv,
                        err("ERR GT and LT options at the same time are not compatible"),
                    ));
                }
                let when = self.now + if *millis { *n } else { n * 1000 };
                let r = match self.keys.get_mut(&k(key)) {
                    None => false,
                    Some((_, at)) => {
                        // A key without a TTL counts as an infinite TTL.
                        let blocked = (c.nx && at.is_some())
                            || (c.xx && at.is_none())
                            || (c.gt && at.is_none_or(|t| when <= t))
                            || (c.lt && at.is_some_and(|t| when >= t));
                        let ok = !blocked;
                        if ok {
                            *at = Some(when);
                        }
                        ok
                    }
                };
                self.purge();
                (argv, Reply::Integer(i64::from(r)))
            }
            Op::Ttl(i, millis, _) => {
                let name = if *millis { "PTTL" } else { "TTL" };
                (vec![b(name), k(i)], ttl_reply(self.ttl(&k(i)), *millis))
            }
            Op::Persist(i) => {
                let r = match self.keys.get_mut(&k(i)) {
                    Some((_, at @ Some(_))) => {
                        *at = None;
                        1
                    }
                    _ => 0,
                };
                (vec![b("PERSIST"), k(i)], Reply::Integer(r))
            }
            Op::Advance(ms) => {
                self.now += *ms as i64;
                self.purge();
                return None;
            }
            Op::Sweep(_) => return None,
        })
    }
}

/// Runs `op` on the store: through `execute`, or through the typed method when the op
/// asks for it and has one. Returns the reply in `Reply` form.
fn run_store(store: &Store, clock: &ManualClock, op: &Op, argv: &[Vec<u8>]) -> Reply {
    let k = |i: &usize| KEYS[*i];
    match op {
        Op::Get(i, true) => typed_reply(store.get(k(i)), Reply::opt_bulk),
        Op::Set {
            key,
            val,
            cond,
            get,
            exp,
            typed: true,
        } => {
            let expiry = match exp {
                SetExp::None => None,
                SetExp::Ex(s) => Some(SetExpiry::In(Duration::from_secs(*s as u64))),
                SetExp::Px(ms) => Some(SetExpiry::AtMs(clock.clock().now_ms() + ms)),
                SetExp::KeepTtl => Some(SetExpiry::KeepTtl),
            };
            let opts = SetOptions {
                condition: *cond,
                expiry,
                get: *get,
            };
            typed_reply(store.set_with(k(key), VALUES[*val], opts), |o| {
                if *get {
                    Reply::opt_bulk(o.previous)
                } else if o.written {
                    Reply::ok()
                } else {
                    Reply::Nil
                }
            })
        }
        Op::IncrBy(i, n, true) => typed_reply(store.incrby(k(i), *n), Reply::Integer),
        Op::HSet(i, pairs, true) => {
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(f, v)| (FIELDS[*f], VALUES[*v]))
                .collect();
            typed_reply(store.hset(k(i), &pairs), |n| Reply::Integer(n as i64))
        }
        Op::Del(ks, true) => {
            let ks: Vec<&str> = ks.iter().map(k).collect();
            typed_reply(store.del(&ks), |n| Reply::Integer(n as i64))
        }
        Op::Exists(ks, true) => {
            let ks: Vec<&str> = ks.iter().map(k).collect();
            typed_reply(store.exists(&ks), |n| Reply::Integer(n as i64))
        }
        Op::Type(i, true) => typed_reply(store.key_type(k(i)), |t| Reply::status(t.as_str())),
        Op::Ttl(i, millis, true) => typed_reply(store.ttl(k(i)), |t| ttl_reply(t, *millis)),
        // The typed expire takes a Duration: only non-negative, condition-compatible cases.
        Op::Expire {
            key,
            n,
            millis,
            cond,
            typed: true,
        } if *n >= 0 && !matches!(cond, Cond::NxXx | Cond::GtLt) => {
            let d = if *millis {
                Duration::from_millis(*n as u64)
            } else {
                Duration::from_secs(*n as u64)
            };
            typed_reply(store.expire_if(k(key), d, cond.typed()), |b| {
                Reply::Integer(i64::from(b))
            })
        }
        _ => store.execute(argv),
    }
}

fn check_state(store: &Store, model: &Model) -> Result<(), TestCaseError> {
    for key in KEYS {
        let kb = key.as_bytes();
        prop_assert_eq!(store.ttl(key).unwrap(), model.ttl(kb), "ttl of {}", key);
        let ty = store.key_type(key).unwrap();
        let want = match model.key_type(kb) {
            "none" => KeyType::None,
            "string" => KeyType::String,
            _ => KeyType::Hash,
        };
        prop_assert_eq!(ty, want, "type of {}", key);
        match model.keys.get(kb) {
            Some((MVal::Str(s), _)) => prop_assert_eq!(store.get(key).unwrap(), Some(s.clone())),
            Some((MVal::Hash(h), _)) => prop_assert_eq!(&store.hgetall(key).unwrap(), h),
            None => prop_assert_eq!(store.get(key).unwrap(), None),
        }
    }
    Ok(())
}

fn run_case(ops: &[Op]) -> Result<(), TestCaseError> {
    let clock = ManualClock::new(START_MS);
    let store = Store::builder().clock(clock.clock()).shards(4).build();
    let mut model = Model {
        now: START_MS,
        ..Model::default()
    };
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Advance(ms) => {
                clock.advance(Duration::from_millis(*ms));
                model.apply(op);
            }
            Op::Sweep(budget) => {
                store.sweep_expired(*budget);
                model.purge();
                if *budget == usize::MAX {
                    prop_assert_eq!(
                        store.stored_keys(),
                        model.keys.len(),
                        "step {}: after a full sweep",
                        step
                    );
                }
            }
            _ => {
                let (argv, want) = model.apply(op).expect("a command");
                let got = run_store(&store, &clock, op, &argv);
                let shown: Vec<String> = argv
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                prop_assert_eq!(got, want, "step {}: {:?} ({:?})", step, shown.join(" "), op);
            }
        }
        // Expired keys not yet reclaimed still count as stored, never the other way round.
        prop_assert!(
            store.stored_keys() >= model.keys.len(),
            "step {}: fewer stored keys than live",
            step
        );
    }
    check_state(&store, &model)?;
    store.sweep_expired(usize::MAX);
    prop_assert_eq!(store.stored_keys(), model.keys.len());
    prop_assert_eq!(store.dbsize().unwrap(), model.keys.len());
    let mut keys = store.keys("*").unwrap();
    keys.sort();
    prop_assert_eq!(keys, model.keys.keys().cloned().collect::<Vec<_>>());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_model(ops in prop::collection::vec(op(), 20..=60)) {
        run_case(&ops)?;
    }
}

/// A fixed sequence through the interesting expiry paths, so a regression shows up with a
/// readable name even before proptest shrinks anything.
#[test]
fn model_fixed_sequence() {
    use Op::*;
    let ops = vec![
        Set {
            key: 0,
            val: 1,
            cond: None,
            get: false,
            exp: SetExp::Ex(2),
            typed: false,
        },
        IncrBy(0, 5, false),
        Ttl(0, true, false),
        Advance(1500),
        Ttl(0, false, true),
        Set {
            key: 0,
            val: 0,
            cond: None,
            get: true,
            exp: SetExp::KeepTtl,
            typed: true,
        },
        Advance(500),
        Get(0, false),
        Sweep(usize::MAX),
        HSet(1, vec![(0, 0), (1, 1), (0, 2)], false),
        Expire {
            key: 1,
            n: 3,
            millis: false,
            cond: Cond::Lt,
            typed: true,
        },
        Expire {
            key: 1,
            n: 1,
            millis: false,
            cond: Cond::Gt,
            typed: false,
        },
        Rename(1, 2),
        Ttl(2, true, false),
        Expire {
            key: 2,
            n: -1,
            millis: false,
            cond: Cond::XxLt,
            typed: false,
        },
        Exists(vec![1, 2, 2], false),
        Sweep(usize::MAX),
    ];
    run_case(&ops).unwrap();
}
