//! The FROST CLI tests' shared steps: deal a key to age identities, run
//! holders in the background through both rounds, package, combine, and
//! verify the SKR with `skr verify` and dnspython. Included with `#[path]` by
//! `tests/frost.rs` and `tests/frost_enrol.rs`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ceremony_dnssec::SecurityAlgorithm;
use ceremony_formats::anchor::TrustAnchor;

use crate::common::{self, ceremony, example_ksr, s};

pub const NOW: &str = "2026-03-15T00:00:00Z";

/// A dealt FROST key, a KSR and a configuration, in one directory.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub deal: PathBuf,
    pub identities: Vec<PathBuf>,
    pub dnskey: ceremony_dnssec::Dnskey,
    pub ksr: PathBuf,
    pub cfg: PathBuf,
}

impl Setup {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn public(&self) -> PathBuf {
        self.deal.join("public.json")
    }
}

/// Deals a `t`-of-`n` FROST key to `n` age identities, with a KSR `id` to sign.
pub fn setup(t: u16, n: u16, id: &str) -> Setup {
    use age::secrecy::ExposeSecret as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let deal = dir.path().join("deal");
    let mut identities = Vec::new();
    let mut recipients = Vec::new();
    for i in 1..=n {
        let identity = age::x25519::Identity::generate();
        let path = dir.path().join(format!("holder-{i}.key"));
        std::fs::write(&path, format!("{}\n", identity.to_string().expose_secret()))
            .expect("write identity");
        recipients.push(identity.to_public().to_string());
        identities.push(path);
    }
    let (t_text, n_text) = (t.to_string(), n.to_string());
    let mut args = vec![
        "threshold",
        "deal",
        "--algorithm",
        "ED25519",
        "--threshold",
        &t_text,
        "--holders",
        &n_text,
        "--zone",
        "example.",
        "-o",
        s(&deal),
    ];
    for r in &recipients {
        args.push("--recipient");
        args.push(r);
    }
    ceremony(&args).expect_code(0).expect_stdout(&[
        &format!("any {t} of {n} holders sign, in two rounds"),
        "example. 172800 IN DNSKEY 257 3 15 ",
        "example. 172800 IN DS ",
        "Share of holder 1",
    ]);
    let public: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(deal.join("public.json")).expect("public.json"),
    )
    .expect("json");
    // Versioned, and not to be mistaken for a threshold RSA key.
    assert_eq!(public["format"], "ceremony-frost-public/1");
    assert_eq!(public["algorithm"], "ED25519");
    assert_eq!(public["threshold"], t);
    for i in 1..=n {
        let text = std::fs::read_to_string(deal.join(format!("share-{i}.age"))).expect("share");
        assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        assert!(!text.contains("signing_share"), "share {i} is in the clear");
    }
    let group: ceremony_threshold::frost::GroupKey =
        serde_json::from_value(public["group_key"].clone()).expect("group key");
    let dnskey = group.dnskey().expect("dnskey");
    let tag = dnskey.key_tag().0;
    assert_eq!(public["key_tag"], tag);
    let ksr = dir.path().join("ksr.xml");
    example_ksr(&ksr, SecurityAlgorithm::ED25519, 256, id);
    let cfg = config(dir.path(), tag);
    Setup {
        dir,
        deal,
        identities,
        dnskey,
        ksr,
        cfg,
    }
}

pub fn config(dir: &Path, tag: u16) -> PathBuf {
    crate::common::signer_config(dir, "KSK-FROST", "ED25519", tag)
}

/// Starts holder `h` in the background: round one, then waiting for `package`.
pub fn spawn_holder(
    setup: &Setup,
    h: usize,
    commitments: &Path,
    package: &Path,
    out: &Path,
    wait: &str,
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args([
            "--now",
            NOW,
            "threshold",
            "sign",
            s(&setup.ksr),
            "--public",
            s(&setup.public()),
            "--share",
            s(&setup.deal.join(format!("share-{h}.age"))),
            "--identity",
            s(&setup.identities[h - 1]),
            "--config",
            s(&setup.cfg),
            "--yes",
            "--commitments-out",
            s(commitments),
            "--package",
            s(package),
            "--wait",
            wait,
            "-o",
            s(out),
        ])
        .env_remove("SOFTHSM2_CONF")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ceremony binary runs")
}

/// Waits for a holder process to exit.
pub fn finish(child: Child) -> common::Run {
    let out = child.wait_with_output().expect("the holder exits");
    common::Run {
        args: vec!["threshold".to_owned(), "sign".to_owned()],
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Waits until `path` exists (a holder's commitments), failing after a minute.
#[track_caller]
pub fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} did not appear",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn package(setup: &Setup, commitments: &[&Path], out: &Path) -> common::Run {
    let (ksr, public, cfg) = (setup.ksr.clone(), setup.public(), setup.cfg.clone());
    let mut args = vec![
        "--now",
        NOW,
        "threshold",
        "package",
        s(&ksr),
        "--public",
        s(&public),
        "--config",
        s(&cfg),
        "-o",
        s(out),
        "--commitments",
    ];
    args.extend(commitments.iter().map(|p| s(p)));
    ceremony(&args)
}

pub fn combine(setup: &Setup, package: &Path, partials: &[&Path], out: &Path) -> common::Run {
    let (ksr, public, cfg) = (setup.ksr.clone(), setup.public(), setup.cfg.clone());
    let mut args = vec![
        "--now",
        NOW,
        "threshold",
        "combine",
        s(&ksr),
        "--public",
        s(&public),
        "--config",
        s(&cfg),
        "--package",
        s(package),
        "-o",
        s(out),
        "--partials",
    ];
    args.extend(partials.iter().map(|p| s(p)));
    ceremony(&args)
}

/// The paths of holder `h`'s files in round `tag`.
pub fn files(setup: &Setup, tag: &str, h: usize) -> (PathBuf, PathBuf) {
    (
        setup.path(&format!("commitments-{h}{tag}.json")),
        setup.path(&format!("partials-{h}{tag}.json")),
    )
}

/// Runs both rounds for `holders`: they commit, the coordinator packages, they sign.
pub fn rounds(setup: &Setup, holders: &[usize], package_path: &Path) -> Vec<PathBuf> {
    let started: Vec<(usize, Child, PathBuf, PathBuf)> = holders
        .iter()
        .map(|&h| {
            let (c, p) = files(setup, "", h);
            (h, spawn_holder(setup, h, &c, package_path, &p, "2m"), c, p)
        })
        .collect();
    for (_, _, c, _) in &started {
        wait_for(c);
    }
    let commitments: Vec<&Path> = started.iter().map(|(_, _, c, _)| c.as_path()).collect();
    let list = holders
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    package(setup, &commitments, package_path)
        .expect_code(0)
        .expect_stdout(&[&format!(
            "Signing package for holders [{list}] over 9 RRSIGs"
        )]);
    started
        .into_iter()
        .map(|(h, child, _, p)| {
            finish(child).expect_code(0).expect_stdout(&[
                "✓ KSK-MATCH",
                "SHA-256",
                &format!("Round 1: holder {h} committed to 9 RRSIGs"),
                &format!("Round 2: holder {h} signed 9 RRSIGs"),
                "the nonces were used once and are gone",
            ]);
            p
        })
        .collect()
}

pub fn dnspython(path: &Path) {
    let out = Command::new("/usr/bin/python3")
        .arg(common::repo("scripts/verify-skr-dnspython.py"))
        .arg(path)
        .output()
        .expect("run /usr/bin/python3");
    assert!(
        out.status.success(),
        "dnspython: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("1 signature(s) valid")
            .count(),
        9,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

pub fn skr_verify(setup: &Setup, skr: &Path) {
    let anchors = setup.path("anchors.xml");
    let anchor = TrustAnchor::for_keys(
        "example.",
        &[(
            "KSK-FROST".to_owned(),
            "2026-01-01T00:00:00Z".parse().expect("time"),
            None,
            setup.dnskey.clone(),
        )],
    )
    .expect("anchor");
    std::fs::write(&anchors, anchor.to_xml()).expect("anchors");
    ceremony(&[
        "--now",
        NOW,
        "skr",
        "verify",
        s(skr),
        "--ksr",
        s(&setup.ksr),
        "--trust-anchor",
        s(&anchors),
    ])
    .expect_code(0)
    .expect_stdout(&["✓ SKR-VERIFY", "✓ SKR-TRUST-ANCHOR", "Result: PASSED"]);
}

/// Exit 1, every word in the output, and no `out` file.
#[track_caller]
pub fn refused(run: &common::Run, words: &[&str], out: &Path) {
    run.expect_code(1);
    let all = format!("{}{}", run.stdout, run.stderr);
    for w in words {
        assert!(all.contains(w), "missing {w:?} in:\n{all}");
    }
    assert!(!out.exists(), "{} must not be written", out.display());
}

pub fn edit(path: &Path, to: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    f(&mut v);
    // Written whole, then renamed: a waiting holder never reads half a file.
    let tmp = to.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&v).expect("json")).expect("write");
    std::fs::rename(&tmp, to).expect("rename");
}

/// Flips the last hex digit of a string.
pub fn flip(text: &str) -> String {
    let last = if text.ends_with('0') { "1" } else { "0" };
    format!("{}{last}", &text[..text.len() - 1])
}

// `threshold reshare enrol`: holder 4 of `setup`'s key, enrolled by helpers.
// Each step takes `extra` arguments last (e.g. `--ceremony DIR`).

/// The age recipient (age1…) of an identity file.
pub fn recipient(identity: &Path) -> String {
    std::fs::read_to_string(identity)
        .expect("identity")
        .trim()
        .parse::<age::x25519::Identity>()
        .expect("identity")
        .to_public()
        .to_string()
}

/// `enrol deltas` by `helper`, for new holder 4, with `helpers`.
pub fn enrol_deltas(
    st: &Setup,
    helper: usize,
    helpers: &[usize],
    out: &Path,
    extra: &[&str],
) -> common::Run {
    let list = helpers
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let (public, share) = (st.public(), st.deal.join(format!("share-{helper}.age")));
    let recipients: Vec<String> = helpers
        .iter()
        .map(|h| recipient(&st.identities[h - 1]))
        .collect();
    let mut args = vec![
        "threshold",
        "reshare",
        "enrol",
        "deltas",
        "--public",
        s(&public),
        "--share",
        s(&share),
        "--identity",
        s(&st.identities[helper - 1]),
        "--helpers",
        &list,
        "--new",
        "4",
        "-o",
        s(out),
    ];
    for r in &recipients {
        args.extend(["--recipient", r.as_str()]);
    }
    args.extend(extra);
    ceremony(&args)
}

/// `enrol sigma` by `helper`, of the `deltas` sent to it, to new holder 4 (`recipient`).
pub fn enrol_sigma(
    st: &Setup,
    (commitments, deltas): (&[PathBuf], &[PathBuf]),
    (helper, recipient): (usize, &str),
    out: &Path,
    extra: &[&str],
) -> common::Run {
    let public = st.public();
    let mut args = vec![
        "threshold",
        "reshare",
        "enrol",
        "sigma",
        "--public",
        s(&public),
    ];
    args.push("--commitments");
    args.extend(commitments.iter().map(|p| s(p)));
    args.push("--delta");
    args.extend(deltas.iter().map(|p| s(p)));
    let identity = &st.identities[helper - 1];
    args.extend([
        "--identity",
        s(identity),
        "--recipient",
        recipient,
        "-o",
        s(out),
    ]);
    args.extend(extra);
    ceremony(&args)
}

/// `enrol combine` by new holder 4 (`identity`), of the helpers' `sigmas`.
pub fn enrol_combine(
    st: &Setup,
    (commitments, sigmas): (&[PathBuf], &[&Path]),
    identity: &Path,
    out: &Path,
    extra: &[&str],
) -> common::Run {
    let public = st.public();
    let mut args = vec![
        "threshold",
        "reshare",
        "enrol",
        "combine",
        "--public",
        s(&public),
    ];
    args.push("--commitments");
    args.extend(commitments.iter().map(|p| s(p)));
    args.push("--sigma");
    args.extend(sigmas.iter().map(|p| s(p)));
    args.extend(["--identity", s(identity), "-o", s(out)]);
    args.extend(extra);
    ceremony(&args)
}

/// Decrypts `path` with `identity`, lets `f` change the JSON plaintext, and
/// encrypts it again to the same identity into `to`: a message whose sender
/// tampered with it (age itself refuses a changed ciphertext).
pub fn reseal(path: &Path, identity: &Path, to: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let id: age::x25519::Identity = std::fs::read_to_string(identity)
        .expect("identity")
        .trim()
        .parse()
        .expect("identity");
    let plain = age::decrypt(&id, &std::fs::read(path).expect("read")).expect("decrypt");
    let mut v: serde_json::Value = serde_json::from_slice(&plain).expect("json");
    f(&mut v);
    let text = serde_json::to_vec(&v).expect("json");
    let sealed = age::encrypt_and_armor(&id.to_public(), &text).expect("encrypt");
    std::fs::write(to, sealed).expect("write");
}

/// Changes the low hex digit of the scalar in field `field` (it stays canonical).
pub fn flip_scalar(field: &str) -> impl FnOnce(&mut serde_json::Value) + '_ {
    move |v| {
        let hex = v[field].as_str().expect("scalar hex").to_owned();
        let first = if hex.starts_with('0') { "1" } else { "0" };
        v[field] = format!("{first}{}", &hex[1..]).into();
    }
}
