//! `ceremony threshold reshare`: a 3-of-5 RSA-2048 key moves to 2 of 3 new
//! holders without being rebuilt; two new holders sign the real root KSR of
//! 2017 Q2 and `skr verify` accepts the SKR; an old holder's partials no
//! longer combine with a new holder's; a missing sub-share names its dealer.

mod common;

use std::path::{Path, PathBuf};

use ceremony_formats::anchor::TrustAnchor;
use common::{ceremony, ceremony_with, data, s};

const ROOT_KSR: &str = "root/ksr-root-2017-q2-0.xml";
const NOW: &str = "2017-03-15T00:00:00Z";
const DEALERS: [usize; 3] = [1, 3, 5];

/// An age identity file and its recipient.
fn identity(dir: &Path, name: &str) -> (PathBuf, String) {
    use age::secrecy::ExposeSecret as _;
    let identity = age::x25519::Identity::generate();
    let path = dir.join(format!("{name}.key"));
    std::fs::write(&path, format!("{}\n", identity.to_string().expose_secret()))
        .expect("write identity");
    (path, identity.to_public().to_string())
}

fn config(dir: &Path, tag: u64) -> PathBuf {
    let path = dir.join("signer.toml");
    std::fs::write(
        &path,
        format!(
            "[keys.ksk]\nlabel = \"KSK-THRESHOLD\"\nalgorithm = \"RSASHA256\"\nkey_tag = {tag}\n\
             valid_from = \"2017-01-01T00:00:00Z\"\n\n[request_policy]\n\
             check_chain_keys_in_hsm = false\ncheck_keys_publish_safety = false\n\
             check_keys_retire_safety = false\n"
        ),
    )
    .expect("config");
    path
}

fn sign(public: &Path, share: &Path, identity: &Path, cfg: &Path, out: &Path) -> common::Run {
    ceremony_with(
        &[
            "--now",
            NOW,
            "threshold",
            "sign",
            s(&data(ROOT_KSR)),
            "--public",
            s(public),
            "--share",
            s(share),
            "--identity",
            s(identity),
            "--config",
            s(cfg),
            "-o",
            s(out),
        ],
        Some(b"Yes\n"),
        &[],
    )
}

fn combine(public: &Path, cfg: &Path, partials: &[&Path], out: &Path) -> common::Run {
    let ksr = data(ROOT_KSR);
    let mut args = vec![
        "--now",
        NOW,
        "threshold",
        "combine",
        s(&ksr),
        "--public",
        s(public),
        "--config",
        s(cfg),
        "-o",
        s(out),
        "--partials",
    ];
    args.extend(partials.iter().map(|p| s(p)));
    ceremony(&args)
}

fn reshare_combine(
    old_public: &Path,
    reshare: &Path,
    holder: usize,
    dealers: &[usize],
    identity: &Path,
    out: &Path,
) -> common::Run {
    let commitments: Vec<PathBuf> = DEALERS
        .iter()
        .map(|i| reshare.join(format!("commitments-{i}.json")))
        .collect();
    let subs: Vec<PathBuf> = dealers
        .iter()
        .map(|i| reshare.join(format!("sub-share-{i}-to-{holder}.age")))
        .collect();
    let mut args = vec![
        "threshold",
        "reshare",
        "combine",
        "--public",
        s(old_public),
        "--identity",
        s(identity),
        "-o",
        s(out),
        "--commitments",
    ];
    args.extend(commitments.iter().map(|p| s(p)));
    args.push("--sub-share");
    args.extend(subs.iter().map(|p| s(p)));
    ceremony(&args)
}

#[test]
fn three_of_five_moves_to_two_of_three_and_the_new_holders_sign() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let old_ids: Vec<(PathBuf, String)> = (1..=5)
        .map(|i| identity(dir, &format!("old-{i}")))
        .collect();
    let new_ids: Vec<(PathBuf, String)> = (1..=3)
        .map(|j| identity(dir, &format!("new-{j}")))
        .collect();

    let old = dir.join("old");
    let mut args = vec![
        "threshold",
        "deal",
        "--bits",
        "2048",
        "--threshold",
        "3",
        "--holders",
        "5",
        "-o",
        s(&old),
    ];
    for (_, r) in &old_ids {
        args.extend(["--recipient", r.as_str()]);
    }
    ceremony(&args).expect_code(0);
    let old_public = old.join("public.json");

    // Old holders 1, 3 and 5 each deal their share to the three new holders.
    let reshare = dir.join("reshare");
    for i in DEALERS {
        let share = old.join(format!("share-{i}.age"));
        let mut args = vec![
            "threshold",
            "reshare",
            "deal",
            "--public",
            s(&old_public),
            "--share",
            s(&share),
            "--identity",
            s(&old_ids[i - 1].0),
            "--dealers",
            "1,3,5",
            "--threshold",
            "2",
            "-o",
            s(&reshare),
        ];
        for (_, r) in &new_ids {
            args.extend(["--recipient", r.as_str()]);
        }
        ceremony(&args).expect_code(0).expect_stdout(&[
            &format!("Old holder {i} dealt its share"),
            "to 3 new holders (any 2 will sign)",
        ]);
    }
    for j in 1..=3 {
        let text = std::fs::read_to_string(reshare.join(format!("sub-share-1-to-{j}.age")))
            .expect("sub-share");
        assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    }

    // A new holder missing dealer 5's sub-share is refused, dealer 5 named.
    let refused = dir.join("refused");
    reshare_combine(&old_public, &reshare, 2, &[1, 3], &new_ids[1].0, &refused)
        .expect_code(1)
        .expect_stderr(&["sub-share from old holder 5 to new holder 2 rejected: missing"]);
    assert!(!refused.join("share-2.age").exists());
    // Another holder's identity cannot open holder 2's sub-shares.
    reshare_combine(&old_public, &reshare, 2, &DEALERS, &new_ids[0].0, &refused).expect_code(2);

    // Each new holder combines its sub-shares; all derive the same public.json.
    let new = dir.join("new");
    for j in 1..=3 {
        reshare_combine(&old_public, &reshare, j, &DEALERS, &new_ids[j - 1].0, &new)
            .expect_code(0)
            .expect_stdout(&[
                &format!("New holder {j}: the sub-shares of old holders [1, 3, 5] verify"),
                "now any 2 of 3 holders sign",
            ]);
    }
    let new_public = new.join("public.json");
    let read_json = |path: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
    };
    let (old_json, new_json) = (read_json(&old_public), read_json(&new_public));
    assert_eq!(
        (new_json["threshold"].clone(), new_json["holders"].clone()),
        (2.into(), 3.into())
    );
    assert_eq!(new_json["key_tag"], old_json["key_tag"], "same DNSKEY");
    assert_eq!(new_json["public_key"]["n"], old_json["public_key"]["n"]);
    assert_ne!(
        new_json["public_key"]["verification_keys"],
        old_json["public_key"]["verification_keys"]
    );

    // New holders 1 and 3 sign the root KSR; the SKR verifies.
    let cfg = config(dir, old_json["key_tag"].as_u64().expect("tag"));
    let partials = |who: &str| dir.join(format!("partials-{who}.json"));
    for j in [1usize, 3] {
        sign(
            &new_public,
            &new.join(format!("share-{j}.age")),
            &new_ids[j - 1].0,
            &cfg,
            &partials(&format!("new-{j}")),
        )
        .expect_code(0);
    }
    let skr = dir.join("skr.xml");
    combine(
        &new_public,
        &cfg,
        &[&partials("new-1"), &partials("new-3")],
        &skr,
    )
    .expect_code(0)
    .expect_stdout(&["✓ SKR-VERIFY", "Combined the shares of holders [1, 3]"]);
    let key: ceremony_threshold::shoup::ThresholdPublicKey =
        serde_json::from_value(new_json["public_key"].clone()).expect("public key");
    let anchors = dir.join("anchors.xml");
    let anchor = TrustAnchor::for_keys(
        ".",
        &[(
            "KSK-THRESHOLD".to_owned(),
            "2017-01-01T00:00:00Z".parse().expect("time"),
            None,
            key.dnskey().expect("dnskey"),
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
        s(&data(ROOT_KSR)),
        "--trust-anchor",
        s(&anchors),
    ])
    .expect_code(0)
    .expect_stdout(&["✓ SKR-VERIFY", "✓ SKR-TRUST-ANCHOR", "Result: PASSED"]);

    // One new holder alone is short of the new quorum.
    let short = dir.join("short.xml");
    let run = combine(&new_public, &cfg, &[&partials("new-1")], &short);
    run.expect_code(1);
    assert!(!short.exists());

    // Old holder 2's partials (its old share) with new holder 1's: refused.
    sign(
        &old_public,
        &old.join("share-2.age"),
        &old_ids[1].0,
        &cfg,
        &partials("old-2"),
    )
    .expect_code(0);
    let mixed = dir.join("mixed.xml");
    let run = combine(
        &new_public,
        &cfg,
        &[&partials("new-1"), &partials("old-2")],
        &mixed,
    );
    run.expect_code(1).expect_stderr(&[
        "threshold combine refused",
        "signature share of holder 2 rejected",
    ]);
    assert!(!mixed.exists(), "no SKR from old and new shares");
}
