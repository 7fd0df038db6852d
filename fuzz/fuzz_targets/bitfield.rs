#![no_main]

use libfuzzer_sys::fuzz_target;

// The same bytes drive two bodies, which the crate's unit tests also run: a program of bit
// operations checked against the reference model (`sketchstore::types::bitmap::fuzz_bit_ops`)
// and a list of command tokens through every bit-command parser
// (`sketchstore::fuzz_bit_tokens`).
fuzz_target!(|data: &[u8]| {
    sketchstore::types::bitmap::fuzz_bit_ops(data);
    sketchstore::fuzz_bit_tokens(data);
});
