#![no_main]

use libfuzzer_sys::fuzz_target;

// Arbitrary bytes as a whole Redis RDB file (`dump.rdb`), as they are and again with the
// CRC64 trailer fixed so that the item decoders see them, read and loaded into a store. The
// body is `sketchstore::fuzz_rdb_file`, which the crate's unit tests also run.
fuzz_target!(|data: &[u8]| {
    sketchstore::fuzz_rdb_file(data);
});
