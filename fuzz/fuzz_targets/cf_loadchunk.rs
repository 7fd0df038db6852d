#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sketchstore_fuzz::run_cf_loadchunk(data);
});
