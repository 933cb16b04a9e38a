//! `ceremony threshold` with a FROST Ed25519 key (RFC 9591), offline, in two
//! rounds: t holder processes run in the background, each keeping its nonces
//! in memory between its commitments and the coordinator's signing package;
//! the coordinator packages, combines, and the SKR verifies with `skr verify`
//! and dnspython. Tampered packages, bad partials, short quorums and a holder
//! killed between the rounds are refused by name, and nothing is written.

mod common;
#[path = "common/frost_cli.rs"]
mod frost_cli;

use std::path::{Path, PathBuf};
use std::process::Child;

use ceremony_dnssec::SecurityAlgorithm;
use common::{ceremony, example_ksr, s};
use frost_cli::*;

#[test]
fn two_of_three_holders_sign_in_two_rounds_and_the_skr_verifies() {
    let st = setup(2, 3, "ksr-frost-1");
    let pkg = st.path("package.json");
    let partials = rounds(&st, &[1, 3], &pkg);
    let skr = st.path("skr.xml");
    let (p1, p3) = (partials[0].as_path(), partials[1].as_path());

    // One of the two signers only: the package needs both, no SKR.
    refused(
        &combine(&st, &pkg, &[p1], &skr),
        &[
            "9 of 9 bundles (first: ",
            "1 valid signature shares, 2 needed",
            "every signer of the package ([1, 3]) must sign; no valid share from holders [3]",
        ],
        &skr,
    );
    // A corrupted signature share names its holder.
    let bad = st.path("corrupt.json");
    edit(p3, &bad, |v| {
        let share = &mut v["bundles"][4]["share"]["share"];
        *share = flip(share.as_str().expect("share hex")).into();
    });
    refused(
        &combine(&st, &pkg, &[p1, &bad], &skr),
        &[
            "holder 3 (",
            "signature share of holder 3 rejected",
            "RFC 9591",
        ],
        &skr,
    );
    // A share moved to another bundle names its holder.
    let moved = st.path("moved.json");
    edit(p3, &moved, |v| {
        let second = v["bundles"][1]["share"].clone();
        v["bundles"][0]["share"] = second;
    });
    refused(
        &combine(&st, &pkg, &[p1, &moved], &skr),
        &["holder 3 (", "signature share of holder 3 rejected"],
        &skr,
    );
    // A holder the key does not have.
    let unknown = st.path("unknown.json");
    edit(p3, &unknown, |v| v["holder"] = 9.into());
    refused(
        &combine(&st, &pkg, &[p1, &unknown], &skr),
        &["holder 9 (", "unknown holder"],
        &skr,
    );
    // The same holder twice.
    refused(
        &combine(&st, &pkg, &[p1, p3, p3], &skr),
        &["holder 3 (", "a second partials file from this holder"],
        &skr,
    );

    combine(&st, &pkg, &[p1, p3], &skr)
        .expect_code(0)
        .expect_stdout(&[
            "✓ SKR-VERIFY",
            "✓ KSK-MATCH",
            "Aggregated the signature shares of holders [1, 3] into 9 Ed25519 RRSIGs",
        ]);
    skr_verify(&st, &skr);
    dnspython(&skr);
}

#[test]
fn three_of_five_holders_sign_and_the_coordinator_refuses_bad_commitments() {
    let st = setup(3, 5, "ksr-frost-35");
    let (c1, c2) = (st.path("c1.json"), st.path("c2.json"));
    let pkg = st.path("package.json");
    // Commitments of two holders who will not finish: t − 1 do not make a package.
    let mut early: Vec<Child> = Vec::new();
    for (h, c) in [(1, &c1), (2, &c2)] {
        let p = st.path(&format!("never-{h}.json"));
        early.push(spawn_holder(&st, h, c, &st.path("never.json"), &p, "1m"));
        wait_for(c);
    }
    refused(
        &package(&st, &[&c1, &c2], &pkg),
        &["2 holders committed ([1, 2]), 3 needed"],
        &pkg,
    );
    refused(
        &package(&st, &[&c1, &c2, &c1], &pkg),
        &["holder 1 (", "a second commitments file from this holder"],
        &pkg,
    );
    let unknown = st.path("c9.json");
    edit(&c2, &unknown, |v| v["holder"] = 9.into());
    refused(
        &package(&st, &[&c1, &c2, &unknown], &pkg),
        &["holder 9 (", "unknown holder"],
        &pkg,
    );
    // Commitments made for another KSR: replayed.
    let other = st.path("c-other.json");
    edit(&c2, &other, |v| {
        v["ksr"]["sha256"] = flip(v["ksr"]["sha256"].as_str().expect("sha")).into();
    });
    refused(
        &package(&st, &[&c1, &other], &pkg),
        &["holder 2 (", "for another KSR"],
        &pkg,
    );
    for child in early {
        let mut child = child;
        child.kill().expect("kill");
        let _ = child.wait();
    }

    let partials = rounds(&st, &[2, 4, 5], &pkg);
    let refs: Vec<&Path> = partials.iter().map(PathBuf::as_path).collect();
    let skr = st.path("skr.xml");
    refused(
        &combine(&st, &pkg, &refs[..2], &skr),
        &["no valid share from holders [5]"],
        &skr,
    );
    combine(&st, &pkg, &refs, &skr)
        .expect_code(0)
        .expect_stdout(&["Aggregated the signature shares of holders [2, 4, 5]"]);
    skr_verify(&st, &skr);
    dnspython(&skr);
}

#[test]
fn a_tampered_package_is_refused_by_every_holder_naming_the_bundle() {
    let st = setup(2, 3, "ksr-frost-tamper");
    let pkg = st.path("package.json");
    let honest = st.path("honest-package.json");
    let mut holders = Vec::new();
    for h in [1, 2] {
        let (c, p) = files(&st, "", h);
        holders.push((spawn_holder(&st, h, &c, &pkg, &p, "2m"), c, p));
    }
    for (_, c, _) in &holders {
        wait_for(c);
    }
    let commitments: Vec<&Path> = holders.iter().map(|(_, c, _)| c.as_path()).collect();
    package(&st, &commitments, &honest).expect_code(0);
    let mut bundle = String::new();
    // One message changed by one byte: the coordinator asks to sign other data.
    edit(&honest, &pkg, |v| {
        bundle = v["bundles"][3]["id"].as_str().expect("id").to_owned();
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let mut message = engine
            .decode(v["bundles"][3]["message"].as_str().expect("message"))
            .expect("base64");
        let last = message.len() - 1;
        message[last] ^= 1;
        v["bundles"][3]["message"] = engine.encode(&message).into();
    });
    for (child, _, p) in holders {
        let run = finish(child);
        refused(
            &run,
            &[
                &format!("bundle {bundle}: the package asks to sign other data"),
                "never sign a message someone else built",
                "Waiting up to 2m for the coordinator's signing package",
            ],
            &p,
        );
    }
}

#[test]
fn a_holder_killed_between_rounds_leaves_nothing_to_reuse() {
    let st = setup(2, 3, "ksr-frost-kill");
    let pkg = st.path("package.json");
    let (c1, p1) = files(&st, "", 1);
    let (c2, p2) = files(&st, "", 2);
    let h1 = spawn_holder(&st, 1, &c1, &pkg, &p1, "2m");
    let mut h2 = spawn_holder(&st, 2, &c2, &pkg, &p2, "2m");
    wait_for(&c1);
    wait_for(&c2);
    // Holder 2 dies between the rounds: its nonces die with it.
    h2.kill().expect("kill holder 2");
    let _ = h2.wait();
    assert!(!p2.exists());
    package(&st, &[&c1, &c2], &pkg).expect_code(0);
    finish(h1).expect_code(0);

    // Restarted against the same package: refused before it commits, since
    // that package holds the dead run's commitments.
    let (c2_new, p2_new) = files(&st, "-again", 2);
    let run = finish(spawn_holder(&st, 2, &c2_new, &pkg, &p2_new, "2m"));
    run.expect_code(2)
        .expect_stderr(&["exists before this holder committed", "an earlier run's"]);
    assert!(!c2_new.exists() && !p2_new.exists());
    // Restarted for a new package, it commits afresh; a coordinator who hands
    // it the old package anyway is refused, naming the holder.
    let stale = st.path("stale-package.json");
    let child = spawn_holder(&st, 2, &c2_new, &stale, &p2_new, "2m");
    wait_for(&c2_new);
    std::fs::copy(&pkg, st.path("stale.tmp")).expect("copy");
    std::fs::rename(st.path("stale.tmp"), &stale).expect("rename");
    refused(
        &finish(child),
        &[
            "holder 2's commitment in the package is not the one this process made",
            "an earlier run's commitments",
        ],
        &p2_new,
    );
    let old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&c2).expect("c2")).expect("json");
    let new: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&c2_new).expect("c2")).expect("json");
    assert_ne!(old["bundles"], new["bundles"], "a restart commits afresh");

    // The restarted holder signs a new package with holder 3…
    let pkg2 = st.path("package-2.json");
    let (c3, p3) = files(&st, "", 3);
    let (c2_third, p2_third) = files(&st, "-third", 2);
    let h2 = spawn_holder(&st, 2, &c2_third, &pkg2, &p2_third, "2m");
    let h3 = spawn_holder(&st, 3, &c3, &pkg2, &p3, "2m");
    wait_for(&c2_third);
    wait_for(&c3);
    package(&st, &[&c2_third, &c3], &pkg2).expect_code(0);
    finish(h2).expect_code(0);
    finish(h3).expect_code(0);
    // …but its new partials do not combine with the old package: named.
    let skr = st.path("skr.xml");
    refused(
        &combine(&st, &pkg, &[&p1, &p2_third], &skr),
        &["holder 2 (", "partials for another signing package"],
        &skr,
    );
    // Nor when they claim to be for it: the share does not verify.
    let forged = st.path("forged.json");
    let old_hash =
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&p1).expect("p1"))
            .expect("json")["package_sha256"]
            .clone();
    edit(&p2_third, &forged, |v| v["package_sha256"] = old_hash);
    refused(
        &combine(&st, &pkg, &[&p1, &forged], &skr),
        &["holder 2 (", "signature share of holder 2 rejected"],
        &skr,
    );
    // The new package's signers combine.
    combine(&st, &pkg2, &[&p2_third, &p3], &skr).expect_code(0);
    dnspython(&skr);
}

#[test]
fn a_holder_with_no_package_gives_up_and_signs_nothing() {
    let st = setup(2, 3, "ksr-frost-wait");
    let (c, p) = files(&st, "", 1);
    let run = finish(spawn_holder(&st, 1, &c, &st.path("package.json"), &p, "1s"));
    refused(
        &run,
        &[
            "no signing package appeared",
            "within 1s",
            "run threshold sign again, which makes fresh commitments",
        ],
        &p,
    );
    assert!(c.exists(), "round one was written");
}

#[test]
fn a_frost_key_needs_both_rounds_files_and_a_package_to_combine() {
    let st = setup(2, 3, "ksr-frost-usage");
    let out = st.path("partials.json");
    let mut args = vec![
        "--now".to_owned(),
        NOW.to_owned(),
        "threshold".to_owned(),
        "sign".to_owned(),
        s(&st.ksr).to_owned(),
        "--public".to_owned(),
        s(&st.public()).to_owned(),
        "--share".to_owned(),
        s(&st.deal.join("share-1.age")).to_owned(),
        "--identity".to_owned(),
        s(&st.identities[0]).to_owned(),
        "--config".to_owned(),
        s(&st.cfg).to_owned(),
        "--yes".to_owned(),
        "-o".to_owned(),
        s(&out).to_owned(),
    ];
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ceremony(&refs).expect_code(2).expect_stderr(&[
        "a FROST key signs in two rounds: give --commitments-out FILE and --package FILE",
    ]);
    // Holder 2's identity does not open holder 1's share.
    args[10] = s(&st.identities[1]).to_owned();
    args.extend([
        "--commitments-out".to_owned(),
        s(&st.path("c.json")).to_owned(),
    ]);
    args.extend(["--package".to_owned(), s(&st.path("p.json")).to_owned()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ceremony(&refs)
        .expect_code(2)
        .expect_stderr(&["share-1.age: cannot decrypt"]);
    assert!(!out.exists() && !st.path("c.json").exists());

    let skr = st.path("skr.xml");
    let (ksr, public, cfg) = (st.ksr.clone(), st.public(), st.cfg.clone());
    ceremony(&[
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
        s(&out),
    ])
    .expect_code(2)
    .expect_stderr(&[
        "a FROST key combines the shares of one signing package: give --package FILE",
    ]);
    assert!(!skr.exists());
}

#[test]
fn a_demo_passphrase_protects_every_share() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deal = dir.path().join("deal");
    let pw = [("FROST_PW", "correct horse battery staple")];
    common::ceremony_with(
        &[
            "threshold",
            "deal",
            "--algorithm",
            "ED25519",
            "--threshold",
            "2",
            "--holders",
            "2",
            "--passphrase-env",
            "FROST_PW",
            "-o",
            s(&deal),
        ],
        None,
        &pw,
    )
    .expect_code(0)
    .expect_stdout(&["any 2 of 2 holders sign", ". 172800 IN DNSKEY 257 3 15 "]);
    let public: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(deal.join("public.json")).expect("public.json"),
    )
    .expect("json");
    let tag = u16::try_from(public["key_tag"].as_u64().expect("tag")).expect("u16");
    let ksr = dir.path().join("ksr.xml");
    example_ksr(&ksr, SecurityAlgorithm::ED25519, 256, "ksr-frost-pw");
    let cfg = config(dir.path(), tag);
    let (c, out) = (dir.path().join("c2.json"), dir.path().join("p2.json"));
    // The passphrase opens holder 2's share: its checks pass and it commits,
    // then gives up waiting for a package that never comes.
    let run = common::ceremony_with(
        &[
            "--now",
            NOW,
            "threshold",
            "sign",
            s(&ksr),
            "--public",
            s(&deal.join("public.json")),
            "--share",
            s(&deal.join("share-2.age")),
            "--passphrase-env",
            "FROST_PW",
            "--config",
            s(&cfg),
            "--yes",
            "--commitments-out",
            s(&c),
            "--package",
            s(&dir.path().join("never.json")),
            "--wait",
            "1s",
            "-o",
            s(&out),
        ],
        None,
        &pw,
    );
    refused(
        &run,
        &[
            "✓ KSK-MATCH",
            "Round 1: holder 2 committed to 9 RRSIGs",
            "no signing package appeared",
        ],
        &out,
    );
    assert!(c.exists());
}

#[test]
fn a_refresh_drops_a_holder_and_keeps_the_key() {
    let st = setup(2, 3, "ksr-frost-refresh");
    let (public, refreshed) = (st.public(), st.path("refresh"));
    let recipient = |h: usize| {
        let text = std::fs::read_to_string(&st.identities[h - 1]).expect("identity");
        text.trim()
            .parse::<age::x25519::Identity>()
            .expect("identity")
            .to_public()
            .to_string()
    };
    let (r1, r3) = (recipient(1), recipient(3));
    let refresh = |threshold: &str| {
        ceremony(&[
            "threshold",
            "reshare",
            "refresh",
            "--public",
            s(&public),
            "--holders",
            "1,3",
            "--threshold",
            threshold,
            "--recipient",
            &r1,
            "--recipient",
            &r3,
            "-o",
            s(&refreshed),
        ])
    };
    refresh("3")
        .expect_code(2)
        .expect_stderr(&["a FROST key keeps its threshold", "cannot make it 3-of-n"]);
    assert!(!refreshed.exists());
    // The RSA resharing refuses a FROST key, naming the FROST commands.
    ceremony(&[
        "threshold",
        "reshare",
        "deal",
        "--public",
        s(&public),
        "--share",
        s(&st.deal.join("share-1.age")),
        "--identity",
        s(&st.identities[0]),
        "--dealers",
        "1,2",
        "--threshold",
        "2",
        "--recipient",
        &r1,
        "-o",
        s(&st.path("rsa")),
    ])
    .expect_code(2)
    .expect_stderr(&[
        "a FROST (ED25519) key is not reshared by dealing sub-shares",
        "reshare refresh",
    ]);

    refresh("2").expect_code(0).expect_stdout(&[
        "holders [1, 3] get new shares, any 2 of them sign",
        "Zero-share for holder 3",
    ]);
    let new_public = refreshed.join("public.json");
    let new: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&new_public).expect("public")).expect("json");
    let old: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&public).expect("public")).expect("json");
    assert_eq!(new["key_tag"], old["key_tag"], "the same DNSKEY");
    assert_ne!(new["group_key"], old["group_key"], "new verifying shares");
    let shares = st.path("new-shares");
    for h in [1, 3] {
        ceremony(&[
            "threshold",
            "reshare",
            "apply",
            "--public",
            s(&public),
            "--new-public",
            s(&new_public),
            "--share",
            s(&st.deal.join(format!("share-{h}.age"))),
            "--zero-share",
            s(&refreshed.join(format!("zero-share-{h}.age"))),
            "--identity",
            s(&st.identities[h - 1]),
            "-o",
            s(&shares),
        ])
        .expect_code(0)
        .expect_stdout(&[&format!("Holder {h} refreshed its share")]);
    }
    // Holder 2's old share is not a share of the refreshed key.
    let (c2, p2) = files(&st, "-old", 2);
    let run = common::ceremony_with(
        &[
            "--now",
            NOW,
            "threshold",
            "sign",
            s(&st.ksr),
            "--public",
            s(&new_public),
            "--share",
            s(&st.deal.join("share-2.age")),
            "--identity",
            s(&st.identities[1]),
            "--config",
            s(&st.cfg),
            "--yes",
            "--commitments-out",
            s(&c2),
            "--package",
            s(&st.path("never.json")),
            "-o",
            s(&p2),
        ],
        None,
        &[],
    );
    run.expect_code(2)
        .expect_stderr(&["share-2.age: the share (holder 2) is not a share of the group key"]);
    assert!(!c2.exists());

    // The refreshed shares sign under the same DNSKEY.
    let st = Setup {
        deal: shares.clone(),
        ..st
    };
    std::fs::copy(&new_public, shares.join("public.json")).expect("copy public");
    let pkg = st.path("package.json");
    let partials = rounds(&st, &[1, 3], &pkg);
    let skr = st.path("skr.xml");
    let refs: Vec<&Path> = partials.iter().map(PathBuf::as_path).collect();
    combine(&st, &pkg, &refs, &skr).expect_code(0);
    skr_verify(&st, &skr);
    dnspython(&skr);
}
