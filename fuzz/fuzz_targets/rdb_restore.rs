#![no_main]

use libfuzzer_sys::fuzz_target;

// Arbitrary bytes as a DUMP payload, as given and with a valid footer appended; the body is
// `sketchstore_fuzz::run_rdb_restore`, which the fuzz crate's unit tests also run.
fuzz_target!(|data: &[u8]| {
    sketchstore_fuzz::run_rdb_restore(data);
});
