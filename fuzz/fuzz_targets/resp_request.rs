//! Arbitrary bytes as a client's request stream to the server's parser, fed whole and in
//! pieces. The body is `sketchstore_fuzz::resp_request::run_resp_request`, which unit tests
//! also run on seeds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sketchstore_fuzz::resp_request::run_resp_request(data);
});
