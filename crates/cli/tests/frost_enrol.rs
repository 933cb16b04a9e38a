//! `ceremony threshold reshare enrol`: a new holder of a FROST Ed25519 key,
//! enrolled offline by t helpers with the repair protocol (RTS). A 2-of-3
//! key enrols holder 4 with helpers 1 and 3; holders 2 and 4 then sign a KSR
//! in two rounds and the SKR verifies with `skr verify` and dnspython. A
//! tampered repair message names its helper; fewer than t helpers are refused.

mod common;
#[path = "common/frost_cli.rs"]
mod frost_cli;

use std::path::{Path, PathBuf};

use common::age_identity;
use frost_cli::{
    combine, dnspython, enrol_combine, enrol_deltas, enrol_sigma, flip_scalar, refused, reseal,
    rounds, setup, skr_verify, Setup,
};

/// `enrol deltas` by `helper`, for new holder 4, with `helpers`.
fn deltas(st: &Setup, helper: usize, helpers: &[usize], out: &Path) -> common::Run {
    enrol_deltas(st, helper, helpers, out, &[])
}

#[test]
fn two_of_three_enrols_holder_4_who_then_signs_with_holder_2() {
    let mut st = setup(2, 3, "ksr-frost-enrol");
    let enrol = st.path("enrol");
    let (id4, r4) = age_identity(st.dir.path(), "holder-4.key");
    let public = st.public();

    // Fewer helpers than the threshold: refused, nothing written.
    deltas(&st, 1, &[1], &enrol).expect_code(2).expect_stderr(&[
        "--helpers [1]: 1 distinct helpers",
        "at least the threshold, 2",
    ]);
    assert!(!enrol.exists());

    for h in [1, 3] {
        deltas(&st, h, &[1, 3], &enrol)
            .expect_code(0)
            .expect_stdout(&[
                &format!("Helper {h} split its part of holder 4's share"),
                "New holder 4's verifying share (compare): ",
                "Delta for helper 3",
            ]);
    }
    for name in ["delta-1-to-3.age", "delta-3-to-1.age", "delta-1-to-1.age"] {
        let text = std::fs::read_to_string(enrol.join(name)).expect("delta");
        assert!(
            text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
            "{name}"
        );
    }
    let commitments = [
        enrol.join("enrol-commitments-1.json"),
        enrol.join("enrol-commitments-3.json"),
    ];
    let sigma = |k: usize, from: [&str; 2]| {
        let d: Vec<PathBuf> = from.iter().map(|f| enrol.join(f)).collect();
        enrol_sigma(&st, (&commitments, &d), (k, &r4), &enrol, &[])
    };
    sigma(1, ["delta-1-to-1.age", "delta-3-to-1.age"])
        .expect_code(0)
        .expect_stdout(&["Helper 1: the deltas of helpers [1, 3] match their commitments"]);
    // Helper 1's delta to helper 3, changed by helper 1: helper 3 names it.
    reseal(
        &enrol.join("delta-1-to-3.age"),
        &st.identities[2],
        &enrol.join("delta-1-to-3-tampered.age"),
        flip_scalar("delta"),
    );
    refused(
        &sigma(3, ["delta-1-to-3-tampered.age", "delta-3-to-3.age"]),
        &[
            "enrolment refused: helper 1's ",
            "the repair delta does not match its helper's commitment",
        ],
        &enrol.join("sigma-3-for-4.age"),
    );
    sigma(3, ["delta-1-to-3.age", "delta-3-to-3.age"])
        .expect_code(0)
        .expect_stdout(&["Sigma for new holder 4"]);

    let joined = st.path("joined");
    let combine_with =
        |sigmas: [&Path; 2]| enrol_combine(&st, (&commitments, &sigmas), &id4, &joined, &[]);
    // Helper 3's sigma, changed by helper 3 (still encrypted to holder 4):
    // its commitments name it, and no share is written.
    let (sigma1, sigma3) = (
        enrol.join("sigma-1-for-4.age"),
        enrol.join("sigma-3-for-4.age"),
    );
    let tampered = st.path("sigma-3-tampered.age");
    reseal(&sigma3, &id4, &tampered, flip_scalar("sigma"));
    refused(
        &combine_with([&sigma1, &tampered]),
        &[
            "enrolment refused: helper 3's ",
            "sigma-3-tampered.age",
            "the repair sigma does not match",
        ],
        &joined.join("share-4.age"),
    );

    let run = combine_with([&sigma1, &sigma3]);
    run.expect_code(0).expect_stdout(&[
        "New holder 4: the sigmas of helpers [1, 3] match their commitments",
        "Any 2 of holders [1, 2, 3, 4] sign",
        "Share of new holder 4",
    ]);
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).expect("public")).expect("json")
    };
    let (old, new) = (read(&public), read(&joined.join("public.json")));
    assert_eq!(new["key_tag"], old["key_tag"], "the same DNSKEY");
    assert_eq!(new["holders"], 4);
    let share4 = std::fs::read_to_string(joined.join("share-4.age")).expect("share");
    assert!(share4.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));

    // Holders 2 (its dealt share) and 4 (enrolled) sign with the new public.json.
    std::fs::copy(st.deal.join("share-2.age"), joined.join("share-2.age")).expect("copy");
    st.identities.push(id4);
    let st = Setup { deal: joined, ..st };
    let pkg = st.path("package.json");
    let partials = rounds(&st, &[2, 4], &pkg);
    let skr = st.path("skr.xml");
    let refs: Vec<&Path> = partials.iter().map(PathBuf::as_path).collect();
    combine(&st, &pkg, &refs, &skr).expect_code(0);
    skr_verify(&st, &skr);
    dnspython(&skr);
}
