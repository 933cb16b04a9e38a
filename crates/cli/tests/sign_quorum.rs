//! `ceremony sign --quorum`: the keystore KSK, generated under a 3-of-5
//! quorum's key-encryption key, signs when any three holders bring their share
//! and credential, and is refused, by count and with no SKR, to any two.

mod common;

use std::path::{Path, PathBuf};

use ceremony_dnssec::SecurityAlgorithm;
use ceremony_quorum::AgeIdentity;
use common::{ceremony, ceremony_with, example_ksr, s};

const NOW: &str = "2026-03-15T00:00:00Z";

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).expect("write");
    path.to_owned()
}

/// Every `k`-subset of 1..=n.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    (0u32..1 << n)
        .filter(|mask| mask.count_ones() as usize == k)
        .map(|mask| (1..=n).filter(|i| mask & (1 << (i - 1)) != 0).collect())
        .collect()
}

#[test]
fn any_three_of_five_holders_unlock_the_keystore_ksk_and_sign_two_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // No passphrase anywhere: only the quorum opens the keystore.
    let config = write(
        &dir.join("signer.toml"),
        r#"
[keystore]
dir = "keys"
work_factor = 10

[keys.ksk]
label = "KSK-Q"
algorithm = "ECDSAP256SHA256"
valid_from = "2026-01-01T00:00:00Z"

[request_policy]
acceptable_domains = ["example."]
approved_algorithms = ["ECDSAP256SHA256"]
"#,
    );
    let mut identities = Vec::new();
    let mut args: Vec<String> = ["quorum", "split", "--m", "3", "--n", "5"]
        .map(String::from)
        .to_vec();
    for i in 1..=5 {
        let id = AgeIdentity::generate();
        let text = format!(
            "# holder {i}\n{}\n",
            age::secrecy::ExposeSecret::expose_secret(&id.to_string())
        );
        identities.push(write(&dir.join(format!("holder{i}.id")), &text));
        args.extend(["--recipient".to_owned(), id.to_public().to_string()]);
    }
    let qdir = dir.join("quorum");
    args.extend(
        [
            "-o",
            s(&qdir),
            "--generate-key",
            "KSK-Q",
            "--algorithm",
            "ECDSAP256SHA256",
            "--config",
            s(&config),
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ceremony(&args).expect_code(0);
    let ksr = dir.join("ksr.xml");
    example_ksr(&ksr, SecurityAlgorithm::ECDSAP256SHA256, 256, "quorum-ksr");

    let sign_recorded = |holders: &[usize], out: &Path, json: bool, ceremony: Option<&Path>| {
        let mut args: Vec<String> = [
            "--now",
            NOW,
            "sign",
            s(&ksr),
            "--config",
            s(&config),
            "-o",
            s(out),
            "--yes",
            "--quorum",
            s(&qdir.join("quorum.json")),
        ]
        .map(String::from)
        .to_vec();
        for &i in holders {
            args.extend([
                "--quorum-share".to_owned(),
                s(&qdir.join(format!("share-{i}.age"))).to_owned(),
                "--quorum-identity".to_owned(),
                s(&identities[i - 1]).to_owned(),
            ]);
        }
        if json {
            args.push("--json".to_owned());
        }
        if let Some(dir) = ceremony {
            args.extend(["--ceremony".to_owned(), s(dir).to_owned()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Standard input is closed: a passphrase prompt would fail the run.
        ceremony_with(&args, None, &[])
    };
    let sign = |holders: &[usize], out: &Path, json: bool| sign_recorded(holders, out, json, None);

    let trios = subsets(5, 3);
    assert_eq!(trios.len(), 10);
    for (n, trio) in trios.iter().enumerate() {
        let out = dir.join(format!("skr-{n}.xml"));
        let list = trio
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if n == 0 {
            let run = sign(trio, &out, true);
            run.expect_code(0);
            let json = run.json();
            assert_eq!(json["quorum"]["shares"], serde_json::json!(trio), "{json}");
            assert_eq!(json["quorum"]["m"], 3);
        } else {
            sign(trio, &out, false).expect_code(0).expect_stdout(&[
                &format!("the shares of holders {list} (3 of 5 needed)"),
                "Signed 9 bundles",
            ]);
        }
        assert_eq!(common::dnspython(&out), 9, "holders {list}");
    }

    // Recorded as a ceremony: the quorum file, the three shares and QUORUM-ACTIVATE are in act 1.
    let recorded = dir.join("KC-quorum");
    sign_recorded(
        &[2, 4, 5],
        &recorded.join("skr.xml"),
        false,
        Some(&recorded),
    )
    .expect_code(0);
    let entries = std::fs::read_to_string(recorded.join("transcript/entries")).expect("entries");
    for name in ["quorum.json", "share-2.age", "share-4.age", "share-5.age"] {
        assert!(entries.contains(name), "no file_read of {name}");
    }
    assert!(
        entries.contains("\"QUORUM-ACTIVATE\""),
        "no QUORUM-ACTIVATE check"
    );
    ceremony(&["transcript", "verify", s(&recorded)])
        .expect_code(0)
        .expect_stdout(&["Result: VERIFIED"]);

    let pairs = subsets(5, 2);
    assert_eq!(pairs.len(), 10);
    for pair in &pairs {
        let out = dir.join("refused.xml");
        sign(pair, &out, false).expect_code(1).expect_stderr(&[
            "needs the shares of 3 of its 5 holders, and 2 were given: the keystore stays locked and nothing is signed",
            "bring 1 more holder(s)",
        ]);
        assert!(!out.exists(), "holders {pair:?}: an SKR was written");
    }
}
