//! Hostile inputs through the real binary: every one is refused with one
//! short message that names the file (and the line and column where the
//! XML has one), exit code 2 (or 1 where the file parses but fails a
//! check), no panic, no partial report, and a child peak RSS under 100 MB.
//!
//! The inputs are made here, in a temporary directory, from the root zone's
//! real 2017 Q2 KSR. No test measures time (speed is for `bench/hostile.sh`).
//!
//! Peak RSS is `getrusage(RUSAGE_CHILDREN)`, the largest of the process's
//! waited-for children. Each case is its own `#[test]`, so under nextest
//! (one process per test) it is that case's children alone. Under plain
//! `cargo test` all tests share one process and the figure is the largest
//! child of any test run so far: the bound still holds for every child, but
//! a failure may name the wrong case (rerun it alone to see).
//!
//! The figure is an upper bound in one more way: on Linux a child spawned
//! with vfork (as `Command` does) is charged the spawning process's own
//! peak RSS at `exec`, even memory freed since. So the tests stream big
//! inputs to disk rather than build them in memory, and stay a few MB
//! themselves; `bench/hostile.sh` measures the binary alone.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::resource::{getrusage, UsageWho};
use tempfile::TempDir;

/// The instant the real Q2 2017 KSR is judged at.
const NOW: &str = "2017-03-15T00:00:00Z";
/// Peak RSS allowed for the binary on any input, in KiB (ru_maxrss is KiB on Linux).
const MAX_RSS_KIB: i64 = 100 * 1024;
/// `MAX_DOCUMENT_BYTES` in the formats crate.
const LIMIT: u64 = 16 * 1024 * 1024;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/icann")
        .join(rel)
}

fn real_ksr() -> String {
    std::fs::read_to_string(data("root/ksr-root-2017-q2-0.xml")).expect("the real KSR")
}

/// What a run of the binary left behind.
struct Outcome {
    what: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    max_rss_kib: i64,
}

impl Outcome {
    fn describe(&self) -> String {
        format!(
            "{}: exit {:?}, peak {} KiB\n--- stdout\n{}\n--- stderr\n{}",
            self.what, self.code, self.max_rss_kib, self.stdout, self.stderr
        )
    }
}

fn ceremony(args: &[&str]) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args(args)
        // A panic must show as such: with RUST_BACKTRACE unset it prints its hint.
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the binary runs");
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    let outcome = Outcome {
        what: format!("ceremony {}", args.join(" ")),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        max_rss_kib: usage.max_rss(),
    };
    eprintln!(
        "{}: exit {:?}, peak {} KiB",
        outcome.what, outcome.code, outcome.max_rss_kib
    );
    outcome
}

/// The three commands that read a document, on `path`.
fn every_reader(path: &Path) -> Vec<Outcome> {
    let file = path.to_str().expect("UTF-8 temp path");
    vec![
        ceremony(&["ksr", "validate", file, "--now", NOW]),
        ceremony(&["skr", "verify", file]),
        ceremony(&["anchor", "verify", file]),
    ]
}

fn ksr_validate(path: &Path) -> Outcome {
    ceremony(&[
        "ksr",
        "validate",
        path.to_str().expect("UTF-8 temp path"),
        "--now",
        NOW,
    ])
}

/// Where the message points: `Some((line, column))`, or `None` for a file-level error.
type Place = Option<(usize, usize)>;

/// Asserts the shape every refusal has, then that it says each of `words`.
fn assert_refused(out: &Outcome, path: &Path, code: i32, place: Place, words: &[&str]) {
    let why = out.describe();
    assert_eq!(out.code, Some(code), "exit code\n{why}");
    let err = &out.stderr;
    assert!(
        err.starts_with("error: "),
        "stderr starts with error:\n{why}"
    );
    assert!(!err.contains("panicked"), "a panic\n{why}");
    assert!(!err.contains("RUST_BACKTRACE"), "a panic\n{why}");
    assert!(!err.contains("overflow"), "an overflow\n{why}");
    let body = err.trim_end();
    assert!(!body.contains("\n\n"), "one paragraph\n{why}");
    assert!(body.lines().count() <= 3, "at most 3 lines\n{why}");
    assert!(
        body.lines().skip(1).all(|l| l.starts_with("hint: ")),
        "one error line, then hints\n{why}"
    );
    assert!(
        !err.chars().any(|c| c.is_control() && c != '\n'),
        "no raw control characters from the file\n{why}"
    );
    let file = path.display().to_string();
    let expected = match place {
        Some((line, column)) => format!("error: {file}:{line}:{column}: "),
        None => format!("error: {file}: "),
    };
    assert!(err.starts_with(&expected), "expected {expected:?}\n{why}");
    if code == 2 {
        assert!(out.stdout.is_empty(), "no partial report\n{why}");
    }
    for word in words {
        assert!(err.contains(word), "expected {word:?}\n{why}");
    }
    assert_small(out);
}

fn assert_small(out: &Outcome) {
    assert!(
        out.max_rss_kib < MAX_RSS_KIB,
        "peak RSS {} KiB is not under {MAX_RSS_KIB} KiB\n{}",
        out.max_rss_kib,
        out.describe()
    );
}

/// 1-based line and column (in characters) of byte `offset` in `text`, as the messages count.
fn place_of(text: &str, offset: usize) -> Place {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Some((line, column))
}

struct Dir(TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().expect("temp dir"))
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, bytes).expect("write input");
        path
    }

    /// Writes a big input piece by piece, never holding it in memory.
    fn stream(
        &self,
        name: &str,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> PathBuf {
        let path = self.0.path().join(name);
        let mut out = BufWriter::new(File::create(&path).expect("create input"));
        fill(&mut out)
            .and_then(|()| out.flush())
            .expect("write input");
        path
    }
}

/// The real KSR with the first `from` replaced by `to`; `from` must be there.
fn edited(from: &str, to: &str) -> String {
    let text = real_ksr();
    assert!(text.contains(from), "{from:?} not in the real KSR");
    text.replacen(from, to, 1)
}

// ---------------------------------------------------------------- DTDs

#[test]
fn doctype_with_internal_entities_is_refused_unexpanded() {
    let dir = Dir::new();
    let mut doc =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE KSR [\n  <!ENTITY lol \"lol\">\n");
    for level in 1..10 {
        let prev = if level == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", level - 1)
        };
        doc.push_str(&format!(
            "  <!ENTITY lol{level} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    doc.push_str(
        "]>\n<KSR id=\"&lol9;\" domain=\".\" serial=\"1\"><Request>&lol9;</Request></KSR>\n",
    );
    let path = dir.write("laughs.xml", &doc);
    for out in every_reader(&path) {
        assert_refused(
            &out,
            &path,
            2,
            Some((2, 1)),
            &["DOCTYPE is not accepted", "never expanded"],
        );
        assert!(!out.stderr.contains("lollol"), "{}", out.describe());
    }
}

#[test]
fn doctype_with_external_entity_is_refused_unread() {
    let dir = Dir::new();
    let doc = "<?xml version=\"1.0\"?>\n\
               <!DOCTYPE KSR [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n\
               <KSR id=\"x\" domain=\".\" serial=\"1\"><Request>&xxe;</Request></KSR>\n";
    let path = dir.write("xxe.xml", doc);
    for out in every_reader(&path) {
        assert_refused(&out, &path, 2, Some((2, 1)), &["DOCTYPE is not accepted"]);
        assert!(!out.stderr.contains("root:"), "{}", out.describe());
    }
}

// ---------------------------------------------------------------- size

#[test]
fn sparse_100_mb_file_is_refused_before_reading() {
    let dir = Dir::new();
    let path = dir.0.path().join("huge.xml");
    File::create(&path)
        .and_then(|f| f.set_len(100 * 1024 * 1024))
        .expect("sparse file");
    for out in every_reader(&path) {
        assert_refused(
            &out,
            &path,
            2,
            None,
            &[
                "104857600 bytes is more than the 16777216 bytes",
                "refused without reading it",
            ],
        );
    }
}

#[test]
fn real_17_mib_file_is_refused_before_reading() {
    let dir = Dir::new();
    let ksr = real_ksr();
    let start = ksr.find("<RequestBundle").expect("a bundle");
    let end = ksr.find("</RequestBundle>").expect("a bundle end") + "</RequestBundle>".len();
    let bundle = &ksr[start..end];
    let path = dir.stream("big.xml", |out| {
        out.write_all(&ksr.as_bytes()[..start])?;
        let mut written = start as u64;
        while written <= 17 * 1024 * 1024 {
            out.write_all(bundle.as_bytes())?;
            written += bundle.len() as u64;
        }
        out.write_all(b"\n  </Request>\n</KSR>\n")
    });
    let size = std::fs::metadata(&path).expect("size").len();
    assert!(size > 17 * 1024 * 1024);
    for out in every_reader(&path) {
        assert_refused(
            &out,
            &path,
            2,
            None,
            &[
                &format!("{size} bytes is more than the {LIMIT} bytes"),
                "refused without reading it",
            ],
        );
    }
}

/// A device has no size to check first: the read is bounded instead.
#[test]
#[cfg(target_os = "linux")]
fn endless_stream_is_cut_off_at_the_limit() {
    let path = Path::new("/dev/zero");
    let out = ksr_validate(path);
    assert_refused(
        &out,
        path,
        2,
        None,
        &[
            &format!("more than the {LIMIT} bytes"),
            "refused after reading that much",
        ],
    );
}

// ---------------------------------------------------------------- structure

#[test]
fn ten_thousand_nested_elements_are_refused() {
    let dir = Dir::new();
    // One element a line: the 33rd level of nesting is on line 33.
    let mut doc = String::from("<KSR id=\"x\" domain=\".\" serial=\"1\">\n");
    doc.push_str(&"<Request>\n".repeat(10_000));
    doc.push_str(&"</Request>\n".repeat(10_000));
    doc.push_str("</KSR>\n");
    let path = dir.write("nested.xml", &doc);
    for out in every_reader(&path) {
        assert_refused(&out, &path, 2, Some((33, 1)), &["nested more than 32 deep"]);
    }
}

#[test]
fn a_million_attributes_are_refused() {
    let dir = Dir::new();
    let path = dir.stream("attributes.xml", |out| {
        out.write_all(b"<KSR")?;
        for i in 0..1_000_000 {
            write!(out, " a{i}=\"\"")?;
        }
        out.write_all(b"/>")
    });
    for out in every_reader(&path) {
        assert_refused(
            &out,
            &path,
            2,
            Some((1, 1)),
            &["<KSR> has more than 32 attributes"],
        );
    }
}

const ROOT: &str = "<KSR id=\"x\" domain=\".\" serial=\"1\">";

#[test]
fn millions_of_elements_are_refused_at_the_node_limit() {
    let dir = Dir::new();
    let path = dir.stream("wide.xml", |out| {
        out.write_all(ROOT.as_bytes())?;
        for _ in 0..4_000_000 {
            out.write_all(b"<a/>")?;
        }
        out.write_all(b"</KSR>")
    });
    assert!(std::fs::metadata(&path).expect("size").len() <= LIMIT);
    // <KSR> is node 1: node 500001 is the 500000th <a/>.
    let place = Some((1, ROOT.len() + 499_999 * 4 + 1));
    for out in every_reader(&path) {
        assert_refused(&out, &path, 2, place, &["more than 500000 XML nodes"]);
    }
}

#[test]
fn attributes_spread_over_many_elements_are_refused() {
    let dir = Dir::new();
    let element: String = format!(
        "<a {}/>",
        (0..32)
            .map(|i| format!("b{i}=\"\""))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let path = dir.stream("attributes-everywhere.xml", |out| {
        out.write_all(ROOT.as_bytes())?;
        for _ in 0..70_000 {
            out.write_all(element.as_bytes())?;
        }
        out.write_all(b"</KSR>")
    });
    // <KSR> has 3 attributes: the 100001st is in element 3125, counting from 0.
    let place = Some((1, ROOT.len() + 3124 * element.len() + 1));
    for out in every_reader(&path) {
        assert_refused(
            &out,
            &path,
            2,
            place,
            &["more than 100000 attributes in the file"],
        );
    }
}

/// Nodes, attributes and text copied for character references, each just
/// under its bound, in a file just under the size bound: the most memory
/// the reader can be made to take.
#[test]
fn every_bound_at_once_stays_under_the_memory_bound() {
    let dir = Dir::new();
    let tagged = "<a b=\"1\" c=\"2\">x</a>";
    let plain = "<a>x</a>";
    let head = 5 + 49_000 * tagged.len() + 190_000 * plain.len();
    let references = (LIMIT as usize - head - 6) / 6;
    let path = dir.stream("every-bound.xml", |out| {
        out.write_all(b"<KSR>")?;
        out.write_all(tagged.repeat(49_000).as_bytes())?;
        out.write_all(plain.repeat(190_000).as_bytes())?;
        for _ in 0..references {
            out.write_all(b"&#x41;")?;
        }
        out.write_all(b"</KSR>")
    });
    assert!(std::fs::metadata(&path).expect("size").len() <= LIMIT);
    let out = ksr_validate(&path);
    // It gets past every bound of the reader, and is refused for what it is.
    assert_refused(
        &out,
        &path,
        2,
        Some((1, 1)),
        &["lacks the required attribute \"id\""],
    );
}

// ---------------------------------------------------------------- values

#[test]
fn invalid_base64_in_public_key_is_located() {
    let dir = Dir::new();
    let text = edited("<PublicKey>AwEAAZLs", "<PublicKey>AwE!AZLs");
    let place = place_of(&text, text.find('!').expect("the bad character"));
    let path = dir.write("bad-key.xml", &text);
    let out = ksr_validate(&path);
    assert_refused(
        &out,
        &path,
        2,
        place,
        &[
            "<PublicKey> is not valid base64",
            "'!' is not a base64 character",
        ],
    );
}

#[test]
fn invalid_base64_in_signature_data_is_located() {
    let dir = Dir::new();
    let text = edited("<SignatureData>kRfw", "<SignatureData>kR$w");
    let place = place_of(&text, text.find('$').expect("the bad character"));
    let path = dir.write("bad-signature.xml", &text);
    let out = ksr_validate(&path);
    assert_refused(
        &out,
        &path,
        2,
        place,
        &[
            "<SignatureData> is not valid base64",
            "'$' is not a base64 character",
        ],
    );
}

#[test]
fn misplaced_base64_padding_is_located() {
    let dir = Dir::new();
    let text = edited("<PublicKey>AwEAAZLs", "<PublicKey>AwE=AZLs");
    let place = place_of(&text, text.find("AwE=").expect("the padding") + 3);
    let path = dir.write("bad-padding.xml", &text);
    let out = ksr_validate(&path);
    assert_refused(&out, &path, 2, place, &["base64", "'=' is padding"]);
}

/// The line and column of the element whose text or attribute holds `needle`.
fn element_place(text: &str, needle: &str) -> Place {
    let at = text.find(needle).expect("needle");
    place_of(text, text[..at].rfind('<').expect("an element"))
}

#[test]
fn negative_key_tag_is_refused() {
    let dir = Dir::new();
    let text = edited("keyTag=\"14796\"", "keyTag=\"-5\"");
    let path = dir.write("negative.xml", &text);
    let out = ksr_validate(&path);
    let place = element_place(&text, "keyTag=\"-5\"");
    assert_refused(&out, &path, 2, place, &["keyTag", "non-negative", "\"-5\""]);
}

#[test]
fn overflowing_key_tag_is_refused() {
    let dir = Dir::new();
    let text = edited("keyTag=\"14796\"", "keyTag=\"70000\"");
    let path = dir.write("key-tag.xml", &text);
    let out = ksr_validate(&path);
    let place = element_place(&text, "keyTag=\"70000\"");
    assert_refused(
        &out,
        &path,
        2,
        place,
        &["keyTag", "70000 is out of range", "65535"],
    );
}

#[test]
fn overflowing_serial_is_refused() {
    let dir = Dir::new();
    let text = edited("serial=\"1\"", "serial=\"999999999999999999999999\"");
    let path = dir.write("serial.xml", &text);
    let out = ksr_validate(&path);
    assert_refused(
        &out,
        &path,
        2,
        Some((1, 1)),
        &["serial 999999999999999999999999 is out of range"],
    );
}

#[test]
fn ttl_beyond_u32_is_refused() {
    let dir = Dir::new();
    let text = edited("<TTL>172800</TTL>", "<TTL>4294967296</TTL>");
    let path = dir.write("ttl.xml", &text);
    let out = ksr_validate(&path);
    let place = element_place(&text, ">4294967296<");
    assert_refused(
        &out,
        &path,
        2,
        place,
        &["<TTL> 4294967296 is out of range", "4294967295"],
    );
}

/// A comment inside a value must not cut it short: `17<!-- -->2800` is not 17.
#[test]
fn value_split_by_a_comment_is_refused() {
    let dir = Dir::new();
    let text = edited("<TTL>172800</TTL>", "<TTL>17<!-- -->2800</TTL>");
    let path = dir.write("split.xml", &text);
    let out = ksr_validate(&path);
    let place = element_place(&text, ">17<!--");
    assert_refused(&out, &path, 2, place, &["<TTL>", "split by a comment"]);
}

#[test]
fn duplicate_bundle_ids_parse_but_fail_the_check() {
    let dir = Dir::new();
    let text = real_ksr();
    let ids: Vec<&str> = text
        .match_indices("<RequestBundle id=\"")
        .map(|(at, m)| {
            let rest = &text[at + m.len()..];
            &rest[..rest.find('"').expect("id end")]
        })
        .collect();
    assert!(ids.len() >= 2);
    let dup = text.replacen(
        &format!("<RequestBundle id=\"{}\"", ids[1]),
        &format!("<RequestBundle id=\"{}\"", ids[0]),
        1,
    );
    let path = dir.write("duplicate.xml", &dup);
    let out = ksr_validate(&path);
    let why = out.describe();
    assert_eq!(out.code, Some(1), "{why}");
    assert!(out.stderr.is_empty(), "{why}");
    assert!(!out.stdout.contains("panicked"), "{why}");
    assert!(out.stdout.contains("✗ KSR-BUNDLE-UNIQUE"), "{why}");
    assert!(
        out.stdout.contains("Result: FAILED, 1 of")
            && out.stdout.contains("failed: KSR-BUNDLE-UNIQUE"),
        "{why}"
    );
    assert!(
        out.stdout.contains(&format!("bundle #2 {}", ids[0])),
        "{why}"
    );
    assert_small(&out);

    let file = path.to_str().expect("UTF-8 temp path");
    let json = ceremony(&["ksr", "validate", file, "--now", NOW, "--json"]);
    assert_eq!(json.code, Some(1), "{}", json.describe());
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let failed: Vec<&str> = value["report"]["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "failed")
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(failed, ["KSR-BUNDLE-UNIQUE"], "{}", json.describe());
}

// ---------------------------------------------------------------- not a KSR at all

#[test]
fn empty_file_is_refused() {
    let dir = Dir::new();
    let path = dir.write("empty.xml", "");
    for out in every_reader(&path) {
        assert_refused(&out, &path, 2, None, &["the file is empty"]);
    }
}

#[test]
fn whitespace_only_file_is_refused() {
    let dir = Dir::new();
    let path = dir.write("blank.xml", " \n\t\r\n   \n");
    for out in every_reader(&path) {
        assert_refused(&out, &path, 2, None, &["empty (or only whitespace)"]);
    }
}

/// Deterministic noise (xorshift), so a failure reproduces.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

#[test]
fn binary_file_is_refused() {
    let dir = Dir::new();
    let mut bytes = b"\x00\x01\x02\xff\xfe\x80".to_vec();
    bytes.extend(noise(64 * 1024));
    let path = dir.write("binary.xml", &bytes);
    for out in every_reader(&path) {
        assert_refused(&out, &path, 2, None, &["not UTF-8", "offset 3"]);
    }
}

/// NUL and control bytes are valid UTF-8: the XML reader must say what they are.
#[test]
fn binary_file_that_is_valid_utf8_is_refused() {
    let dir = Dir::new();
    let bytes: Vec<u8> = noise(64 * 1024).into_iter().map(|b| b & 0x7f).collect();
    let nul = bytes.iter().position(|&b| b == 0).expect("a NUL in 64 KiB");
    let text = std::str::from_utf8(&bytes).expect("ASCII");
    let path = dir.write("ascii-noise.xml", &bytes);
    for out in every_reader(&path) {
        assert_refused(
            &out,
            &path,
            2,
            place_of(text, nul),
            &["not well-formed XML", "NUL"],
        );
    }
}

#[test]
fn control_characters_from_the_file_are_escaped() {
    let dir = Dir::new();
    let path = dir.write("escape.xml", "<KSR>\u{1b}[31mred</KSR>");
    let out = ksr_validate(&path);
    assert_refused(
        &out,
        &path,
        2,
        Some((1, 6)),
        &["not well-formed XML", "\\u{1b}"],
    );
}

#[test]
fn ksr_cut_in_half_is_refused_at_the_cut() {
    let dir = Dir::new();
    let text = real_ksr();
    let half = &text[..text.len() / 2];
    let path = dir.write("half.xml", half);
    for out in every_reader(&path) {
        assert_refused(
            &out,
            &path,
            2,
            place_of(half, half.trim_end().len()),
            &["not well-formed XML", "truncated"],
        );
    }
}

#[test]
fn ksr_cut_anywhere_is_refused_as_truncated() {
    let dir = Dir::new();
    let text = real_ksr();
    let path = dir.0.path().join("cut.xml");
    let mut offsets: Vec<usize> = vec![1, 3, 10, 57, 100, 1000, text.len() - 2, text.len() - 8];
    // Right after each kind of markup start, and inside a base64 value.
    for needle in [
        "<",
        "</",
        "<Key ",
        "keyTag=\"",
        "<PublicKey>AwEA",
        "-->",
        "</KSR",
    ] {
        if let Some(at) = text.rfind(needle) {
            offsets.push(at + needle.len());
        }
    }
    offsets.extend((1..20).map(|i| i * text.len() / 20));
    for offset in offsets {
        let cut = &text[..offset];
        std::fs::write(&path, cut).expect("write");
        let out = ksr_validate(&path);
        assert_refused(
            &out,
            &path,
            2,
            place_of(cut, cut.trim_end().len()),
            &["not well-formed XML", "truncated"],
        );
    }
}

#[test]
fn utf16_file_is_refused_with_a_way_to_convert_it() {
    let dir = Dir::new();
    let text = real_ksr();
    let mut with_bom = vec![0xFF, 0xFE];
    with_bom.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let without_bom: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for (name, bytes, encoding) in [
        ("utf16le.xml", with_bom, "UTF-16LE"),
        ("utf16be.xml", without_bom, "UTF-16BE"),
    ] {
        let path = dir.write(name, bytes);
        for out in every_reader(&path) {
            assert_refused(
                &out,
                &path,
                2,
                None,
                &[
                    &format!("the file is {encoding} text, not UTF-8"),
                    "hint: ",
                    "iconv",
                ],
            );
        }
    }
}

#[test]
fn html_is_refused_as_another_kind_of_document() {
    let dir = Dir::new();
    let path = dir.write(
        "page.xml",
        "<html>\n<head><title>KSR</title></head>\n<body><p>Not a KSR.</p></body>\n</html>\n",
    );
    let outs = every_reader(&path);
    assert_refused(
        &outs[0],
        &path,
        2,
        Some((1, 1)),
        &["must be <KSR>", "found <html>"],
    );
    assert_refused(
        &outs[1],
        &path,
        2,
        Some((1, 1)),
        &["must be <KSR>", "found <html>"],
    );
    assert_refused(
        &outs[2],
        &path,
        2,
        Some((1, 1)),
        &["must be <TrustAnchor>", "found <html>"],
    );
}

#[test]
fn plain_text_is_refused() {
    let dir = Dir::new();
    let path = dir.write("notes.xml", "  KSR for 2017 Q2: see the other file.\n");
    let out = ksr_validate(&path);
    assert_refused(
        &out,
        &path,
        2,
        Some((1, 3)),
        &["does not start with XML markup"],
    );
}

#[test]
fn skr_given_to_ksr_validate_is_refused() {
    let path = data("root/skr-root-2017-q2-0.xml");
    let out = ksr_validate(&path);
    assert_refused(
        &out,
        &path,
        2,
        None,
        &["this is an SKR", "a KSR was expected"],
    );
}

#[test]
fn ksr_given_to_skr_verify_is_refused() {
    let path = data("root/ksr-root-2017-q2-0.xml");
    let out = ceremony(&["skr", "verify", path.to_str().expect("UTF-8 path")]);
    assert_refused(
        &out,
        &path,
        2,
        None,
        &["this is a KSR", "an SKR was expected"],
    );
}

/// The baseline every bound above is measured against: the real KSR passes.
#[test]
fn real_ksr_passes_within_the_memory_bound() {
    let path = data("root/ksr-root-2017-q2-0.xml");
    let out = ksr_validate(&path);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(out.stderr.is_empty(), "{}", out.describe());
    assert_small(&out);
}

/// Ceremony's own files (threshold public keys, shares, quorum files, witness
/// keys), when hostile, are refused the same way as documents: exit 2, one
/// located paragraph naming the file, no panic, bounded memory, no output.
#[test]
fn hostile_threshold_quorum_and_witness_files_are_refused_naming_the_file() {
    let dir = TempDir::new().expect("tempdir");
    let ksr = data("root/ksr-root-2017-q2-0.xml");
    let ksr = ksr.to_str().expect("UTF-8 path");
    let out = dir.path().join("out");
    let out = out.to_str().expect("UTF-8 path");
    // A real identity, so that the witness's key file is what is refused.
    let identity = {
        use age::secrecy::ExposeSecret as _;
        let path = dir.path().join("witness.id");
        let id = age::x25519::Identity::generate();
        std::fs::write(&path, format!("{}\n", id.to_string().expose_secret())).expect("id");
        path
    };
    let identity = identity.to_str().expect("UTF-8 path");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.json", Vec::new()),
        ("binary.json", (0u8..=255).cycle().take(4096).collect()),
        (
            "truncated.json",
            br#"{"format":"ceremony-threshold-public/1","algorithm":"#.to_vec(),
        ),
        ("nested.json", vec![b'['; 100_000]),
        ("wrong.json", br#"{"format":"something-else/1"}"#.to_vec()),
    ];
    for (name, bytes) in &cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let file = path.to_str().expect("UTF-8 path");
        let runs = [
            ceremony(&[
                "threshold",
                "combine",
                ksr,
                "--public",
                file,
                "--partials",
                file,
                "--config",
                file,
                "-o",
                out,
            ]),
            ceremony(&[
                "threshold",
                "package",
                ksr,
                "--public",
                file,
                "--commitments",
                file,
                "--config",
                file,
                "-o",
                out,
            ]),
            ceremony(&[
                "quorum",
                "activate",
                "--quorum",
                file,
                "--share",
                file,
                "--identity",
                file,
            ]),
            ceremony(&[
                "transcript",
                "cosign",
                file,
                "--state",
                out,
                "--key-file",
                file,
                "--identity",
                identity,
                "--log-key",
                "ceremony.example/x+00000000+AAAA",
            ]),
        ];
        for run in &runs {
            assert_refused(run, &path, 2, None, &[]);
        }
        assert!(!Path::new(out).exists(), "{name}: an output appeared");
    }
}
