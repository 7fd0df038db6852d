//! Write-path faults of `Store::save` (issue 20): a save that cannot write its file (the
//! disk full, simulated by a file-size limit) fails with an error, removes its temporary
//! file and leaves the previous snapshot as it was; the periodic saver reports the failure
//! (`background_save_error`, INFO `rdb_last_bgsave_status`) and recovers; the temporary
//! files of killed saves are removed by the next `open`.
//!
//! The disk-full case runs in a child process (this binary re-invoked with
//! `--exact disk_full_child`) started by `sh` with `ulimit -f` and SIGXFSZ ignored, so that
//! writes past the limit fail with EFBIG as writes to a full disk fail with ENOSPC.
//!
//! The read-only directory case runs the built sketchstore-server as the unprivileged user
//! `nobody` (`setpriv`; tests run as root, whom a mode of 0555 does not stop) on a
//! root-owned directory of mode 0555 holding a previous snapshot: SAVE answers Redis's bare
//! `ERR`, a BGSAVE shows `rdb_last_bgsave_status:err`, the snapshot stays byte-identical and
//! the server keeps serving.

mod common;

use common::RespConn;
use sketchstore::{Error, Reply, Store};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const CHILD_ENV: &str = "SKETCHSTORE_FAULT_CHILD_DIR";

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sketchstore-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn bgsave_status(store: &Store) -> String {
    match store.execute(&["INFO", "persistence"]) {
        Reply::Bulk(b) => String::from_utf8(b)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("rdb_last_bgsave_status:").map(str::to_owned))
            .expect("INFO persistence has rdb_last_bgsave_status"),
        other => panic!("INFO: {other:?}"),
    }
}

/// Waits up to 5 s for the periodic saver to reach the wanted state.
fn wait_for(store: &Store, failed: bool) {
    for _ in 0..500 {
        if store.background_save_error().is_some() == failed {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!(
        "the periodic saver never {}",
        if failed { "failed" } else { "recovered" }
    );
}

/// The snapshot at `path` is still the one saved before `big` was written. Compared by
/// content, not bytes: the periodic saver may rewrite the same state meanwhile (with a newer
/// `saved_at` in its header), which is no loss.
fn assert_previous(path: &Path) {
    let back = Store::open(path).expect("the previous snapshot loads");
    assert_eq!(back.get("gen").unwrap(), Some(b"1".to_vec()));
    assert_eq!(
        back.get("big").unwrap(),
        None,
        "a failed save reached the file"
    );
}

/// The child: runs under a 50-100 KB file-size limit.
#[test]
fn disk_full_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let path = dir.join("dump.sks");
    let store = Store::builder()
        .save_every(Duration::from_millis(20))
        .open(&path)
        .unwrap();
    store.set("gen", "1").unwrap();
    store.save(&path).unwrap();
    wait_for(&store, false);

    store.set("big", vec![7u8; 400 << 10]).unwrap();
    let err = store
        .save(&path)
        .expect_err("a save past the file-size limit fails");
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(err.to_string().starts_with("IOERR "), "{err}");
    assert_previous(&path);

    wait_for(&store, true);
    assert_eq!(bgsave_status(&store), "err");
    assert_previous(&path);
    assert_eq!(
        names(&dir),
        vec!["dump.sks"],
        "a failed save left a temporary file"
    );

    store.execute(&["DEL", "big"]);
    store.set("gen", "2").unwrap();
    wait_for(&store, false);
    assert_eq!(bgsave_status(&store), "ok");
    let back = Store::open(&path).unwrap();
    assert_eq!(back.get("gen").unwrap(), Some(b"2".to_vec()));
}

#[test]
fn a_full_disk_fails_the_save_and_keeps_the_previous_snapshot() {
    let dir = temp_dir("diskfull");
    let exe = std::env::current_exe().unwrap();
    // The child's output goes to pipes: the file-size limit applies to every file it
    // writes, and an inherited stdout redirected to a log file already past 100 KiB would
    // make its first print fail.
    let out = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 100 || exit 97; exec \"$0\" --exact disk_full_child --nocapture --test-threads=1")
        .arg(&exe)
        .env(CHILD_ENV, &dir)
        .output()
        .expect("missing component: `sh` is needed to run the child under `ulimit -f`");
    let status = out.status;
    assert_ne!(
        status.code(),
        Some(97),
        "missing component: `ulimit -f` in sh"
    );
    assert!(
        status.success(),
        "the child failed: {status}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn open_removes_temporaries_of_saves_that_died() {
    let dir = temp_dir("stale");
    let path = dir.join("dump.sks");
    let store = Store::new();
    store.set("k", "v").unwrap();
    store.save(&path).unwrap();
    // pid_max is at most 2^22 on Linux: no process has this id.
    let dead = dir.join(".dump.sks.tmp-999999999-3");
    let mine = dir.join(format!(".dump.sks.tmp-{}-77", std::process::id()));
    let other = dir.join(".other.sks.tmp-999999999-3");
    for f in [&dead, &mine, &other] {
        std::fs::write(f, b"partial").unwrap();
    }
    let back = Store::open(&path).unwrap();
    assert_eq!(back.get("k").unwrap(), Some(b"v".to_vec()));
    assert!(
        !dead.exists(),
        "a dead save's temporary file is still there"
    );
    assert!(
        mine.exists(),
        "a running process's temporary file was removed"
    );
    assert!(
        other.exists(),
        "another snapshot's temporary file was removed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn info_field(c: &mut RespConn, section: &str, field: &str) -> String {
    match c.cmd(&["INFO", section]) {
        Reply::Bulk(b) => String::from_utf8_lossy(&b)
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_owned))
            .unwrap_or_else(|| panic!("INFO {section} has no {field}")),
        other => panic!("INFO: {other:?}"),
    }
}

#[test]
#[allow(clippy::disallowed_methods)]
fn save_into_a_read_only_directory_fails_and_keeps_serving() {
    use std::os::unix::fs::PermissionsExt;
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("missing component: setpriv (util-linux) is needed to run the server as nobody");
    let dir = temp_dir("readonly");
    let path = dir.join("dump.rdb");
    let previous = Store::new();
    previous.set("gen", "1").unwrap();
    previous.save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();

    let port = common::server::free_port();
    let mut child = Command::new(setpriv)
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_sketchstore-server"))
        .args(["--port", &port.to_string(), "--save", ""])
        .arg("--dir")
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run sketchstore-server through setpriv");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut c = loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("sketchstore-server as nobody exited at start: {status}");
        }
        if let Ok(c) = RespConn::connect(port) {
            break c;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sketchstore-server as nobody did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(c.cmd(&["GET", "gen"]), Reply::bulk("1"));
    assert_eq!(c.cmd(&["SET", "gen", "2"]), Reply::ok());

    // Redis answers a failed SAVE with its shared bare error object.
    assert_eq!(c.cmd(&["SAVE"]), Reply::Error("ERR".into()));
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_last_bgsave_status"),
        "ok"
    );
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Reply::status("Background saving started")
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while info_field(&mut c, "persistence", "rdb_last_bgsave_status") != "err" {
        assert!(
            std::time::Instant::now() < deadline,
            "BGSAVE's failure never showed in INFO persistence"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the snapshot changed"
    );
    assert_eq!(names(&dir), vec!["dump.rdb"]);
    // Still serving, with the data it had.
    assert_eq!(c.cmd(&["PING"]), Reply::status("PONG"));
    assert_eq!(c.cmd(&["GET", "gen"]), Reply::bulk("2"));
    assert_eq!(c.cmd(&["INCR", "n"]), Reply::Integer(1));

    let _ = child.kill();
    let _ = child.wait();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// LASTSAVE and INFO's `rdb_last_save_time`: the store's creation counts as a save, as a
/// freshly started Redis does; a successful SAVE or BGSAVE moves it to the clock's second at
/// the end of the save; a failed one leaves it; `rdb_bgsave_in_progress` is 0 once a
/// BGSAVE has finished.
#[test]
// The BGSAVE thread finishes in real time: the wait for it is a wall-clock deadline.
#[allow(clippy::disallowed_methods)]
fn lastsave_records_the_last_successful_save() {
    let clock = sketchstore::ManualClock::new(1_700_000_000_500);
    let store = Store::builder().clock(clock.clock()).build();
    let field = |name: &str| {
        let Reply::Bulk(info) = store.execute(&["INFO", "persistence"]) else {
            panic!("INFO is a bulk string");
        };
        let info = String::from_utf8(info).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_owned))
            .unwrap_or_else(|| panic!("{name} missing from {info}"))
    };
    assert_eq!(store.execute(&["LASTSAVE"]), Reply::Integer(1_700_000_000));
    assert_eq!(field("rdb_last_save_time"), "1700000000");
    assert_eq!(
        store.execute(&["LASTSAVE", "x"]),
        Reply::Error("ERR wrong number of arguments for 'lastsave' command".into())
    );

    let dir = temp_dir("lastsave");
    clock.advance(Duration::from_secs(10));
    store.save(dir.join("dump.rdb")).unwrap();
    assert_eq!(store.lastsave(), 1_700_000_010);
    assert_eq!(store.execute(&["LASTSAVE"]), Reply::Integer(1_700_000_010));

    clock.advance(Duration::from_secs(10));
    assert!(store
        .save(dir.join("no-such-dir").join("dump.rdb"))
        .is_err());
    assert_eq!(
        store.lastsave(),
        1_700_000_010,
        "a failed save moved LASTSAVE"
    );

    store.background_save(dir.join("dump.rdb")).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.lastsave() != 1_700_000_020 {
        assert!(
            std::time::Instant::now() < deadline,
            "BGSAVE never moved LASTSAVE"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    while field("rdb_bgsave_in_progress") != "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "rdb_bgsave_in_progress stayed 1"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(field("rdb_last_save_time"), "1700000020");
    std::fs::remove_dir_all(&dir).unwrap();
}
