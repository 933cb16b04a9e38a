//! `ceremony threshold`: deal 3-of-5 RSA-2048 to five age identities, three
//! holders sign a KSR offline, the combiner writes an SKR that `skr verify`
//! and dnspython accept; short quorums and bad partials are refused by name.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use ceremony_dnssec::SecurityAlgorithm;
use ceremony_formats::anchor::TrustAnchor;
use common::{ceremony, ceremony_with, example_ksr, s};

/// One dealing per test binary: 2048-bit safe primes take seconds.
struct Dealt {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    identities: Vec<PathBuf>,
    key_tag: u16,
    dnskey: ceremony_dnssec::Dnskey,
}

fn dealt() -> &'static Dealt {
    static DEALT: OnceLock<Dealt> = OnceLock::new();
    DEALT.get_or_init(|| {
        use age::secrecy::ExposeSecret as _;
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("deal");
        let mut identities = Vec::new();
        let mut recipients = Vec::new();
        for i in 1..=5 {
            let identity = age::x25519::Identity::generate();
            let path = tmp.path().join(format!("holder-{i}.key"));
            std::fs::write(
                &path,
                format!("# holder {i}\n{}\n", identity.to_string().expose_secret()),
            )
            .expect("write identity");
            recipients.push(identity.to_public().to_string());
            identities.push(path);
        }
        let mut args = vec![
            "threshold",
            "deal",
            "--algorithm",
            "RSASHA256",
            "--bits",
            "2048",
            "--threshold",
            "3",
            "--holders",
            "5",
            "--zone",
            "example.",
            "-o",
            s(&dir),
        ];
        for r in &recipients {
            args.push("--recipient");
            args.push(r);
        }
        let run = ceremony(&args);
        run.expect_code(0).expect_stdout(&[
            "any 3 of 5 holders sign",
            "example. 172800 IN DNSKEY 257 3 8 ",
            "example. 172800 IN DS ",
            "Every secret of the dealer was overwritten",
        ]);
        assert!(
            run.stderr.contains("sharing the exponent among 5 holders"),
            "{}",
            run.stderr
        );
        for i in 1..=5 {
            let text = std::fs::read_to_string(dir.join(format!("share-{i}.age"))).expect("share");
            assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        }
        let public: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("public.json")).expect("public.json"),
        )
        .expect("json");
        assert_eq!(public["threshold"], 3);
        assert_eq!(public["holders"], 5);
        assert_eq!(public["algorithm"], "RSASHA256");
        let key_tag = u16::try_from(public["key_tag"].as_u64().expect("tag")).expect("u16");
        let pk: ceremony_threshold::shoup::ThresholdPublicKey =
            serde_json::from_value(public["public_key"].clone()).expect("public key");
        Dealt {
            _dir: tmp,
            dir,
            identities,
            key_tag,
            dnskey: pk.dnskey().expect("dnskey"),
        }
    })
}

fn config(dir: &Path, tag: u16) -> PathBuf {
    common::signer_config(dir, "KSK-THRESHOLD", "RSASHA256", tag)
}

const NOW: &str = "2026-03-15T00:00:00Z";

fn holder_sign(ksr: &Path, cfg: &Path, holder: usize, out: &Path) -> common::Run {
    let d = dealt();
    let public = d.dir.join("public.json");
    let share = d.dir.join(format!("share-{holder}.age"));
    ceremony_with(
        &[
            "--now",
            NOW,
            "threshold",
            "sign",
            s(ksr),
            "--public",
            s(&public),
            "--share",
            s(&share),
            "--identity",
            s(&d.identities[holder - 1]),
            "--config",
            s(cfg),
            "-o",
            s(out),
        ],
        Some(b"Yes\n"),
        &[],
    )
}

fn combine(ksr: &Path, cfg: &Path, partials: &[&Path], out: &Path) -> common::Run {
    let public = dealt().dir.join("public.json");
    let mut args = vec![
        "--now",
        NOW,
        "threshold",
        "combine",
        s(ksr),
        "--public",
        s(&public),
        "--config",
        s(cfg),
        "-o",
        s(out),
        "--partials",
    ];
    args.extend(partials.iter().map(|p| s(p)));
    ceremony(&args)
}

/// A workspace with a KSR, a config and the partials of `holders`.
struct Round {
    dir: tempfile::TempDir,
    ksr: PathBuf,
    cfg: PathBuf,
    partials: Vec<PathBuf>,
}

fn round(id: &str, holders: &[usize]) -> Round {
    let d = dealt();
    let dir = tempfile::tempdir().expect("tempdir");
    let ksr = dir.path().join("ksr.xml");
    example_ksr(&ksr, SecurityAlgorithm::RSASHA256, 2048, id);
    let cfg = config(dir.path(), d.key_tag);
    let partials = holders
        .iter()
        .map(|&h| {
            let out = dir.path().join(format!("partials-{h}.json"));
            holder_sign(&ksr, &cfg, h, &out)
                .expect_code(0)
                .expect_stdout(&["✓", &format!("Holder {h} signed 9 RRSIGs")]);
            out
        })
        .collect();
    Round {
        dir,
        ksr,
        cfg,
        partials,
    }
}

fn dnspython(path: &Path) -> i32 {
    let script = common::repo("scripts/verify-skr-dnspython.py");
    let out = Command::new("/usr/bin/python3")
        .arg(script)
        .arg(path)
        .output()
        .expect("run /usr/bin/python3");
    assert!(
        out.status.success(),
        "dnspython: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.code().unwrap_or(-1)
}

fn refused(run: &common::Run, words: &[&str], skr: &Path) {
    run.expect_code(1);
    let all = format!("{}{}", run.stdout, run.stderr);
    for w in words {
        assert!(all.contains(w), "missing {w:?} in:\n{all}");
    }
    assert!(!skr.exists(), "no SKR may be written");
}

#[test]
fn three_of_five_holders_sign_offline_and_the_skr_verifies() {
    let d = dealt();
    let r = round("ksr-threshold-1", &[1, 3, 5]);
    let skr = r.dir.path().join("skr.xml");
    let p: Vec<&Path> = r.partials.iter().map(PathBuf::as_path).collect();
    combine(&r.ksr, &r.cfg, &p, &skr)
        .expect_code(0)
        .expect_stdout(&[
            "✓ SKR-VERIFY",
            "✓ KSK-MATCH",
            "Combined the shares of holders [1, 3, 5]",
        ]);

    let anchors = r.dir.path().join("anchors.xml");
    let anchor = TrustAnchor::for_keys(
        "example.",
        &[(
            "KSK-THRESHOLD".to_owned(),
            "2026-01-01T00:00:00Z".parse().expect("time"),
            None,
            d.dnskey.clone(),
        )],
    )
    .expect("anchor");
    std::fs::write(&anchors, anchor.to_xml()).expect("anchors");
    ceremony(&[
        "--now",
        NOW,
        "skr",
        "verify",
        s(&skr),
        "--ksr",
        s(&r.ksr),
        "--trust-anchor",
        s(&anchors),
    ])
    .expect_code(0)
    .expect_stdout(&["✓ SKR-VERIFY", "✓ SKR-TRUST-ANCHOR", "Result: PASSED"]);
    assert_eq!(dnspython(&skr), 0);
}

#[test]
fn two_partials_miss_the_quorum() {
    let r = round("ksr-threshold-2", &[2, 4]);
    let skr = r.dir.path().join("skr.xml");
    let p: Vec<&Path> = r.partials.iter().map(PathBuf::as_path).collect();
    refused(
        &combine(&r.ksr, &r.cfg, &p, &skr),
        &[
            "2 verified shares (holders [2, 4]), 3 needed",
            "quorum is missing 1 more",
        ],
        &skr,
    );
}

fn edit(path: &Path, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    f(&mut v);
    std::fs::write(path, serde_json::to_string_pretty(&v).expect("json")).expect("write");
}

#[test]
fn bad_partials_are_refused_naming_the_holder() {
    let r = round("ksr-threshold-3", &[1, 2, 3]);
    let skr = r.dir.path().join("skr.xml");
    let (p1, p2, p3) = (&r.partials[0], &r.partials[1], &r.partials[2]);

    // A corrupted share: its proof fails.
    let bad = r.dir.path().join("corrupt.json");
    std::fs::copy(p2, &bad).expect("copy");
    edit(&bad, |v| {
        let x = v["bundles"][4]["share"]["x_i"]
            .as_str()
            .expect("x_i")
            .to_owned();
        let flipped = if x.ends_with('0') { "1" } else { "0" };
        v["bundles"][4]["share"]["x_i"] = format!("{}{flipped}", &x[..x.len() - 1]).into();
    });
    refused(
        &combine(&r.ksr, &r.cfg, &[p1, &bad, p3], &skr),
        &["holder 2 (", "fails its proof"],
        &skr,
    );

    // A share for another bundle: bundle 1's entry carries bundle 2's share and data hash.
    let bad = r.dir.path().join("other-bundle.json");
    std::fs::copy(p3, &bad).expect("copy");
    edit(&bad, |v| {
        let second = v["bundles"][1].clone();
        v["bundles"][0]["share"] = second["share"].clone();
        v["bundles"][0]["signed_data_sha256"] = second["signed_data_sha256"].clone();
    });
    refused(
        &combine(&r.ksr, &r.cfg, &[p1, p2, &bad], &skr),
        &["holder 3 (", "is over the signed data of bundle"],
        &skr,
    );

    // A replayed partials file, from an earlier KSR.
    let earlier = round("ksr-threshold-earlier", &[3]);
    refused(
        &combine(&r.ksr, &r.cfg, &[p1, p2, &earlier.partials[0]], &skr),
        &[
            "holder 3 (",
            "another KSR (id ksr-threshold-earlier",
            "replayed",
        ],
        &skr,
    );

    // A share from a holder the key does not have.
    let bad = r.dir.path().join("unknown.json");
    std::fs::copy(p3, &bad).expect("copy");
    edit(&bad, |v| {
        v["holder"] = 9.into();
        for b in v["bundles"].as_array_mut().expect("bundles") {
            b["share"]["index"] = 9.into();
        }
    });
    refused(
        &combine(&r.ksr, &r.cfg, &[p1, p2, &bad], &skr),
        &["holder 9 (", "unknown holder"],
        &skr,
    );

    // All three good ones still combine.
    combine(&r.ksr, &r.cfg, &[p1, p2, p3], &skr).expect_code(0);
    assert_eq!(dnspython(&skr), 0);
}

#[test]
fn a_holder_refusing_at_the_prompt_writes_nothing() {
    let d = dealt();
    let dir = tempfile::tempdir().expect("tempdir");
    let ksr = dir.path().join("ksr.xml");
    example_ksr(&ksr, SecurityAlgorithm::RSASHA256, 2048, "ksr-threshold-no");
    let cfg = config(dir.path(), d.key_tag);
    let out = dir.path().join("partials.json");
    let run = ceremony_with(
        &[
            "--now",
            NOW,
            "threshold",
            "sign",
            s(&ksr),
            "--public",
            s(&d.dir.join("public.json")),
            "--share",
            s(&d.dir.join("share-1.age")),
            "--identity",
            s(&d.identities[1]),
            "--config",
            s(&cfg),
            "-o",
            s(&out),
        ],
        Some(b"Yes\n"),
        &[],
    );
    // Holder 2's identity does not open holder 1's share.
    run.expect_code(2)
        .expect_stderr(&["share-1.age: cannot decrypt", "does not open it"]);
    assert!(!out.exists());
    let run = ceremony_with(
        &[
            "--now",
            NOW,
            "threshold",
            "sign",
            s(&ksr),
            "--public",
            s(&d.dir.join("public.json")),
            "--share",
            s(&d.dir.join("share-1.age")),
            "--identity",
            s(&d.identities[0]),
            "--config",
            s(&cfg),
            "-o",
            s(&out),
        ],
        Some(b"no\n"),
        &[],
    );
    run.expect_code(2);
    assert!(!out.exists());
}

#[test]
fn two_of_three_with_one_demo_passphrase() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deal = dir.path().join("deal");
    let pw = [("THRESHOLD_PW", "correct horse battery staple")];
    let run = ceremony_with(
        &[
            "threshold",
            "deal",
            "--bits",
            "1024",
            "--threshold",
            "2",
            "--holders",
            "3",
            "--passphrase-env",
            "THRESHOLD_PW",
            "--zone",
            "example.",
            "-o",
            s(&deal),
        ],
        None,
        &pw,
    );
    run.expect_code(0)
        .expect_stdout(&["any 2 of 3 holders sign", "\nexample. 172800 IN DS "]);
    let public: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(deal.join("public.json")).expect("public.json"),
    )
    .expect("json");
    let tag = u16::try_from(public["key_tag"].as_u64().expect("tag")).expect("u16");
    let ksr = dir.path().join("ksr.xml");
    example_ksr(&ksr, SecurityAlgorithm::RSASHA256, 2048, "ksr-threshold-pw");
    let cfg = config(dir.path(), tag);
    let mut partials = Vec::new();
    for h in [3, 1] {
        let out = dir.path().join(format!("p{h}.json"));
        let share = deal.join(format!("share-{h}.age"));
        ceremony_with(
            &[
                "--now",
                NOW,
                "threshold",
                "sign",
                s(&ksr),
                "--public",
                s(&deal.join("public.json")),
                "--share",
                s(&share),
                "--passphrase-env",
                "THRESHOLD_PW",
                "--config",
                s(&cfg),
                "--yes",
                "-o",
                s(&out),
            ],
            None,
            &pw,
        )
        .expect_code(0)
        .expect_stdout(&[
            "SHA-256",
            "✓ KSK-MATCH",
            &format!("Holder {h} signed 9 RRSIGs"),
        ]);
        partials.push(out);
    }
    let skr = dir.path().join("skr.xml");
    let public = deal.join("public.json");
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
        "-o",
        s(&skr),
        "--partials",
    ];
    args.extend(partials.iter().map(|p| s(p)));
    ceremony(&args)
        .expect_code(0)
        .expect_stdout(&["Combined the shares of holders [3, 1]"]);
    assert_eq!(dnspython(&skr), 0);
}

#[test]
fn a_holder_whose_checks_fail_signs_nothing() {
    let d = dealt();
    let dir = tempfile::tempdir().expect("tempdir");
    let ksr = dir.path().join("ksr.xml");
    example_ksr(
        &ksr,
        SecurityAlgorithm::RSASHA256,
        2048,
        "ksr-threshold-check",
    );
    // The configuration pins another key tag: KSK-MATCH fails before any share is used.
    let cfg = config(dir.path(), d.key_tag.wrapping_add(1));
    let out = dir.path().join("partials.json");
    let run = holder_sign(&ksr, &cfg, 2, &out);
    run.expect_code(1).expect_stdout(&["✗ KSK-MATCH"]);
    assert!(!out.exists());
}
