//! Prints an `execute` input (a corpus file or a crash artifact) as the commands it runs:
//! `cargo run --example decode -- artifacts/execute/crash-...` from `fuzz/`.

fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        println!("# {path}");
        print!(
            "{}",
            sketchstore_fuzz::describe(&sketchstore_fuzz::decode(&data))
        );
    }
}
