//! A short tour of the embedded store: counters, hashes, expiry, bitfields and the raw
//! command interface. Run with `cargo run --example quickstart`.

use sketchstore::{ManualClock, Reply, Store};
use std::time::Duration;

fn main() -> Result<(), sketchstore::Error> {
    let clock = ManualClock::new(1_700_000_000_000);
    let store = Store::builder().clock(clock.clock()).build();

    let views = store.incr("session:{s1}:views")?;
    store.incrby("session:{s1}:views", 4)?;
    println!(
        "INCR session views -> {views}, then INCRBY 4 -> {}",
        store.incrby("session:{s1}:views", 0)?
    );

    store.hset("session:{s1}:profile", &[("user", "ada"), ("plan", "pro")])?;
    println!(
        "HGETALL profile -> {:?}",
        pairs(store.hgetall("session:{s1}:profile")?)
    );

    store.expire("session:{s1}:views", Duration::from_secs(30))?;
    println!(
        "TTL views -> {}",
        store.ttl("session:{s1}:views")?.as_redis_secs()
    );
    clock.advance(Duration::from_secs(31));
    println!(
        "after 31 s, GET views -> {:?}",
        store.get("session:{s1}:views")?
    );

    for argv in [
        vec![
            "BITFIELD", "activity", "OVERFLOW", "SAT", "INCRBY", "u8", "#3", "200",
        ],
        vec![
            "BITFIELD", "activity", "OVERFLOW", "SAT", "INCRBY", "u8", "#3", "200",
        ],
        vec!["SET", "greeting", "hello", "EX", "0"],
        vec!["NOSUCH", "command"],
    ] {
        println!("{} -> {}", argv.join(" "), show(&store.execute(&argv)));
    }
    println!("keys in the store: {}", store.dbsize()?);
    Ok(())
}

fn pairs(p: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<(String, String)> {
    p.into_iter()
        .map(|(f, v)| {
            (
                String::from_utf8_lossy(&f).into(),
                String::from_utf8_lossy(&v).into(),
            )
        })
        .collect()
}

fn show(r: &Reply) -> String {
    format!("{r:?}")
}
