#![no_main]

use libfuzzer_sys::fuzz_target;

// Arbitrary bytes loaded as a snapshot file, as they are and again with the checksum fixed
// so that the record decoder sees them; what loads must save and load back. The body is
// `sketchstore::fuzz_snapshot`, which the crate's unit tests also run.
fuzz_target!(|data: &[u8]| {
    sketchstore::fuzz_snapshot(data);
});
