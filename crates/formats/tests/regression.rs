//! Regressions found by fuzzing the ICANN reader and writer (`fuzz/`, `scripts/fuzz`).
//!
//! Each test is named after what broke, and holds the smallest document
//! that showed it, built from a real file so the rest of it is valid.

use std::path::PathBuf;

use ceremony_formats::{icann, read_text_file, Document};

fn read(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel);
    read_text_file(&path).expect("shared data is readable")
}

fn write(doc: &Document) -> String {
    match doc {
        Document::Ksr(ksr) => icann::write_ksr(ksr),
        Document::Skr(skr) => icann::write_skr(skr),
    }
}

/// The fuzz target's property: what the reader accepts, the writer writes so
/// that the reader gets the same model back, and writing again changes nothing.
fn assert_round_trip(text: &str) -> Document {
    let doc = icann::parse(text, "input").unwrap_or_else(|e| panic!("input: {e}"));
    let written = write(&doc);
    let again = icann::parse(&written, "written").unwrap_or_else(|e| panic!("written: {e}"));
    assert_eq!(
        again, doc,
        "the model changed through write and read:\n{written}"
    );
    assert_eq!(write(&again), written, "the writer is not stable");
    doc
}

/// A character reference to a carriage return, tab or line feed in an
/// attribute (`keyIdentifier="…&#13;…"`) or in element text put the raw
/// character into the model; the writer wrote it literally, and the reader
/// turned it into a space (attribute-value normalization) or, for a carriage
/// return in text, into a line feed (end-of-line handling). Found by
/// `icann_xml` as a `&#13;` in a `<Key keyIdentifier>`.
#[test]
fn whitespace_character_references_survive_the_writer() {
    let skr = read("icann/root/skr-root-2017-q1-0.xml")
        .replacen(
            "id=\"122992ea-297d-4f12-845b-0fb448c33ccb\"",
            "id=\"122992ea&#9;297d&#10;4f12&#13;845b\"",
            1,
        )
        .replacen(
            "<ResponseBundle id=\"b5b861fc-957a-4a15-af80-75d4bb9c7433\">",
            "<ResponseBundle id=\"b5b861fc&#13;&#10;957a\">",
            1,
        )
        .replacen(
            "<Key keyIdentifier=\"302e312c302a0603",
            "<Key keyIdentifier=\"302e312c302a060&#13;",
            1,
        )
        .replacen(
            "<Signature keyIdentifier=\"Kjqmt7v\">",
            "<Signature keyIdentifier=\"Kjq&#9;mt7v\">",
            1,
        )
        .replacen(
            "<SignersName>.</SignersName>",
            "<SignersName>a&#13;b&#13;&#10;c&#9;d</SignersName>",
            1,
        );
    let Document::Skr(doc) = assert_round_trip(&skr) else {
        panic!("an SKR")
    };
    assert_eq!(doc.header.id, "122992ea\t297d\n4f12\r845b");
    assert_eq!(doc.bundles[0].id, "b5b861fc\r\n957a");
    assert!(doc.bundles[0].keys[0]
        .key_identifier
        .starts_with("302e312c302a060\r"));
    assert_eq!(doc.bundles[0].signatures[0].key_identifier, "Kjq\tmt7v");
    assert_eq!(doc.bundles[0].signatures[0].signers_name, "a\rb\r\nc\td");

    let ksr = read("icann/root/ksr-root-2017-q2-0.xml").replacen(
        "</Expiration>",
        "</Expiration>\n<Signer keyIdentifier=\"Kjq&#13;mt7v\"/>",
        1,
    );
    let Document::Ksr(doc) = assert_round_trip(&ksr) else {
        panic!("a KSR")
    };
    assert_eq!(doc.bundles[0].signers, ["Kjq\rmt7v"]);
}

/// A time in the first hours of the year 0000 with a positive offset
/// (`0000-01-01T00:00:00+02:00`) was accepted as an instant in the year -1
/// (UTC); the writer wrote it as `-001-12-31T22:00:00+00:00`, which the reader
/// refuses. Such times are now refused on reading. Found by `xsd_values`.
#[test]
fn datetimes_before_the_year_zero_in_utc_are_refused() {
    let err = ceremony_formats::parse_datetime("0000-01-01T00:00:00+02:00").expect_err("year -1");
    assert!(err.contains("before the year 0000"), "{err}");

    let text = read("icann/root/ksr-root-2017-q2-0.xml");
    let early = text.replacen(
        "<Inception>2017-04-01T00:00:00</Inception>",
        "<Inception>0000-01-01T00:00:00+02:00</Inception>",
        1,
    );
    assert_ne!(early, text);
    let err = icann::parse(&early, "early")
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("<Inception>") && err.contains("before the year 0000"),
        "{err}"
    );

    // The edge itself, and the year 0000 reached through a negative offset, still read and round-trip.
    for inception in ["0000-01-01T00:00:00Z", "0000-01-01T00:00:00-02:00"] {
        let edge = text.replacen(
            "<Inception>2017-04-01T00:00:00</Inception>",
            &format!("<Inception>{inception}</Inception>"),
            1,
        );
        assert_round_trip(&edge);
    }
}
