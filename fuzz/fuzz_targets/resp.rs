//! Arbitrary bytes as a packed redis-rs request to a `Connection`'s `ConnectionLike`
//! (one command and pipelines). The body is `sketchstore::redis_compat::fuzz_resp`, which a
//! unit test also runs on seeds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sketchstore::redis_compat::fuzz_resp(data);
});
