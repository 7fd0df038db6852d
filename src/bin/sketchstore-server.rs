//! `sketchstore-server [/path/to/redis.conf] [--option value ...]`: the store over Redis's
//! protocol. Everything but argument passing lives in `sketchstore::server`.

use std::process::ExitCode;

fn main() -> ExitCode {
    sketchstore::server::main(std::env::args().skip(1))
}
