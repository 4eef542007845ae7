//! The command line through the real binary: version, help, bad input,
//! environment and config file.

mod common;

use std::process::Command;

use common::{BIN, Etcd, TempDir, free_port};

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run etcd")
}

#[test]
fn version_and_help_exit_zero() {
    let out = run(&["-version"], &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        concat!("etcd version ", env!("CARGO_PKG_VERSION"))
    );
    let out = run(&["-help"], &[]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "-peer-addr",
        "-snapshot-count",
        "-peer-election-timeout",
        "-max-retry-attempts",
        "-cors",
        "-restore FILE",
        "-backup-data-dir DIR",
        "-backup-file FILE",
        "-inspect DIR",
        "-json",
    ] {
        assert!(help.contains(flag), "help lists {flag}");
    }
}

#[test]
fn a_bad_flag_or_value_exits_non_zero_with_one_line() {
    for (args, env, needle) in [
        (vec!["-bogus"], vec![], "-bogus"),
        (vec!["-snapshot-count", "abc"], vec![], "snapshot-count"),
        (
            vec!["-peer-election-timeout=10", "-peer-heartbeat-interval=50"],
            vec![],
            "election",
        ),
        (vec![], vec![("ETCD_SNAPSHOT", "maybe")], "ETCD_SNAPSHOT"),
        (vec!["-addr", "127.0.0.1"], vec![], "port"),
        (vec!["-cert-file", "x.pem"], vec![], "-key-file"),
    ] {
        let out = run(&args, &env);
        assert_eq!(out.status.code(), Some(1), "{args:?} {env:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(needle), "{needle} in {stderr}");
    }
}

#[test]
fn environment_and_config_file_configure_the_machine() {
    let dir = TempDir::new("cliconf");
    let client = format!("127.0.0.1:{}", free_port());
    let peer = format!("127.0.0.1:{}", free_port());
    let conf = dir.path().join("etcd.conf");
    std::fs::write(
        &conf,
        format!(
            "name = \"fromfile\"\naddr = \"{client}\"\ndata_dir = \"{}\"\n[peer]\naddr = \"{peer}\"\n",
            dir.path().join("d").display()
        ),
    )
    .unwrap();
    let mut e = Etcd {
        child: None,
        name: "unused".into(),
        client: client.clone(),
        peer,
        data_dir: dir.path().join("d"),
        extra: vec![],
        log: dir.path().join("log"),
        env: vec![("ETCD_NAME".into(), "fromenv".into())],
    };
    let log = std::fs::File::create(&e.log).unwrap();
    e.child = Some(
        Command::new(BIN)
            .args(["-config", &conf.display().to_string()])
            .env("ETCD_NAME", "fromenv")
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    e.wait_ready();
    // The environment beats the file.
    assert_eq!(e.get("/v2/stats/self").json()["name"], "fromenv");
    assert_eq!(e.get("/v2/keys/_etcd/machines/fromenv").status, 200);
}
