//! The ICANN codec against the root zone's real KSRs and SKRs.

use std::path::PathBuf;

use ceremony_formats::{icann, read_text_file, Document};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn read(rel: &str) -> String {
    read_text_file(&data(rel)).expect("shared data is readable")
}

const REAL_FILES: [&str; 11] = [
    "icann/root/ksr-root-2009-q4-2.xml",
    "icann/root/ksr-root-2010-q1-0.xml",
    "icann/root/ksr-root-2016-q3-0.xml",
    "icann/root/ksr-root-2017-q2-0.xml",
    "icann/root/skr-root-2017-q1-0.xml",
    "icann/root/skr-root-2017-q2-0.xml",
    "icann/legacy/ksr-2009-q4-2.xml",
    "icann/legacy/ksr-2010-q1-0.xml",
    "icann/legacy/skr-2009-q4-2.xml",
    "icann/legacy/skr-2010-q1-0.xml",
    "icann/ksr-bad-pop.xml",
];

#[test]
fn every_real_file_parses() {
    for rel in REAL_FILES {
        let doc = icann::parse(&read(rel), rel).unwrap_or_else(|e| panic!("{e}"));
        let expected_kind = if rel.contains("skr") { "skr" } else { "ksr" };
        let kind = match doc {
            Document::Ksr(_) => "ksr",
            Document::Skr(_) => "skr",
        };
        assert_eq!(kind, expected_kind, "{rel}");
        assert!(!doc.bundles().is_empty());
        assert_eq!(doc.header().domain, ".");
    }
}

#[test]
fn the_2017_q2_ksr_has_nine_bundles_ten_days_apart() {
    let ksr = icann::parse_ksr(&read("icann/root/ksr-root-2017-q2-0.xml"), "ksr").expect("parses");
    assert_eq!(ksr.header.id, "23e34059-7725-46a8-a7d2-662d657aab2b");
    assert_eq!(ksr.bundles.len(), 9);
    assert_eq!(ksr.bundles[0].inception.to_string(), "2017-04-01T00:00:00Z");
    assert_eq!(ksr.bundles[0].validity().as_seconds(), 21 * 86400);
    let keys_per_bundle: Vec<usize> = ksr.bundles.iter().map(|b| b.keys.len()).collect();
    assert_eq!(keys_per_bundle, [2, 1, 1, 1, 1, 1, 1, 1, 2]);
}

/// Writing a real SKR reproduces the file byte for byte: keys, signatures, layout.
#[test]
fn writing_a_real_skr_reproduces_it_exactly() {
    for rel in [
        "icann/root/skr-root-2017-q1-0.xml",
        "icann/root/skr-root-2017-q2-0.xml",
        "icann/legacy/skr-2009-q4-2.xml",
        "icann/legacy/skr-2010-q1-0.xml",
    ] {
        let text = read(rel);
        let skr = icann::parse_skr(&text, rel).expect("parses");
        let written = icann::write_skr(&skr);
        assert_eq!(written, text, "{rel} differs after a round trip");
    }
}

#[test]
fn ksr_round_trips_through_the_writer() {
    for rel in REAL_FILES.iter().filter(|r| !r.contains("skr")) {
        let ksr = icann::parse_ksr(&read(rel), rel).expect("parses");
        let again = icann::parse_ksr(&icann::write_ksr(&ksr), "written").expect("reparses");
        assert_eq!(again, ksr, "{rel}");
    }
}

#[test]
fn quirks_of_real_files_are_accepted() {
    let text = read("icann/root/ksr-root-2017-q2-0.xml");
    let reference = icann::parse_ksr(&text, "ref").expect("parses");
    let variants = [
        text.replace('\n', "\r\n"),
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- a comment -->\n{text}"),
        text.replace(
            "<Inception>2017-04-01T00:00:00</Inception>",
            "<Inception>2017-04-01T00:00:00Z</Inception>",
        ),
        text.replace(
            "<Inception>2017-04-01T00:00:00</Inception>",
            "<Inception>2017-04-01T00:00:00+00:00</Inception>",
        ),
        text.replace("keyTag=\"14796\"", "keyTag=\"014796\""),
        text.replace(
            "<KSR id=\"23e34059-7725-46a8-a7d2-662d657aab2b\" domain=\".\" serial=\"1\">",
            "<KSR serial=\"1\" domain=\".\" id=\"23e34059-7725-46a8-a7d2-662d657aab2b\">",
        ),
    ];
    for (i, variant) in variants.iter().enumerate() {
        assert_ne!(variant, &text, "variant {i} changed nothing");
        let parsed =
            icann::parse_ksr(variant, "variant").unwrap_or_else(|e| panic!("variant {i}: {e}"));
        assert_eq!(parsed, reference, "variant {i}");
    }
}

/// Each malformed document gives a message with file, line and column, and what was expected.
#[test]
fn malformed_documents_name_the_place_and_rule() {
    let text = read("icann/root/ksr-root-2017-q2-0.xml");
    let cases: Vec<(String, &str)> = vec![
        (
            text.replacen("<Expiration>", "<Expiry>", 1)
                .replacen("</Expiration>", "</Expiry>", 1),
            "expected <Expiration>",
        ),
        (
            text.replacen("keyTag=\"14796\"", "keyTag=\"-1\"", 1),
            "non-negative integer",
        ),
        (
            text.replacen("keyTag=\"14796\"", "keyTag=\"99999\"", 1),
            "out of range",
        ),
        (
            text.replacen("serial=\"1\"", "serial=\"99999999999999999999999\"", 1),
            "out of range",
        ),
        (
            text.replacen("<PublicKey>AwEAAZLs", "<PublicKey>*wEAAZLs", 1),
            "not valid base64",
        ),
        (
            text.replacen("<Protocol>3</Protocol>", "<Protocol>2</Protocol>", 1),
            "must be 3",
        ),
        (
            text.replacen("2017-04-01T00:00:00", "2017-04-31T00:00:00", 1),
            "no such date",
        ),
        (
            text.replacen("<TTL>172800</TTL>", "<TTL>172800</TTL><Bogus/>", 1),
            "expected <Flags>",
        ),
        (
            text.replacen(" domain=\".\"", "", 1),
            "lacks the required attribute \"domain\"",
        ),
        (
            text.replacen("<KSR ", "<KSR extra=\"1\" ", 1),
            "unexpected attribute",
        ),
        (
            text.replacen("<Request>", "<Request>stray", 1),
            "unexpected text",
        ),
        (text[..text.len() / 2].to_owned(), "not well-formed"),
        (
            "<!DOCTYPE KSR [<!ENTITY a \"b\">]><KSR/>".to_owned(),
            "DOCTYPE is not accepted",
        ),
        ("<Other/>".to_owned(), "must be <KSR>"),
    ];
    for (doc, needle) in cases {
        let err = icann::parse(&doc, "bad.xml").expect_err(needle).to_string();
        assert!(err.starts_with("bad.xml:"), "{err}");
        assert!(err.contains(needle), "expected {needle:?} in: {err}");
        let place: Vec<&str> = err.splitn(4, ':').collect();
        assert!(
            place[1].parse::<u32>().is_ok() && place[2].parse::<u32>().is_ok(),
            "no line:column in {err}"
        );
    }
}
