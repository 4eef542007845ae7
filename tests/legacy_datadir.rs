//! Taking over data dirs that etcd 0.4.6 wrote (the fixture in
//! `../shared/fixtures/etcd-0.4.6-cluster`: three machines, with what 0.4.6 serves
//! when restarted on them): the same commands bring up a cluster that
//! serves the same keys, indices and registry; damaged files stop start-up
//! with one line and change nothing; a torn log tail is dropped; `kill -9`
//! at any step of the takeover restarts cleanly.
//!
//! The machines use the fixture's own ports (4101-4103, 7101-7103), which
//! its registry names, so the tests here take turns.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use common::{Etcd, TempDir, poll_for, request_l, try_request, wait_for};

/// The shared fixture, beside the repository (CI checks it out there).
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/fixtures/etcd-0.4.6-cluster"
);

/// The fixture's ports are shared by every test in this file.
static FIXTURE_PORTS: Mutex<()> = Mutex::new(());

fn take_turn() -> MutexGuard<'static, ()> {
    FIXTURE_PORTS.lock().unwrap_or_else(|e| e.into_inner())
}

fn fixture(path: &str) -> PathBuf {
    Path::new(FIXTURE).join(path)
}

fn expected(name: &str) -> String {
    fs::read_to_string(fixture("expected").join(name)).expect("expected file")
}

/// A writable copy of the fixture's data dir `machine` inside `dir`.
fn copy_machine(dir: &Path, machine: &str) -> PathBuf {
    let to = dir.join(machine);
    copy_tree(&fixture(machine), &to);
    to
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for item in fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_tree(&item.path(), &target);
        } else {
            fs::write(&target, fs::read(item.path()).unwrap()).unwrap();
        }
    }
}

/// Every file and directory under `dir`, with the files' bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for item in fs::read_dir(dir).unwrap() {
            let path = item.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(rel, Some(fs::read(&path).unwrap()));
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

/// The machine `m<n>` of the fixture with its own command line.
fn machine(n: u32, data_dir: &Path) -> Etcd {
    let extra: &[&str] = if n == 1 {
        &[]
    } else {
        &["-peers", "127.0.0.1:7101"]
    };
    Etcd::at(
        &format!("m{n}"),
        &format!("127.0.0.1:410{n}"),
        &format!("127.0.0.1:710{n}"),
        data_dir,
        extra,
    )
}

/// `ttl` counts down; everything else must be byte for byte the same.
fn without_ttl(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut rest = json;
    while let Some(at) = rest.find("\"ttl\":") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 6..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        rest = after[digits..]
            .strip_prefix(',')
            .unwrap_or(&after[digits..]);
    }
    out.push_str(rest);
    out.trim_end().to_string()
}

fn keys(e: &Etcd) -> Option<(u64, String)> {
    let r = try_request(
        &e.client,
        "GET",
        "/v2/keys/?recursive=true&sorted=true",
        &[],
        b"",
    )
    .ok()?;
    (r.status == 200).then(|| (r.etcd_index(), without_ttl(&r.text())))
}

fn registry(e: &Etcd) -> String {
    e.get("/v2/keys/_etcd?recursive=true&sorted=true").text()
}

/// Waits until `e` serves the fixture's keys as `want` at store index `index`.
fn wait_for_keys(e: &mut Etcd, index: u64, want: &str) {
    let want = without_ttl(want);
    let name = e.name.clone();
    let mut last = None;
    let found = poll_for(Duration::from_secs(15), || {
        let got = keys(e);
        let ok = got.as_ref() == Some(&(index, want.clone()));
        last = got;
        ok.then_some(())
    });
    assert!(
        found.is_some(),
        "{name} serves {last:?}\nwant index {index} and {want}\nlog:\n{}",
        e.log_text()
    );
}

/// Starts `e`, which must stop by itself; returns its log.
fn must_refuse(e: &mut Etcd) -> String {
    e.spawn();
    let status = e.exit_within(Duration::from_secs(15)).expect("etcd stops");
    assert!(!status.success());
    e.log_text()
}

/// The refusal is one line naming the file, the byte and the reason, and
/// the data dir is exactly as it was.
fn assert_refused(log: &str, file: &Path, offset: usize, reason: &str) {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected:\n{log}");
    let want = format!("{} at byte {offset}: {reason}", file.display());
    assert!(lines[0].contains(&want), "want {want:?} in\n{log}");
}

/// Offsets of the entries of a 0.4 log (each `%8x\n` then the entry).
fn entry_offsets(log: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 0;
    while at + 9 <= log.len() {
        offsets.push(at);
        let len = usize::from_str_radix(std::str::from_utf8(&log[at..at + 8]).unwrap().trim(), 16);
        at += 9 + len.unwrap();
    }
    offsets
}

#[test]
fn three_machines_take_over_their_0_4_dirs_and_serve_what_0_4_served() {
    let _turn = take_turn();
    let dir = TempDir::new("legacy-cluster");
    let mut machines: Vec<Etcd> = (1..=3)
        .map(|n| machine(n, &copy_machine(dir.path(), &format!("m{n}"))))
        .collect();
    for m in &mut machines {
        m.spawn();
    }
    for m in &mut machines {
        m.wait_ready();
    }
    let keys_0_4 = expected("keys-recursive-sorted.json");
    let registry_0_4 = expected("etcd-registry.json");
    for m in &mut machines {
        wait_for_keys(m, 96, &keys_0_4);
        assert_eq!(registry(m), registry_0_4.trim_end(), "{}", m.name);
        let log = m.log_text();
        let line = log
            .lines()
            .find(|l| l.contains("took over the etcd 0.4 data dir"))
            .unwrap_or_else(|| panic!("no takeover line:\n{log}"));
        assert!(line.contains("members m1, m2, m3"), "{line}");
        let originals = m.data_dir.join("etcd-0.4");
        assert_eq!(tree(&originals), tree(&fixture(&m.name)), "{}", m.name);
        assert!(!m.data_dir.join("log").exists() && !m.data_dir.join("conf").exists());
    }

    let r = request_l(
        &machines[0].client,
        "PUT",
        "/v2/keys/after",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"value=x",
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.etcd_index(), 97);
    let after = r#"{"key":"/after","value":"x","modifiedIndex":97,"createdIndex":97},"#;
    let keys_after = keys_0_4.replacen(r#""nodes":["#, &format!(r#""nodes":[{after}"#), 1);
    for m in &mut machines {
        wait_for_keys(m, 97, &keys_after);
    }

    // Our own data dirs now: a restart serves the same, the 0.4 files stay aside.
    for m in &mut machines {
        m.kill();
    }
    for m in &mut machines {
        m.spawn();
    }
    for m in &mut machines {
        m.wait_ready();
    }
    for m in &mut machines {
        wait_for_keys(m, 97, &keys_after);
        assert_eq!(registry(m), registry_0_4.trim_end());
        assert_eq!(tree(&m.data_dir.join("etcd-0.4")), tree(&fixture(&m.name)));
        assert_eq!(m.log_text().matches("took over the etcd 0.4").count(), 1);
    }
}

#[test]
fn a_damaged_only_snapshot_stops_start_up_naming_it() {
    let _turn = take_turn();
    let dir = TempDir::new("legacy-bad-snapshot");
    let data = copy_machine(dir.path(), "m1");
    let file = data.join("snapshot/0_90.ss");
    let mut bytes = fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x04;
    fs::write(&file, bytes).unwrap();
    let before = tree(&data);
    let log = must_refuse(&mut machine(1, &data));
    assert_refused(&log, &file, 9, "CRC-32 mismatch");
    assert_eq!(tree(&data), before);
}

#[test]
fn a_damaged_newest_snapshot_falls_back_to_an_older_one() {
    let _turn = take_turn();
    let dir = TempDir::new("legacy-fallback");
    let data = copy_machine(dir.path(), "m2");
    // m3's snapshot at 90 is of the same history as m2's log.
    fs::copy(
        fixture("m3/snapshot/0_90.ss"),
        data.join("snapshot/0_90.ss"),
    )
    .unwrap();
    let newest = data.join("snapshot/0_129.ss");
    let mut bytes = fs::read(&newest).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x10;
    fs::write(&newest, &bytes).unwrap();
    let mut m2 = machine(2, &data);
    m2.spawn();
    m2.wait_serving(Duration::from_secs(10));
    // Alone, m2 holds what 0.4 had committed as far as the files prove:
    // the snapshot at 90 (the later entries wait for a leader).
    let r = m2.get("/v2/keys/counter");
    assert_eq!((r.status, r.etcd_index()), (200, 65), "{}", r.text());
    assert_eq!(r.json()["node"]["value"], "40");
    let log = m2.log_text();
    assert!(log.contains("skipping etcd 0.4 snapshot"), "{log}");
    assert!(log.contains("snapshot 0_90.ss at index 90"), "{log}");
    assert_eq!(
        fs::read(data.join("etcd-0.4/snapshot/0_129.ss")).unwrap(),
        bytes
    );
}

#[test]
fn a_torn_last_log_entry_is_dropped() {
    let _turn = take_turn();
    let dir = TempDir::new("legacy-torn");
    let data = copy_machine(dir.path(), "m2");
    let mut log = fs::read(data.join("log")).unwrap();
    let last = *entry_offsets(&log).last().unwrap();
    log.truncate(last + 20);
    fs::write(data.join("log"), &log).unwrap();
    let mut m2 = machine(2, &data);
    m2.spawn();
    m2.wait_serving(Duration::from_secs(10));
    wait_for_keys(&mut m2, 96, &expected("keys-recursive-sorted.json"));
    let text = m2.log_text();
    assert!(
        text.contains(&format!(
            "dropping a torn last entry of the etcd 0.4 log {}",
            data.join("log").display()
        )),
        "{text}"
    );
    assert!(
        text.contains("150 log entries, 21 after the snapshot"),
        "{text}"
    );
    assert_eq!(fs::read(data.join("etcd-0.4/log")).unwrap(), log);
}

#[test]
fn a_damaged_entry_in_the_middle_of_the_log_stops_start_up() {
    let _turn = take_turn();
    let dir = TempDir::new("legacy-bad-entry");
    let data = copy_machine(dir.path(), "m1");
    let file = data.join("log");
    let mut log = fs::read(&file).unwrap();
    let hundredth = entry_offsets(&log)[99];
    log[hundredth + 9] = 0xff; // the tag of the Index field
    fs::write(&file, &log).unwrap();
    let before = tree(&data);
    let text = must_refuse(&mut machine(1, &data));
    assert_refused(
        &text,
        &file,
        hundredth + 9,
        "the entry is not a protobuf LogEntry",
    );
    assert_eq!(tree(&data), before);
}

#[test]
fn an_unknown_command_stops_start_up() {
    let _turn = take_turn();
    let dir = TempDir::new("legacy-unknown");
    let data = copy_machine(dir.path(), "m3");
    let file = data.join("log");
    let mut log = fs::read(&file).unwrap();
    let at = log.windows(11).position(|w| w == b"etcd:delete").unwrap();
    log[at + 6] = b'x'; // etcd:dxlete, same length
    fs::write(&file, &log).unwrap();
    let entry = entry_offsets(&log)
        .into_iter()
        .filter(|o| *o < at)
        .max()
        .unwrap();
    let before = tree(&data);
    let text = must_refuse(&mut machine(3, &data));
    assert_refused(&text, &file, entry, "unknown command name \"etcd:dxlete\"");
    assert_eq!(tree(&data), before);
}

#[test]
fn kill_9_at_any_step_of_the_takeover_restarts_cleanly() {
    let _turn = take_turn();
    let keys_0_4 = expected("keys-recursive-sorted.json");
    for step in [
        "started",
        "built",
        "snap",
        "wal",
        "moved-conf",
        "moved-log",
        "moved-snapshot",
    ] {
        let dir = TempDir::new(&format!("legacy-kill-{step}"));
        let data = copy_machine(dir.path(), "m2");
        let mut m2 = machine(2, &data);
        m2.env = vec![("ETCD_TAKEOVER_PAUSE_AFTER".into(), step.into())];
        m2.spawn();
        let line = format!("takeover paused after step {step}");
        wait_for(&line, Duration::from_secs(10), || {
            m2.log_text().contains(&line).then_some(())
        });
        m2.kill(); // SIGKILL
        m2.env.clear();
        m2.spawn();
        m2.wait_serving(Duration::from_secs(10));
        wait_for_keys(&mut m2, 96, &keys_0_4);
        assert_eq!(registry(&m2), expected("etcd-registry.json").trim_end());
        assert_eq!(
            tree(&data.join("etcd-0.4")),
            tree(&fixture("m2")),
            "step {step}"
        );
        assert!(!data.join("etcd-0.4-takeover").exists(), "step {step}");
        m2.kill();
    }
}
