//! Bloom filters (`BF.*`): every reply and error RedisBloom 2.8 gives (recorded from a real server;
//! docs/redis-behaviours.md, "Bloom filters: sizing and growth") through
//! `Store::execute` (table-driven argv -> exact reply), the same through the typed methods,
//! key-type interplay, the memory budget, SCANDUMP/LOADCHUNK round trips and hostile chunks.

use proptest::prelude::*;
use sketchstore::types::bloom::DEFAULT_MAX_BYTES;
use sketchstore::{
    BfInfoField, BfInsertOptions, BloomInfo, BloomOptions, Error, KeyType, Reply, Store,
};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const NOT_FOUND: &str = "ERR not found";
const BAD_DATA: &str = "ERR received bad data";
const FULL: &str = "ERR non scaling filter is full";
const CANNOT_GROW: &str = "ERR problem inserting into filter";
const RATE_RANGE: &str = "ERR (0 < error rate range < 1) ";

fn ok() -> Reply {
    Reply::ok()
}
fn nil() -> Reply {
    Reply::Nil
}
fn int(n: i64) -> Reply {
    Reply::Integer(n)
}
fn ints(ns: &[i64]) -> Reply {
    Reply::Array(ns.iter().map(|&n| int(n)).collect())
}
fn bulk(s: impl AsRef<[u8]>) -> Reply {
    Reply::bulk(s)
}
fn err(s: &str) -> Reply {
    Reply::Error(s.to_owned())
}
fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}
fn arity(name: &str) -> Reply {
    err(&format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}
fn status(s: &str) -> Reply {
    Reply::status(s)
}

/// The full BF.INFO reply.
fn info(capacity: i64, size: i64, filters: i64, items: i64, expansion: Option<i64>) -> Reply {
    arr(vec![
        status("Capacity"),
        int(capacity),
        status("Size"),
        int(size),
        status("Number of filters"),
        int(filters),
        status("Number of items inserted"),
        int(items),
        status("Expansion rate"),
        expansion.map_or(nil(), int),
    ])
}

type Row<'a> = (Vec<&'a [u8]>, Reply);

/// Runs the rows in order on `store`; every reply must be exactly the expected one.
fn run_rows(store: &Store, rows: &[Row<'_>]) {
    for (i, (argv, want)) in rows.iter().enumerate() {
        let got = store.execute(argv);
        let shown: Vec<String> = argv
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        assert_eq!(&got, want, "row {i}: {}", shown.join(" "));
    }
}

/// A row from text arguments.
fn row<'a>(argv: &[&'a str], want: Reply) -> Row<'a> {
    (argv.iter().map(|a| a.as_bytes()).collect(), want)
}

fn run_table(rows: &[Row<'_>]) {
    run_rows(&Store::new(), rows);
}

/// The header of `BF.RESERVE bf 0.1 10` + `BF.ADD bf item1` (the docs' BF.SCANDUMP example).
fn doc_header() -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&1u64.to_le_bytes()); // items
    h.extend_from_slice(&1u32.to_le_bytes()); // filters
    h.extend_from_slice(&5u32.to_le_bytes()); // options FORCE64 | NOROUND
    h.extend_from_slice(&2u32.to_le_bytes()); // growth
    h.extend_from_slice(&8u64.to_le_bytes()); // bytes
    h.extend_from_slice(&64u64.to_le_bytes()); // bits
    h.extend_from_slice(&1u64.to_le_bytes()); // items in link
    h.extend_from_slice(&0.05f64.to_le_bytes()); // error
    h.extend_from_slice(&(-(0.05f64.ln() / 0.480453013918201)).to_le_bytes()); // bpe
    h.extend_from_slice(&5u32.to_le_bytes()); // hashes
    h.extend_from_slice(&10u64.to_le_bytes()); // entries
    h.push(0); // n2
    h
}

const DOC_CHUNK: &[u8] = b"\x01\x08\x00\x80\x00\x04 \x00";

#[test]
fn docs_examples() {
    let header = doc_header();
    run_table(&[
        // 1, 2: bf.reserve
        row(&["BF.RESERVE", "bf", "0.01", "1000"], ok()),
        row(
            &["BF.RESERVE", "bf", "0.01", "1000"],
            err("ERR item exists"),
        ),
        row(
            &["BF.RESERVE", "bf_exp", "0.01", "1000", "EXPANSION", "2"],
            ok(),
        ),
        row(
            &["BF.RESERVE", "bf_non", "0.01", "1000", "NONSCALING"],
            ok(),
        ),
        row(&["BF.INFO", "bf_non"], info(1000, 1296, 1, 0, None)),
        row(&["BF.INFO", "bf_exp", "expansion"], ints(&[2])),
        row(&["BF.INFO", "bf_non", "EXPANSION"], arr(vec![nil()])),
        // 3: bf.add
        row(&["DEL", "bf"], int(1)),
        row(&["BF.ADD", "bf", "item1"], int(1)),
        row(&["BF.ADD", "bf", "item1"], int(0)),
        // 4: bf.madd
        row(&["DEL", "bf"], int(1)),
        row(
            &["BF.MADD", "bf", "item1", "item2", "item2"],
            ints(&[1, 1, 0]),
        ),
        // 5: bf.mexists
        row(&["DEL", "bf"], int(1)),
        row(&["BF.MADD", "bf", "item1", "item2"], ints(&[1, 1])),
        row(
            &["BF.MEXISTS", "bf", "item1", "item2", "item3"],
            ints(&[1, 1, 0]),
        ),
        // 6: bf.info
        row(&["BF.ADD", "bf1", "observation1"], int(1)),
        row(&["BF.INFO", "bf1"], info(100, 240, 1, 1, Some(2))),
        row(&["BF.INFO", "bf1", "CAPACITY"], ints(&[100])),
        // 7: bf.card
        row(&["BF.ADD", "bf2", "item_foo"], int(1)),
        row(&["BF.CARD", "bf2"], int(1)),
        row(&["BF.CARD", "bf_new"], int(0)),
        // 8: bf.scandump / bf.loadchunk
        row(&["DEL", "bf"], int(1)),
        row(&["BF.RESERVE", "bf", "0.1", "10"], ok()),
        row(&["BF.ADD", "bf", "item1"], int(1)),
        row(
            &["BF.SCANDUMP", "bf", "0"],
            arr(vec![int(1), bulk(&header)]),
        ),
        row(
            &["BF.SCANDUMP", "bf", "1"],
            arr(vec![int(9), bulk(DOC_CHUNK)]),
        ),
        row(&["BF.SCANDUMP", "bf", "9"], arr(vec![int(0), bulk("")])),
        row(&["DEL", "bf"], int(1)),
        (vec![b"BF.LOADCHUNK", b"bf", b"1", &header], ok()),
        (vec![b"BF.LOADCHUNK", b"bf", b"9", DOC_CHUNK], ok()),
        row(&["BF.EXISTS", "bf", "item1"], int(1)),
        row(&["BF.INFO", "bf"], info(10, 104, 1, 1, Some(2))),
        row(
            &["BF.SCANDUMP", "bf", "0"],
            arr(vec![int(1), bulk(&header)]),
        ),
    ]);
}

#[test]
fn redisbloom_flow_tests() {
    run_table(&[
        // 9: test_multi
        row(&["BF.MADD", "test", "foo", "bar", "baz"], ints(&[1, 1, 1])),
        row(&["BF.MADD", "test", "foo", "new1", "bar"], ints(&[0, 1, 0])),
        row(&["BF.MEXISTS", "test", "nonexist"], ints(&[0])),
        // 10: test_missing
        row(&["BF.EXISTS", "myBloom", "foo"], int(0)),
        row(
            &["BF.MEXISTS", "myBloom", "foo", "bar", "baz"],
            ints(&[0, 0, 0]),
        ),
        // 11: test_info*
        row(&["BF.RESERVE", "bf", "0.001", "100"], ok()),
        row(&["BF.INFO", "bf"], info(100, 296, 1, 0, Some(2))),
        row(&["BF.INFO", "bf", "size"], ints(&[296])),
        row(&["BF.INFO", "bf", "Capacity"], ints(&[100])),
        row(&["BF.INFO", "bf", "FILTERS"], ints(&[1])),
        row(&["BF.INFO", "bf", "items"], ints(&[0])),
        row(&["BF.INFO", "bf", "expansion"], ints(&[2])),
        row(
            &["bf.info", "bf", "wrong_value"],
            err("Invalid information value"),
        ),
        // 12: test_nonscaling_err
        row(
            &[
                "BF.INSERT",
                "nonscaling_err",
                "CAPACITY",
                "3",
                "NONSCALING",
                "ITEMS",
                "a",
                "b",
                "c",
            ],
            ints(&[1, 1, 1]),
        ),
        row(
            &[
                "BF.INSERT",
                "nonscaling_err",
                "ITEMS",
                "a",
                "b",
                "c",
                "d",
                "d",
            ],
            arr(vec![int(0), int(0), int(0), err(FULL)]),
        ),
        row(&["BF.INFO", "nonscaling_err"], info(3, 104, 1, 3, None)),
        row(&["BF.ADD", "nonscaling_err", "d"], err(FULL)),
        row(&["BF.ADD", "nonscaling_err", "a"], int(0)),
        // 13: test_insert
        row(
            &[
                "BF.INSERT",
                "missingFilter",
                "ERROR",
                "0.001",
                "CAPACITY",
                "50000",
                "EXPANSION",
                "2",
                "ITEMS",
                "foo",
            ],
            ints(&[1]),
        ),
        row(
            &["BF.DEBUG", "missingFilter"],
            Reply::bulks([
                "size:1",
                "bytes:98880 bits:791040 hashes:11 hashwidth:64 capacity:50000 size:1 ratio:0.0005",
            ]),
        ),
        row(
            &[
                "BF.INSERT",
                "missingFilter",
                "ERROR",
                "0.1",
                "ITEMS",
                "foo",
                "bar",
                "baz",
            ],
            ints(&[0, 1, 1]),
        ),
        // 15: test_invalid_expansion
        row(
            &["BF.RESERVE", "b", "0.1", "1", "EXPANSION", "0"],
            err("ERR expansion should be greater or equal to 1"),
        ),
        // 16: test_card
        row(&["bf.card", "not_exist"], int(0)),
        row(&["bf.reserve", "bf16", "0.01", "100"], ok()),
        row(&["bf.add", "bf16", "foo"], int(1)),
        row(&["bf.card", "bf16"], int(1)),
        row(&["set", "key:string", "foo"], ok()),
        row(&["bf.card", "key:string"], err(WRONGTYPE)),
        // 19: test_validation / test_no_scaling
        row(&["bf.reserve", "foo", "0", "100"], err(RATE_RANGE)),
        row(&["bf.reserve", "foo", "7.7", "1000"], err(RATE_RANGE)),
        row(
            &["bf.reserve", "foo", "0.001", "blah"],
            err("ERR bad capacity"),
        ),
        row(&["bf.reserve", "bf19", "1", "1000"], err(RATE_RANGE)),
        row(
            &[
                "bf.reserve",
                "bf_mix",
                "0.01",
                "1000",
                "nonscaling",
                "expansion",
                "2",
            ],
            err("Nonscaling filters cannot expand"),
        ),
        row(&["EXISTS", "foo", "bf19", "bf_mix", "b"], int(0)),
    ]);
}

#[test]
fn debug_links_of_a_grown_filter() {
    // 14: test_debug
    let store = Store::new();
    assert_eq!(store.execute(&["BF.RESERVE", "bf", "0.01", "10"]), ok());
    for i in 0..100 {
        let item = i.to_string();
        assert!(!store.execute(&["BF.ADD", "bf", &item]).is_error());
    }
    assert_eq!(
        store.execute(&["BF.DEBUG", "bf"]),
        Reply::bulks([
            "size:99",
            "bytes:16 bits:128 hashes:8 hashwidth:64 capacity:10 size:10 ratio:0.005",
            "bytes:32 bits:256 hashes:9 hashwidth:64 capacity:20 size:20 ratio:0.0025",
            "bytes:72 bits:576 hashes:10 hashwidth:64 capacity:40 size:40 ratio:0.00125",
            "bytes:160 bits:1280 hashes:11 hashwidth:64 capacity:80 size:29 ratio:0.000625",
        ])
    );
    assert_eq!(
        store.execute(&["BF.INFO", "bf"]),
        info(150, 32 + 4 * 64 + 16 + 32 + 72 + 160, 4, 99, Some(2))
    );
    assert_eq!(store.bf_card("bf"), Ok(99));
}

#[test]
fn growth_counts_by_expansion() {
    // "capacity 4 + 100 adds of 0..99 -> 23 / 5 / 4 filters for EXPANSION 1 / 2 / 4".
    for (expansion, filters) in [("1", 23), ("2", 5), ("4", 4)] {
        let store = Store::new();
        let r = store.execute(&["BF.RESERVE", "bf", "0.01", "4", "EXPANSION", expansion]);
        assert_eq!(r, ok());
        for i in 0..100 {
            store.bf_add("bf", i.to_string()).expect("grows");
        }
        assert_eq!(
            store.execute(&["BF.INFO", "bf", "FILTERS"]),
            ints(&[filters]),
            "expansion {expansion}"
        );
    }
}

#[test]
fn issue178_large_filter_size() {
    // 17: test_issue178, with a budget that admits its 1,132,420,232 bytes.
    let store = Store::builder().bloom_max_bytes(1_200_000_000).build();
    run_rows(
        &store,
        &[
            row(&["bf.reserve", "bf", "0.000001", "300000000"], ok()),
            row(&["BF.INFO", "bf", "CAPACITY"], ints(&[300_000_000])),
            row(&["BF.INFO", "bf", "SIZE"], ints(&[1_132_420_232])),
        ],
    );
    // The default budget (512 MiB) refuses it without allocating.
    run_table(&[
        row(
            &["bf.reserve", "bf", "0.000001", "300000000"],
            err("ERR Insufficient memory to create filter"),
        ),
        row(&["EXISTS", "bf"], int(0)),
    ]);
}

#[test]
fn scandump_invalid_header() {
    // 18: test_scandump_invalid_header: options bytes set to 0xFF.
    let mut header = doc_header();
    header[12..16].copy_from_slice(&[0xff; 4]);
    let store = Store::new();
    assert_eq!(
        store.execute(&[&b"BF.LOADCHUNK"[..], b"bf", b"1", &header]),
        err(BAD_DATA)
    );
    assert_eq!(store.execute(&["EXISTS", "bf"]), int(0));
}

#[test]
fn arbitrary_offset_header() {
    // 20: test_arbitrary_offset: a hand-made header RedisBloom accepts.
    let n = 0x14874ddf31811u64;
    let mut h = Vec::new();
    h.extend_from_slice(&n.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&1u64.to_le_bytes());
    h.extend_from_slice(&8u64.to_le_bytes());
    h.extend_from_slice(&n.to_le_bytes());
    h.extend_from_slice(&0.1f64.to_le_bytes());
    h.extend_from_slice(&0.1f64.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    h.extend_from_slice(&n.to_le_bytes());
    h.push(0);
    let store = Store::new();
    run_rows(
        &store,
        &[
            (vec![b"bf.loadchunk", b"k", b"1", &h], ok()),
            row(&["bf.add", "k", "1"], err(CANNOT_GROW)),
            row(
                &["bf.loadchunk", "k", "71752852194637", "HELLO"],
                err("ERR invalid offset - no link found"),
            ),
            row(&["bf.card", "k"], int(n as i64)),
        ],
    );
}

#[test]
fn reserve_argument_checks_in_order() {
    run_table(&[
        row(&["BF.RESERVE", "k", "0.01"], arity("bf.reserve")),
        row(
            &["BF.RESERVE", "k", "0.01", "10", "a", "b", "c", "d"],
            arity("bf.reserve"),
        ),
        row(
            &["bf.RESERVE", "k", "x", "y", "z", "w", "v", "u"],
            arity("bf.reserve"),
        ),
        // Unknown extra words are ignored.
        row(&["BF.RESERVE", "k", "0.01", "10", "whatever"], ok()),
        row(&["BF.RESERVE", "e1", "abc", "x"], err("ERR bad error rate")),
        row(&["BF.RESERVE", "e1", "nan", "x"], err("ERR bad error rate")),
        row(
            &["BF.RESERVE", "e1", " 0.1", "x"],
            err("ERR bad error rate"),
        ),
        row(
            &["BF.RESERVE", "e1", "1e-400", "x"],
            err("ERR bad error rate"),
        ),
        row(&["BF.RESERVE", "e1", "-0.5", "x"], err(RATE_RANGE)),
        row(&["BF.RESERVE", "e1", "inf", "x"], err(RATE_RANGE)),
        row(
            &["BF.RESERVE", "e1", "0.01", "0.3"],
            err("ERR bad capacity"),
        ),
        row(
            &["BF.RESERVE", "e1", "0.01", "1e3"],
            err("ERR bad capacity"),
        ),
        row(
            &["BF.RESERVE", "e1", "0.01", "9223372036854775808"],
            err("ERR bad capacity"),
        ),
        row(
            &["BF.RESERVE", "e1", "0.01", "0"],
            err("ERR (capacity should be larger than 0)"),
        ),
        row(
            &["BF.RESERVE", "e1", "0.01", "-3"],
            err("ERR (capacity should be larger than 0)"),
        ),
        row(
            &["BF.RESERVE", "e1", "0.01", "10", "EXPANSION"],
            err("ERR no expansion"),
        ),
        row(
            &["BF.RESERVE", "e1", "0.01", "10", "NONSCALING", "EXPANSION"],
            err("ERR no expansion"),
        ),
        row(
            &[
                "BF.RESERVE",
                "e1",
                "0.01",
                "10",
                "EXPANSION",
                "x",
                "NONSCALING",
            ],
            err("Nonscaling filters cannot expand"),
        ),
        row(
            &["BF.RESERVE", "e1", "0.01", "10", "expansion", "x"],
            err("ERR bad expansion"),
        ),
        row(
            &["BF.RESERVE", "e1", "0.01", "10", "EXPANSION", "-1"],
            err("ERR expansion should be greater or equal to 1"),
        ),
        // Options are found anywhere, the key included: a key named "expansion" takes the
        // error rate as its value, one named "nonscaling" makes the filter non-scaling.
        row(
            &["BF.RESERVE", "expansion", "0.01", "10"],
            err("ERR bad expansion"),
        ),
        row(&["BF.RESERVE", "NonScaling", "0.01", "10"], ok()),
        row(&["BF.INFO", "NonScaling", "EXPANSION"], arr(vec![nil()])),
        // The first EXPANSION counts, even when another one ends the arguments.
        row(
            &[
                "BF.RESERVE",
                "x1",
                "0.01",
                "10",
                "EXPANSION",
                "4",
                "EXPANSION",
            ],
            ok(),
        ),
        row(&["BF.INFO", "x1", "EXPANSION"], ints(&[4])),
        // A C unsigned keeps the low 32 bits: 2^32 + 3 is 3.
        row(
            &["BF.RESERVE", "x2", "0.01", "10", "EXPANSION", "4294967299"],
            ok(),
        ),
        row(&["BF.INFO", "x2", "EXPANSION"], ints(&[3])),
        // 2^32 is 0: accepted, and growth then fails as in RedisBloom.
        row(
            &["BF.RESERVE", "x4", "0.01", "1", "EXPANSION", "4294967296"],
            ok(),
        ),
        row(&["BF.INFO", "x4", "EXPANSION"], ints(&[0])),
        row(
            &["BF.MADD", "x4", "a", "b"],
            arr(vec![int(1), err(CANNOT_GROW)]),
        ),
        row(
            &[
                "BF.INSERT",
                "x5",
                "CAPACITY",
                "1",
                "EXPANSION",
                "4294967296",
                "ITEMS",
                "a",
                "b",
            ],
            arr(vec![int(1), err(CANNOT_GROW)]),
        ),
        row(&["BF.RESERVE", "x3", "0x1p-4", "10", "NONSCALING"], ok()),
        row(&["BF.INFO", "x3"], info(10, 104, 1, 0, None)),
        row(&["SET", "s", "v"], ok()),
        row(&["BF.RESERVE", "s", "0.01", "10"], err(WRONGTYPE)),
        // Argument errors come before the key lookup.
        row(&["BF.RESERVE", "s", "2", "10"], err(RATE_RANGE)),
        row(&["GET", "s"], bulk("v")),
        row(&["TYPE", "k"], status("MBbloom--")),
        row(&["BF.RESERVE", "k", "0.5", "1"], err("ERR item exists")),
    ]);
}

#[test]
fn insert_argument_checks_in_order() {
    run_table(&[
        row(&["BF.INSERT", "k", "ITEMS"], arity("bf.insert")),
        row(&["BF.INSERT", "k"], arity("bf.insert")),
        row(&["BF.INSERT", "k", "CAPACITY", "10"], arity("bf.insert")),
        row(&["BF.INSERT", "k", "NOCREATE", "ITEMS"], arity("bf.insert")),
        row(
            &["BF.INSERT", "k", "NOCREATE", "NONSCALING"],
            arity("bf.insert"),
        ),
        row(&["BF.INSERT", "k", "NOCREATE", "ERROR"], arity("bf.insert")),
        row(
            &["BF.INSERT", "k", "NOCREATE", "CAPACITY"],
            arity("bf.insert"),
        ),
        row(
            &["BF.INSERT", "k", "FOO", "ITEMS", "a"],
            err("Unknown argument received"),
        ),
        row(
            &["BF.INSERT", "k", "", "ITEMS", "a"],
            err("Unknown argument received"),
        ),
        row(
            &["BF.INSERT", "k", "CAPACITY", "x", "ITEMS", "a"],
            err("Bad capacity"),
        ),
        row(
            &["BF.INSERT", "k", "ERROR", "x", "ITEMS", "a"],
            err("Bad error rate"),
        ),
        row(
            &["BF.INSERT", "k", "EXPANSION", "x", "ITEMS", "a"],
            err("Bad expansion"),
        ),
        // First letters decide: "Eh" is EXPANSION, "er" ERROR, "cap" CAPACITY, "nox"
        // NONSCALING, "nocreate"-like "n?c" NOCREATE.
        row(
            &["BF.INSERT", "k", "Eh", "1.5", "ITEMS", "a"],
            err("Bad expansion"),
        ),
        row(
            &["BF.INSERT", "k", "er", "x", "ITEMS", "a"],
            err("Bad error rate"),
        ),
        row(
            &["BF.INSERT", "k", "cap", "1.5", "ITEMS", "a"],
            err("Bad capacity"),
        ),
        // Range checks come after every option is read.
        row(
            &[
                "BF.INSERT",
                "k",
                "ERROR",
                "0",
                "CAPACITY",
                "x",
                "ITEMS",
                "a",
            ],
            err("Bad capacity"),
        ),
        row(
            &["BF.INSERT", "k", "ERROR", "1", "ITEMS", "a"],
            err("Bad argument received"),
        ),
        row(
            &["BF.INSERT", "k", "ERROR", "0", "ITEMS", "a"],
            err("Bad argument received"),
        ),
        row(
            &["BF.INSERT", "k", "CAPACITY", "0", "ITEMS", "a"],
            err("Bad argument received"),
        ),
        row(
            &["BF.INSERT", "k", "EXPANSION", "0", "ITEMS", "a"],
            err("Bad argument received"),
        ),
        // Arity errors (no ITEMS) win over range errors.
        row(
            &["BF.INSERT", "k", "ERROR", "2", "NOCREATE"],
            arity("bf.insert"),
        ),
        row(&["EXISTS", "k"], int(0)),
        row(
            &["BF.INSERT", "k", "NOCREATE", "ITEMS", "a"],
            err(NOT_FOUND),
        ),
        row(&["BF.INSERT", "k", "nXc", "ITEMS", "a"], err(NOT_FOUND)),
        row(&["EXISTS", "k"], int(0)),
        // "nox" is NONSCALING; ITEMS may be spelled "i".
        row(
            &[
                "BF.INSERT",
                "k",
                "nox",
                "capacity",
                "2",
                "i",
                "a",
                "b",
                "c",
                "d",
            ],
            arr(vec![int(1), int(1), err(FULL)]),
        ),
        row(&["BF.INFO", "k"], info(2, 104, 1, 2, None)),
        // Options of an existing filter are ignored; NOCREATE on an existing key adds.
        row(
            &[
                "BF.INSERT",
                "k",
                "NOCREATE",
                "CAPACITY",
                "1000",
                "ITEMS",
                "a",
            ],
            ints(&[0]),
        ),
        row(&["BF.INFO", "k", "CAPACITY"], ints(&[2])),
        // NONSCALING with EXPANSION is accepted; the filter does not scale but keeps it.
        row(
            &[
                "BF.INSERT",
                "n",
                "NONSCALING",
                "EXPANSION",
                "5",
                "ITEMS",
                "a",
            ],
            ints(&[1]),
        ),
        row(&["BF.INFO", "n", "EXPANSION"], arr(vec![nil()])),
        // ERROR applies to the filter and the range check uses the parsed value.
        row(
            &[
                "BF.INSERT",
                "e",
                "ERROR",
                "0.1",
                "CAPACITY",
                "10",
                "ITEMS",
                "x",
            ],
            ints(&[1]),
        ),
        row(&["BF.INFO", "e", "SIZE"], ints(&[104])),
        row(&["SET", "s", "v"], ok()),
        row(&["BF.INSERT", "s", "ITEMS", "a"], err(WRONGTYPE)),
        row(
            &["BF.INSERT", "s", "NOCREATE", "ITEMS", "a"],
            err(WRONGTYPE),
        ),
        // Everything after ITEMS is an item, option words included.
        row(&["BF.INSERT", "i", "ITEMS", "CAPACITY", "0"], ints(&[1, 1])),
        row(&["BF.INFO", "i", "CAPACITY"], ints(&[100])),
    ]);
}

#[test]
fn add_exists_card_info_key_outcomes() {
    run_table(&[
        row(&["BF.ADD", "k"], arity("bf.add")),
        row(&["BF.ADD", "k", "a", "b"], arity("bf.add")),
        row(&["BF.MADD", "k"], arity("bf.madd")),
        row(&["BF.EXISTS", "k"], arity("bf.exists")),
        row(&["BF.EXISTS", "k", "a", "b"], arity("bf.exists")),
        row(&["BF.MEXISTS", "k"], arity("bf.mexists")),
        row(&["BF.INFO"], arity("bf.info")),
        row(&["BF.INFO", "k", "SIZE", "x"], arity("bf.info")),
        row(&["BF.CARD"], arity("bf.card")),
        row(&["BF.CARD", "k", "x"], arity("bf.card")),
        row(&["BF.DEBUG"], arity("bf.debug")),
        row(&["BF.SCANDUMP", "k"], arity("bf.scandump")),
        row(&["BF.LOADCHUNK", "k", "1"], arity("bf.loadchunk")),
        row(&["BF.LOADCHUNK", "k", "1", "x", "y"], arity("bf.loadchunk")),
        // Missing key.
        row(&["BF.INFO", "k"], err(NOT_FOUND)),
        row(&["BF.INFO", "k", "bogus"], err(NOT_FOUND)),
        row(&["BF.DEBUG", "k"], err(NOT_FOUND)),
        row(&["BF.SCANDUMP", "k", "0"], err(NOT_FOUND)),
        row(&["BF.SCANDUMP", "k", "x"], err(NOT_FOUND)),
        row(
            &["BF.LOADCHUNK", "k", "x", "data"],
            err("ERR Second argument must be numeric"),
        ),
        row(&["BF.LOADCHUNK", "k", "2", "data"], err(NOT_FOUND)),
        row(&["BF.LOADCHUNK", "k", "0", "data"], err(NOT_FOUND)),
        row(&["BF.CARD", "k"], int(0)),
        row(&["BF.EXISTS", "k", "a"], int(0)),
        row(&["EXISTS", "k"], int(0)),
        // Another type: WRONGTYPE, except EXISTS/MEXISTS, which answer 0.
        row(&["SET", "s", "v"], ok()),
        row(&["BF.ADD", "s", "a"], err(WRONGTYPE)),
        row(&["BF.MADD", "s", "a", "b"], err(WRONGTYPE)),
        row(&["BF.EXISTS", "s", "a"], int(0)),
        row(&["BF.MEXISTS", "s", "a", "b"], ints(&[0, 0])),
        row(&["BF.INFO", "s"], err(WRONGTYPE)),
        row(&["BF.INFO", "s", "bogus"], err(WRONGTYPE)),
        row(&["BF.CARD", "s"], err(WRONGTYPE)),
        row(&["BF.DEBUG", "s"], err(WRONGTYPE)),
        row(&["BF.SCANDUMP", "s", "0"], err(WRONGTYPE)),
        row(&["BF.SCANDUMP", "s", "x"], err(WRONGTYPE)),
        row(&["BF.LOADCHUNK", "s", "1", "x"], err(WRONGTYPE)),
        row(&["BF.LOADCHUNK", "s", "5", "x"], err(WRONGTYPE)),
        row(
            &["BF.LOADCHUNK", "s", "x", "x"],
            err("ERR Second argument must be numeric"),
        ),
        row(&["HSET", "h", "f", "v"], int(1)),
        row(&["BF.ADD", "h", "a"], err(WRONGTYPE)),
        row(&["BF.EXISTS", "h", "a"], int(0)),
        // A filter: string and hash commands on it are WRONGTYPE.
        row(&["BF.ADD", "bf", "a"], int(1)),
        row(&["TYPE", "bf"], status("MBbloom--")),
        row(&["GET", "bf"], err(WRONGTYPE)),
        row(&["APPEND", "bf", "x"], err(WRONGTYPE)),
        row(&["STRLEN", "bf"], err(WRONGTYPE)),
        row(&["INCR", "bf"], err(WRONGTYPE)),
        row(&["SETBIT", "bf", "1", "1"], err(WRONGTYPE)),
        row(&["GETBIT", "bf", "1"], err(WRONGTYPE)),
        row(&["HSET", "bf", "f", "v"], err(WRONGTYPE)),
        row(&["MGET", "bf"], arr(vec![nil()])),
        row(
            &["BF.SCANDUMP", "bf", "x"],
            err("Second argument must be numeric"),
        ),
        row(&["BF.SCANDUMP", "bf", "-1"], arr(vec![int(0), bulk("")])),
        row(&["BF.SCANDUMP", "bf", "145"], arr(vec![int(0), bulk("")])),
        row(
            &["BF.INFO", "bf", "bogus"],
            err("Invalid information value"),
        ),
        row(
            &["BF.INFO", "bf", "capacity "],
            err("Invalid information value"),
        ),
        // Generic commands treat it as any key.
        row(&["RENAME", "bf", "bf2"], ok()),
        row(&["BF.EXISTS", "bf2", "a"], int(1)),
        row(&["EXPIRE", "bf2", "100"], int(1)),
        row(&["SET", "bf2", "v"], ok()),
        row(&["BF.EXISTS", "bf2", "a"], int(0)),
        row(&["DEL", "bf2"], int(1)),
        // Command names are case-insensitive.
        row(&["bf.add", "c", "x"], int(1)),
        row(&["Bf.Exists", "c", "x"], int(1)),
    ]);
}

#[test]
fn default_filter_dump_shape() {
    let store = Store::new();
    assert_eq!(store.execute(&["BF.ADD", "k", "x"]), int(1));
    let Reply::Array(head) = store.execute(&["BF.SCANDUMP", "k", "0"]) else {
        panic!("array");
    };
    assert_eq!(head[0], int(1));
    assert!(matches!(&head[1], Reply::Bulk(b) if b.len() == 73));
    let Reply::Array(chunk) = store.execute(&["BF.SCANDUMP", "k", "1"]) else {
        panic!("array");
    };
    assert_eq!(chunk[0], int(145));
    assert!(matches!(&chunk[1], Reply::Bulk(b) if b.len() == 144));
    assert_eq!(
        store.execute(&["BF.SCANDUMP", "k", "145"]),
        arr(vec![int(0), bulk("")])
    );
}

#[test]
fn typed_methods_give_the_same_answers() {
    let store = Store::new();
    let reserve = |error_rate, capacity| BloomOptions {
        error_rate,
        capacity,
        ..BloomOptions::default()
    };
    assert_eq!(store.bf_reserve("bf", reserve(0.01, 1000)), Ok(()));
    assert_eq!(
        store.bf_reserve("bf", reserve(0.01, 1000)),
        Err(Error::other("ERR item exists"))
    );
    assert_eq!(
        store
            .bf_reserve("x", reserve(0.0, 1000))
            .map_err(|e| e.to_string()),
        Err(RATE_RANGE.to_owned())
    );
    assert_eq!(
        store
            .bf_reserve("x", reserve(0.1, 0))
            .map_err(|e| e.to_string()),
        Err("ERR (capacity should be larger than 0)".to_owned())
    );
    let no_growth = BloomOptions {
        expansion: 0,
        ..BloomOptions::default()
    };
    assert_eq!(
        store.bf_reserve("x", no_growth).map_err(|e| e.to_string()),
        Err("ERR expansion should be greater or equal to 1".to_owned())
    );
    assert_eq!(store.key_type("x"), Ok(KeyType::None));
    assert_eq!(store.key_type("bf"), Ok(KeyType::Bloom));

    assert_eq!(store.bf_add("a", "item1"), Ok(true));
    assert_eq!(store.bf_add("a", "item1"), Ok(false));
    assert_eq!(
        store.bf_madd("b", &["item1", "item2", "item2"]),
        Ok(vec![Ok(true), Ok(true), Ok(false)])
    );
    assert_eq!(
        store.bf_mexists("b", &["item1", "item2", "item3"]),
        Ok(vec![true, true, false])
    );
    assert_eq!(store.bf_exists("b", "item3"), Ok(false));
    assert_eq!(store.bf_exists("missing", "item3"), Ok(false));
    assert_eq!(store.bf_card("b"), Ok(2));
    assert_eq!(store.bf_card("missing"), Ok(0));
    assert_eq!(
        store.bf_info("a"),
        Ok(BloomInfo {
            capacity: 100,
            size: 240,
            filters: 1,
            items: 1,
            expansion: Some(2)
        })
    );
    assert_eq!(store.bf_info_field("a", BfInfoField::Size), Ok(Some(240)));
    assert_eq!(
        store.bf_info("missing").map_err(|e| e.to_string()),
        Err(NOT_FOUND.to_owned())
    );

    // NONSCALING through BF.INSERT: MADD-like results stop at the first "full".
    let opts = BfInsertOptions {
        filter: BloomOptions {
            capacity: 3,
            nonscaling: true,
            ..BloomOptions::default()
        },
        nocreate: false,
    };
    assert_eq!(
        store.bf_insert("ns", opts, &["a", "b", "c"]),
        Ok(vec![Ok(true), Ok(true), Ok(true)])
    );
    let full = Error::other(FULL);
    assert_eq!(
        store.bf_insert("ns", opts, &["a", "b", "c", "d", "d"]),
        Ok(vec![Ok(false), Ok(false), Ok(false), Err(full.clone())])
    );
    assert_eq!(store.bf_add("ns", "d"), Err(full));
    assert_eq!(store.bf_info_field("ns", BfInfoField::Expansion), Ok(None));
    assert_eq!(store.bf_info_field("ns", BfInfoField::Size), Ok(Some(104)));
    let nocreate = BfInsertOptions {
        nocreate: true,
        ..BfInsertOptions::default()
    };
    assert_eq!(
        store.bf_insert("nope", nocreate, &["a"]),
        Err(Error::other(NOT_FOUND))
    );
    let bad = BfInsertOptions {
        filter: reserve(1.5, 10),
        nocreate: false,
    };
    assert_eq!(
        store.bf_insert("nope", bad, &["a"]),
        Err(Error::other("Bad argument received"))
    );
    assert_eq!(store.exists(&["nope"]), Ok(0));

    // Debug lines.
    assert_eq!(
        store.bf_debug("a"),
        Ok(vec![
            "size:1".to_owned(),
            "bytes:144 bits:1152 hashes:8 hashwidth:64 capacity:100 size:1 ratio:0.005".to_owned()
        ])
    );

    // Scandump / loadchunk.
    store.bf_reserve("d", reserve(0.1, 10)).expect("reserve");
    assert_eq!(store.bf_add("d", "item1"), Ok(true));
    assert_eq!(store.bf_scandump("d", 0), Ok((1, doc_header())));
    assert_eq!(store.bf_scandump("d", 1), Ok((9, DOC_CHUNK.to_vec())));
    assert_eq!(store.bf_scandump("d", 9), Ok((0, Vec::new())));
    assert_eq!(store.bf_loadchunk("d2", 1, doc_header()), Ok(()));
    assert_eq!(store.bf_exists("d2", "item1"), Ok(false));
    assert_eq!(store.bf_loadchunk("d2", 9, DOC_CHUNK), Ok(()));
    assert_eq!(store.bf_exists("d2", "item1"), Ok(true));
    assert_eq!(
        store.bf_loadchunk("d3", 9, DOC_CHUNK),
        Err(Error::other(NOT_FOUND))
    );

    // WRONGTYPE both ways.
    store.set("s", "v").expect("set");
    assert_eq!(store.bf_add("s", "x"), Err(Error::WrongType));
    assert_eq!(store.bf_madd("s", &["x"]), Err(Error::WrongType));
    assert_eq!(store.bf_exists("s", "x"), Ok(false));
    assert_eq!(store.bf_mexists("s", &["x", "y"]), Ok(vec![false, false]));
    assert_eq!(store.bf_info("s"), Err(Error::WrongType));
    assert_eq!(store.bf_card("s"), Err(Error::WrongType));
    assert_eq!(store.bf_scandump("s", 0), Err(Error::WrongType));
    assert_eq!(
        store.bf_loadchunk("s", 1, doc_header()),
        Err(Error::WrongType)
    );
    assert_eq!(
        store.bf_reserve("s", BloomOptions::default()),
        Err(Error::WrongType)
    );
    assert_eq!(store.get("a"), Err(Error::WrongType));
    assert_eq!(store.incr("a"), Err(Error::WrongType));
    assert_eq!(store.key_type("a"), Ok(KeyType::Bloom));
}

#[test]
fn memory_budget_from_config() {
    assert_eq!(Store::new().config().bloom_max_bytes, DEFAULT_MAX_BYTES);
    let store = Store::builder().bloom_max_bytes(1000).build();
    assert_eq!(store.config().bloom_max_bytes, 1000);
    // 10,000 items at 1% is 12,064 bytes: refused before allocating, nothing stored.
    run_rows(
        &store,
        &[
            row(
                &["BF.RESERVE", "big", "0.01", "10000"],
                err("ERR Insufficient memory to create filter"),
            ),
            row(
                &["BF.INSERT", "big", "CAPACITY", "10000", "ITEMS", "a"],
                err("ERR Insufficient memory to create filter"),
            ),
            row(&["EXISTS", "big"], int(0)),
        ],
    );
    // A default filter (240 bytes) grows until the next link would pass 1000 bytes; then
    // new items fail and the filter stays usable and unchanged.
    let mut failed_at = None;
    for i in 0..2000u32 {
        match store.bf_add("g", i.to_le_bytes()) {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.to_string(), CANNOT_GROW);
                failed_at = Some(i);
                break;
            }
        }
    }
    assert!(failed_at.is_some());
    let before = store.bf_info("g").expect("info");
    assert!(before.size <= 1000, "{before:?}");
    assert_eq!(
        store
            .bf_madd("g", &[&b"x1"[..], b"x2"])
            .expect("madd")
            .len(),
        2,
        "a growth failure does not stop BF.MADD"
    );
    assert_eq!(store.bf_info("g"), Ok(before));
    // LOADCHUNK headers larger than the budget are bad data, validated before allocation.
    let big = Store::new();
    big.bf_reserve(
        "src",
        BloomOptions {
            capacity: 10_000,
            ..BloomOptions::default()
        },
    )
    .expect("reserve");
    let (_, header) = big.bf_scandump("src", 0).expect("dump");
    assert_eq!(
        store.bf_loadchunk("copy", 1, &header),
        Err(Error::other(BAD_DATA))
    );
    assert_eq!(store.exists(&["copy"]), Ok(0));
}

/// Every (iterator, chunk) pair of `key` through `BF.SCANDUMP`, header first.
fn dump(store: &Store, key: &str) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut iter = 0i64;
    loop {
        let r = store.execute(&[b"BF.SCANDUMP", key.as_bytes(), iter.to_string().as_bytes()]);
        let Reply::Array(pair) = r else {
            panic!("{r:?}");
        };
        let (Reply::Integer(next), Reply::Bulk(chunk)) = (&pair[0], &pair[1]) else {
            panic!("{pair:?}");
        };
        if *next == 0 {
            assert!(chunk.is_empty());
            return out;
        }
        out.push((*next, chunk.clone()));
        iter = *next;
    }
}

fn load(store: &Store, key: &str, pairs: &[(i64, Vec<u8>)]) -> Vec<Reply> {
    pairs
        .iter()
        .map(|(iter, chunk)| {
            store.execute(&[
                &b"BF.LOADCHUNK"[..],
                key.as_bytes(),
                iter.to_string().as_bytes(),
                chunk,
            ])
        })
        .collect()
}

#[test]
fn scandump_loadchunk_round_trip_through_execute() {
    let store = Store::new();
    assert_eq!(store.execute(&["BF.RESERVE", "src", "0.01", "50"]), ok());
    for i in 0..1000 {
        store.bf_add("src", format!("item:{i}")).expect("add");
    }
    let pairs = dump(&store, "src");
    assert_eq!(pairs.len(), 1 + 5, "a header and one chunk per link");
    assert!(load(&store, "dst", &pairs).iter().all(|r| *r == ok()));
    assert_eq!(
        store.execute(&["BF.INFO", "dst"]),
        store.execute(&["BF.INFO", "src"])
    );
    assert_eq!(
        store.execute(&["BF.DEBUG", "dst"]),
        store.execute(&["BF.DEBUG", "src"])
    );
    for i in 0..5000 {
        let item = format!("item:{i}");
        assert_eq!(
            store.execute(&["BF.EXISTS", "dst", &item]),
            store.execute(&["BF.EXISTS", "src", &item]),
            "{item}"
        );
    }
    assert_eq!(dump(&store, "dst"), pairs);
    // The copy keeps growing exactly as the original.
    for i in 1000..1500 {
        let item = format!("item:{i}");
        assert_eq!(
            store.execute(&["BF.ADD", "dst", &item]),
            store.execute(&["BF.ADD", "src", &item])
        );
    }
    assert_eq!(dump(&store, "dst"), dump(&store, "src"));
}

#[test]
fn bad_chunks_leave_keys_intact() {
    let store = Store::new();
    assert_eq!(store.execute(&["BF.RESERVE", "small", "0.01", "10"]), ok());
    assert_eq!(store.execute(&["BF.RESERVE", "other", "0.01", "100"]), ok());
    for i in 0..30 {
        store.bf_add("small", format!("s{i}")).expect("add");
        store.bf_add("other", format!("o{i}")).expect("add");
    }
    let small = dump(&store, "small");
    let other = dump(&store, "other");
    let state = |store: &Store| (dump(store, "small"), store.execute(&["BF.INFO", "small"]));
    let before = state(&store);
    let mut bad: Vec<(i64, Vec<u8>, &str)> = vec![
        // A header to an existing key is a chunk whose iterator is smaller than it.
        (1, small[0].1.clone(), BAD_DATA),
        (1, other[0].1.clone(), BAD_DATA),
        (0, vec![], BAD_DATA),
        (-5, b"x".to_vec(), BAD_DATA),
        (2, b"xyz".to_vec(), BAD_DATA),
        // A chunk of a larger foreign link runs past this one.
        (
            other[1].0,
            other[1].1.clone(),
            "ERR invalid chunk - Too big for current filter",
        ),
        (
            1_000_000,
            b"x".to_vec(),
            "ERR invalid offset - no link found",
        ),
        (
            i64::MAX,
            b"x".to_vec(),
            "ERR invalid offset - no link found",
        ),
        // Crossing from link 0 into link 1.
        (
            1 + 16 + 4,
            vec![0xff; 8],
            "ERR invalid chunk - Too big for current filter",
        ),
    ];
    // A final chunk one byte longer than its link's rest.
    let (last_iter, last) = small.last().cloned().expect("chunks");
    let mut longer = last.clone();
    longer.push(0);
    bad.push((
        last_iter + 1,
        longer,
        "ERR invalid chunk - Too big for current filter",
    ));
    for (iter, data, want) in &bad {
        let r = store.execute(&[
            &b"BF.LOADCHUNK"[..],
            b"small",
            iter.to_string().as_bytes(),
            data,
        ]);
        assert_eq!(r, err(want), "iter {iter}");
        assert_eq!(state(&store), before, "iter {iter} changed the filter");
    }
    // Corrupted and truncated headers to a missing key: bad data, no key.
    let header = &small[0].1;
    let mut corrupt: Vec<Vec<u8>> = vec![
        header[..header.len() - 1].to_vec(),
        header[..19].to_vec(),
        Vec::new(),
        [header.as_slice(), &[0]].concat(),
    ];
    for (at, value) in [
        (0usize, 7u8),  // item count disagrees with the links
        (8, 9),         // filter count disagrees with the length
        (8, 0),         // no filters
        (12, 0x10),     // unknown option
        (20, 0xff),     // bytes != bits / 8
        (28 + 7, 0x80), // bits huge
        (44 + 7, 0x40), // error rate >= 1
        (60, 0x55),     // hashes disagree with bpe
        (72, 64),       // n2 > 63
    ] {
        let mut h = header.clone();
        h[at] = value;
        corrupt.push(h);
    }
    for (i, h) in corrupt.iter().enumerate() {
        let r = store.execute(&[&b"BF.LOADCHUNK"[..], b"fresh", b"1", h]);
        assert_eq!(r, err(BAD_DATA), "corruption {i}");
        assert_eq!(store.execute(&["EXISTS", "fresh"]), int(0));
    }
    // A string key is untouched by a valid header.
    assert_eq!(store.execute(&["SET", "s", "v"]), ok());
    let r = store.execute(&[&b"BF.LOADCHUNK"[..], b"s", b"1", header]);
    assert_eq!(r, err(WRONGTYPE));
    assert_eq!(store.execute(&["GET", "s"]), bulk("v"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever is added through the store is found, through both entry points, and BF.ADD's
    /// reply is exactly "was it absent before".
    #[test]
    fn no_false_negatives_via_the_store(
        items in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 1..300),
        capacity in 1u64..40,
        expansion in 1u32..4,
        error_rate in 0.001f64..0.5,
        through_argv in any::<bool>(),
    ) {
        let store = Store::new();
        let opts = BloomOptions { error_rate, capacity, expansion, nonscaling: false };
        store.bf_reserve("k", opts).expect("reserve");
        for item in &items {
            let before = store.bf_exists("k", item).expect("exists");
            let added = if through_argv {
                store.execute(&[&b"BF.ADD"[..], b"k", item]) == int(1)
            } else {
                store.bf_add("k", item).expect("add")
            };
            prop_assert_eq!(added, !before);
        }
        for item in &items {
            prop_assert!(store.bf_exists("k", item).expect("exists"));
            prop_assert_eq!(store.execute(&[&b"BF.EXISTS"[..], b"k", item]), int(1));
        }
        let found = store.bf_mexists("k", &items).expect("mexists");
        prop_assert!(found.iter().all(|&f| f));
    }

    /// SCANDUMP then LOADCHUNK into a new key, chunk by chunk through execute: same answers,
    /// same BF.INFO, same dump.
    #[test]
    fn dump_and_load_answer_the_same(
        items in prop::collection::vec(any::<u32>(), 0..400),
        probes in prop::collection::vec(any::<u32>(), 100),
        capacity in 1u64..64,
        nonscaling in any::<bool>(),
    ) {
        let store = Store::new();
        let opts = BloomOptions { error_rate: 0.05, capacity, expansion: 2, nonscaling };
        store.bf_reserve("src", opts).expect("reserve");
        for item in &items {
            let _ = store.bf_add("src", item.to_le_bytes());
        }
        let pairs = dump(&store, "src");
        prop_assert!(load(&store, "dst", &pairs).iter().all(|r| *r == ok()));
        prop_assert_eq!(store.execute(&["BF.INFO", "dst"]), store.execute(&["BF.INFO", "src"]));
        for item in items.iter().chain(&probes) {
            let item = item.to_le_bytes();
            prop_assert_eq!(
                store.execute(&[&b"BF.EXISTS"[..], b"dst", &item]),
                store.execute(&[&b"BF.EXISTS"[..], b"src", &item])
            );
        }
        prop_assert_eq!(dump(&store, "dst"), pairs);
    }
}

#[test]
fn contract() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<BloomOptions>();
    send_sync::<BfInsertOptions>();
    send_sync::<BloomInfo>();
}
