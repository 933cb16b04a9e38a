//! RFC 9718 trust anchors: parse, check each digest against its key, write.

use std::path::PathBuf;

use ceremony_formats::anchor::{DigestCheck, TrustAnchor};
use ceremony_formats::read_text_file;

fn fixture() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/anchors/root-anchors.xml");
    read_text_file(&path).expect("fixture")
}

#[test]
fn root_anchors_for_ksk_2010_and_ksk_2017_check_out() {
    let anchor = TrustAnchor::parse(&fixture(), "root-anchors.xml").expect("parses");
    assert_eq!(anchor.zone, ".");
    let root = ceremony_dnssec::parse_name(".").expect("root");
    let tags: Vec<u16> = anchor.digests.iter().map(|d| d.ds.key_tag.0).collect();
    assert_eq!(tags, [19036, 20326]);
    for digest in &anchor.digests {
        assert_eq!(digest.check(&root), DigestCheck::Matches, "{}", digest.id);
    }
    let reparsed = TrustAnchor::parse(&anchor.to_xml(), "written").expect("reparses");
    assert_eq!(reparsed, anchor);
}

#[test]
fn a_wrong_digest_or_tag_is_found() {
    let root = ceremony_dnssec::parse_name(".").expect("root");
    let text = fixture().replace("<Digest>E06D44B8", "<Digest>E06D44B9");
    let anchor = TrustAnchor::parse(&text, "bad").expect("parses");
    assert!(matches!(
        anchor.digests[1].check(&root),
        DigestCheck::WrongDigest { .. }
    ));
    let text = fixture().replace("<KeyTag>19036", "<KeyTag>19037");
    let anchor = TrustAnchor::parse(&text, "bad").expect("parses");
    assert_eq!(
        anchor.digests[0].check(&root),
        DigestCheck::WrongTag { computed: 19036 }
    );
}

#[test]
fn rfc7958_digests_without_keys_are_reported_as_such() {
    let text = fixture();
    let start = text.find("<PublicKey>AwEAAaz").expect("key");
    let end = text[start..].find("<Flags>257</Flags>\n").expect("flags")
        + start
        + "<Flags>257</Flags>\n".len();
    let legacy = format!("{}{}", &text[..start], &text[end..]);
    let anchor = TrustAnchor::parse(&legacy, "legacy").expect("parses");
    let root = ceremony_dnssec::parse_name(".").expect("root");
    assert_eq!(anchor.digests[1].check(&root), DigestCheck::NoKey);
}

#[test]
fn malformed_anchor_files_name_the_place() {
    for (text, needle) in [
        (
            fixture().replace("<Digest>E06D", "<Digest>ZZ06D"),
            "hexadecimal",
        ),
        (fixture().replace("<Zone>.</Zone>", ""), "expected <Zone>"),
        (
            fixture().replace(" validFrom=\"2017-02-02T00:00:00+00:00\"", ""),
            "validFrom",
        ),
    ] {
        let err = TrustAnchor::parse(&text, "ta.xml")
            .expect_err(needle)
            .to_string();
        assert!(err.starts_with("ta.xml:") && err.contains(needle), "{err}");
    }
}
