#![no_main]

use libfuzzer_sys::fuzz_target;

// Arbitrary bytes loaded as a HyperLogLog, then added to, counted and merged; the body is
// `sketchstore::types::hll::fuzz_load_add_count`, which the crate's unit tests also run.
fuzz_target!(|data: &[u8]| {
    sketchstore::types::hll::fuzz_load_add_count(data);
});
