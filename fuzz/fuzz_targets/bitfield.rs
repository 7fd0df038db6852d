#![no_main]

use libfuzzer_sys::fuzz_target;

// Arbitrary BITFIELD programs checked against the reference model; the body is
// `sketchstore::types::bitmap::fuzz_bitfield_args`, which the crate's unit tests also run.
fuzz_target!(|data: &[u8]| {
    sketchstore::types::bitmap::fuzz_bitfield_args(data);
});
