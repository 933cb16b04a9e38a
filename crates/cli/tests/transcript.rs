//! The ceremony's public record through the command line: the demo's
//! transcript verifies; any flipped byte of it, of its checkpoints or of an
//! output file is caught and named; entries cut, swapped or repeated are
//! caught; a witness refuses a split view and an inconsistent checkpoint; and
//! a demo killed at any moment leaves a transcript that verifies as far as it
//! goes, with no output file it does not log.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ceremony_transcript::entry::{CeremonyOpened, DeclaredKey};
use ceremony_transcript::{Event, Log, NewEntry, Signer};
use common::{ceremony, s};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

// ---------------------------------------------------------------------------
// Running the command in this process, for the loops that run it thousands
// of times.

struct TestEnv {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stdin: std::io::Cursor<Vec<u8>>,
}

impl ceremony_cli::Env for TestEnv {
    fn stdout(&mut self) -> &mut dyn std::io::Write {
        &mut self.stdout
    }
    fn stderr(&mut self) -> &mut dyn std::io::Write {
        &mut self.stderr
    }
    fn stdin(&mut self) -> &mut dyn std::io::Read {
        &mut self.stdin
    }
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// Runs `ceremony args` in this process: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (ExitCode, String, String) {
    let mut env = TestEnv {
        stdout: Vec::new(),
        stderr: Vec::new(),
        stdin: std::io::Cursor::new(Vec::new()),
    };
    let code = ceremony_cli::run(
        std::iter::once("ceremony").chain(args.iter().copied()),
        &mut env,
    );
    (
        code,
        String::from_utf8_lossy(&env.stdout).into_owned(),
        String::from_utf8_lossy(&env.stderr).into_owned(),
    )
}

fn exit(code: u8) -> ExitCode {
    ExitCode::from(code)
}

/// `transcript verify DIR extra…` in this process.
fn verify(dir: &Path, extra: &[&str]) -> (ExitCode, String, String) {
    let mut args = vec!["transcript", "verify", s(dir)];
    args.extend_from_slice(extra);
    run(&args)
}

// ---------------------------------------------------------------------------
// One demo, run once, copied for each test that alters it.

struct Demo {
    dir: PathBuf,
    log_key: String,
    witness_key: String,
    duration: Duration,
}

/// The demo's directory, made once per test binary.
fn demo() -> &'static Demo {
    static DEMO: OnceLock<(tempfile::TempDir, Demo)> = OnceLock::new();
    &DEMO
        .get_or_init(|| {
            let tmp = tempfile::tempdir().expect("tempdir");
            let dir = tmp.path().join("demo");
            let started = Instant::now();
            // The keystore KSK: the threshold demo's safe primes would make each of the many runs below seconds longer.
            let out = ceremony(&["demo", "--key", "keystore", "--dir", s(&dir)]);
            let duration = started.elapsed();
            out.expect_code(0);
            // The command the demo prints for checking it again names both keys.
            let line = out
                .stdout
                .lines()
                .find(|l| l.trim_start().starts_with("ceremony transcript verify "))
                .expect("the demo says how to verify");
            let word = |flag: &str| {
                let mut words = line.split_whitespace();
                words.find(|w| *w == flag).expect(flag);
                words.next().expect("a key").to_owned()
            };
            let demo = Demo {
                log_key: word("--log-key"),
                witness_key: word("--witness-key"),
                dir,
                duration,
            };
            (tmp, demo)
        })
        .1
}

/// A copy of the demo's directory to alter.
fn copy_demo(to: &Path) -> PathBuf {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for item in std::fs::read_dir(from).expect("read_dir") {
            let item = item.expect("item");
            let target = to.join(item.file_name());
            if item.file_type().expect("type").is_dir() {
                copy(&item.path(), &target);
            } else {
                std::fs::copy(item.path(), target).expect("copy");
            }
        }
    }
    let dir = to.join("demo");
    copy(&demo().dir, &dir);
    dir
}

/// The end offset of each record in `entries`, from the index.
fn record_ends(index: &[u8]) -> Vec<usize> {
    index
        .chunks(82)
        .map(|line| {
            usize::from_str_radix(std::str::from_utf8(&line[..16]).expect("hex"), 16)
                .expect("offset")
        })
        .collect()
}

/// Output files and the entry that logged each, from the JSON report.
fn logged_files(json: &Value) -> Vec<(String, u64, String)> {
    json["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["name"].as_str().expect("name").to_owned(),
                f["entry"].as_u64().expect("entry"),
                f["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------

#[test]
fn the_demo_transcript_verifies_with_its_keys_and_proves_its_entries() {
    let d = demo();
    let (code, out, err) = verify(
        &d.dir,
        &["--log-key", &d.log_key, "--witness-key", &d.witness_key],
    );
    assert_eq!(code, ExitCode::SUCCESS, "{out}{err}");
    for words in [
        "Result: VERIFIED",
        "closed",
        "the story holds",
        "ok          skr.xml",
        "ok          ksr.xml",
        "ok          root-anchors.xml",
        "ok          KSK-DEMO.dnskey",
        "cosigned by witness.demo/w1",
    ] {
        assert!(out.contains(words), "{words:?} missing from\n{out}");
    }
    // Without keys: the transcript's own declaration, said as such.
    let (code, out, _) = verify(&d.dir, &[]);
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(out.contains("as the transcript declares it"), "{out}");
    let (code, json, _) = verify(&d.dir, &["--json"]);
    assert_eq!(code, ExitCode::SUCCESS);
    let json: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(json["ok"], true);
    assert_eq!(json["status"], "closed");
    assert_eq!(json["log_key_source"], "declared");
    assert_eq!(json["root"]["words"].as_array().expect("words").len(), 32);
    let size = json["size"].as_u64().expect("size");
    assert_eq!(json["signed_size"].as_u64(), Some(size));
    assert!(logged_files(&json)
        .iter()
        .all(|(_, _, status)| status == "ok"));

    // Another log key: entry 0 declares a different one.
    let other = Signer::from_seed("ceremony/demo/other", &[7; 32])
        .expect("key")
        .verifier_key()
        .to_string();
    let (code, _, err) = verify(&d.dir, &["--log-key", &other]);
    assert_eq!(code, exit(1), "{err}");
    assert!(err.contains("entry 0:"), "{err}");
    // A malformed key is a usage error.
    let (code, _, _) = verify(&d.dir, &["--log-key", "not-a-key"]);
    assert_eq!(code, exit(2));
    let (code, _, _) = verify(&d.dir.join("keystore"), &[]);
    assert_eq!(code, exit(2));

    // Every entry's inclusion proof verifies with the log key alone.
    let tmp = tempfile::tempdir().expect("tmp");
    for entry in 0..size {
        let n = entry.to_string();
        let (code, proof, err) = run(&["transcript", "prove", s(&d.dir), "--entry", &n]);
        assert_eq!(code, ExitCode::SUCCESS, "{err}");
        assert!(
            proof.starts_with("c2sp.org/tlog-proof@v1\nextra "),
            "{proof}"
        );
        let file = tmp.path().join(format!("entry-{entry}.proof"));
        std::fs::write(&file, &proof).expect("write");
        let (code, out, err) = run(&[
            "transcript",
            "verify-proof",
            s(&file),
            "--log-key",
            &d.log_key,
            "--witness-key",
            &d.witness_key,
        ]);
        assert_eq!(code, ExitCode::SUCCESS, "{err}");
        assert!(out.starts_with(&format!("Entry {entry} is in ")), "{out}");
        assert!(out.contains("cosigned by witness.demo/w1"), "{out}");
        // The same proof with its entry changed does not.
        let tampered = proof.replacen("extra eyJ", "extra eyK", 1);
        std::fs::write(&file, tampered).expect("write");
        let (code, _, err) = run(&[
            "transcript",
            "verify-proof",
            s(&file),
            "--log-key",
            &d.log_key,
        ]);
        assert_ne!(code, ExitCode::SUCCESS, "entry {entry}: {err}");
    }
    let (code, _, _) = run(&[
        "transcript",
        "prove",
        s(&d.dir),
        "--entry",
        &size.to_string(),
    ]);
    assert_eq!(code, exit(2));

    // Consistency between every pair of checkpoints, checked from the older one.
    let checkpoints: Vec<(u64, PathBuf)> = json["checkpoints"]
        .as_array()
        .expect("checkpoints")
        .iter()
        .map(|c| {
            (
                c["size"].as_u64().expect("size"),
                d.dir
                    .join("transcript/checkpoints")
                    .join(c["file"].as_str().expect("file")),
            )
        })
        .collect();
    for (old, old_file) in &checkpoints {
        for (new, _) in checkpoints.iter().filter(|(n, _)| n >= old) {
            let (code, body, err) = run(&[
                "transcript",
                "prove",
                s(&d.dir),
                "--consistency",
                &old.to_string(),
                &new.to_string(),
            ]);
            assert_eq!(code, ExitCode::SUCCESS, "{err}");
            assert!(body.starts_with(&format!("old {old}\n")));
            let file = tmp.path().join(format!("{old}-{new}.proof"));
            std::fs::write(&file, &body).expect("write");
            let (code, out, err) = run(&[
                "transcript",
                "verify-proof",
                s(&file),
                "--log-key",
                &d.log_key,
                "--checkpoint",
                s(old_file),
            ]);
            assert_eq!(code, ExitCode::SUCCESS, "{old}->{new}: {err}");
            assert!(out.contains("consistent"), "{out}");
            // Against another trusted checkpoint, it fails.
            if let Some((_, wrong)) = checkpoints.iter().find(|(n, _)| n != old && n <= new) {
                let (code, _, err) = run(&[
                    "transcript",
                    "verify-proof",
                    s(&file),
                    "--log-key",
                    &d.log_key,
                    "--checkpoint",
                    s(wrong),
                ]);
                assert_eq!(code, exit(1), "{old}->{new} against another: {err}");
            }
        }
    }
}

/// How a flip is verified.
#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    /// `transcript verify` run in this process: the whole audit.
    InProcess,
    /// The library's output-file check, which `transcript verify` runs,
    /// against the transcript verified once: for the output files, whose
    /// flips leave the transcript as it was.
    Outputs,
    /// The real binary, for its exit code and message.
    Spawn,
}

/// One flipped byte and what verify must say about it.
struct Flip {
    /// The file, relative to the ceremony directory.
    file: String,
    at: usize,
    /// What the error must contain: the entry, or the checkpoint, named.
    names: String,
    how: How,
}

#[test]
fn any_flipped_byte_of_the_transcript_or_an_output_is_caught_and_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = copy_demo(tmp.path());
    let tdir = dir.join("transcript");
    let (code, json, _) = verify(&dir, &["--json"]);
    assert_eq!(code, ExitCode::SUCCESS);
    let json: Value = serde_json::from_str(&json).expect("json");
    let mut flips = Vec::new();

    // Entries and index: every byte; each flip names the entry it is in.
    let index = std::fs::read(tdir.join("index")).expect("index");
    let ends = record_ends(&index);
    let entries_len = std::fs::read(tdir.join("entries")).expect("entries").len();
    assert_eq!(*ends.last().expect("entries"), entries_len);
    for at in 0..entries_len {
        let entry = ends.iter().position(|&end| at < end).expect("in a record");
        flips.push(Flip {
            file: "transcript/entries".to_owned(),
            at,
            names: format!("entry {entry}:"),
            how: How::InProcess,
        });
    }
    for at in 0..index.len() {
        flips.push(Flip {
            file: "transcript/index".to_owned(),
            at,
            names: format!("entry {}:", at / 82),
            how: How::InProcess,
        });
    }
    // Checkpoints: every byte; each flip names the checkpoint.
    for c in json["checkpoints"].as_array().expect("checkpoints") {
        let name = c["file"].as_str().expect("file");
        let file = format!("transcript/checkpoints/{name}");
        let len = std::fs::read(dir.join(&file)).expect("read").len();
        for at in 0..len {
            flips.push(Flip {
                file: file.clone(),
                at,
                names: format!("checkpoint {name}:"),
                how: How::InProcess,
            });
        }
    }
    // Output files: every byte; each flip names the file and the entry that
    // logged it. The library check covers every byte; the real binary
    // checks the first, the last and every 997th, for its exit code and
    // message.
    let files = logged_files(&json);
    assert_eq!(files.len(), 4, "{files:?}");
    let mut output_bytes = 0;
    for (name, entry, _) in &files {
        let len = std::fs::read(dir.join(name)).expect("read").len();
        output_bytes += len;
        for at in 0..len {
            let names = format!("entry {entry}: {name} has SHA-256");
            flips.push(Flip {
                file: name.clone(),
                at,
                names: names.clone(),
                how: How::Outputs,
            });
            if at == 0 || at == len - 1 || at % 997 == 0 {
                flips.push(Flip {
                    file: name.clone(),
                    at,
                    names,
                    how: How::Spawn,
                });
            }
        }
    }
    // The transcript, verified once with the demo's keys, for the output checks.
    let d = demo();
    let timeline = ceremony_transcript::verify_dir(
        &tdir,
        &d.log_key.parse().expect("log key"),
        &[d.witness_key.parse().expect("witness key")],
    )
    .expect("the demo verifies");
    let timeline = &timeline;

    // Each thread flips in its own copy of the ceremony: one bit of one
    // byte (a different bit for each byte), verify, restore.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    // Flips are dealt round-robin, so that each thread gets its share of
    // the slow kinds. The time spent in each kind of check is reported.
    let spent: [std::sync::atomic::AtomicU64; 3] = Default::default();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let copy = copy_demo(&tmp.path().join(format!("thread-{t}")));
            let flips = &flips;
            let spent = &spent;
            scope.spawn(move || {
                // Each flip rewrites one byte in place and puts it back: the
                // files are read once, and no flip rewrites a whole file.
                let mut originals = std::collections::HashMap::new();
                for flip in flips.iter().skip(t).step_by(threads) {
                    use std::os::unix::fs::FileExt as _;
                    let path = copy.join(&flip.file);
                    let original = originals
                        .entry(flip.file.as_str())
                        .or_insert_with(|| std::fs::read(&path).expect("read"))[flip.at];
                    let file = std::fs::OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .expect("open");
                    file.write_all_at(&[original ^ (1 << (flip.at % 8))], flip.at as u64)
                        .expect("flip");
                    let started = Instant::now();
                    let (code, err) = match flip.how {
                        How::InProcess => {
                            let (code, _, err) = verify(&copy, &[]);
                            (code, err)
                        }
                        How::Outputs => {
                            let checks = ceremony_transcript::check_outputs(&copy, timeline)
                                .expect("outputs readable");
                            let problems: Vec<String> = checks
                                .iter()
                                .filter_map(|c| {
                                    c.problem().map(|p| format!("entry {}: {p}", c.entry))
                                })
                                .collect();
                            // Exactly the flipped file fails.
                            assert_eq!(problems.len(), 1, "{problems:?}");
                            (exit(1), problems.join("\n"))
                        }
                        How::Spawn => {
                            let run = ceremony(&["transcript", "verify", s(&copy)]);
                            (exit(run.code as u8), run.stderr)
                        }
                    };
                    spent[flip.how as usize].fetch_add(
                        started.elapsed().as_micros() as u64,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    file.write_all_at(&[original], flip.at as u64)
                        .expect("restore");
                    assert_eq!(code, exit(1), "{} byte {}: {err}", flip.file, flip.at);
                    assert!(
                        err.contains(&flip.names),
                        "{} byte {}: expected {:?} named: {err}",
                        flip.file,
                        flip.at,
                        flip.names
                    );
                }
                // Each flip was undone: the copy verifies again.
                assert_eq!(verify(&copy, &[]).0, ExitCode::SUCCESS);
            });
        }
    });
    let count = |how| flips.iter().filter(|f| f.how == how).count();
    assert_eq!(count(How::Outputs), output_bytes);
    eprintln!(
        "{} flipped bytes ({} of entries, {} of index, {} of checkpoints, {} of output files, {} of them also through the binary), each caught and named",
        flips.len() - count(How::Spawn),
        entries_len,
        index.len(),
        flips.iter().filter(|f| f.file.starts_with("transcript/checkpoints/")).count(),
        output_bytes,
        count(How::Spawn)
    );
    eprintln!(
        "thread time: {} ms in process, {} ms output checks, {} ms spawned",
        spent[How::InProcess as usize].load(std::sync::atomic::Ordering::Relaxed) / 1000,
        spent[How::Outputs as usize].load(std::sync::atomic::Ordering::Relaxed) / 1000,
        spent[How::Spawn as usize].load(std::sync::atomic::Ordering::Relaxed) / 1000
    );
}

/// Rewrites `entries` and `index` consistently from a list of records, as an
/// attacker who knows the format would: every offset and leaf hash right.
fn rewrite(tdir: &Path, records: &[Vec<u8>]) {
    let mut data = Vec::new();
    let mut index = String::new();
    for json in records {
        data.extend_from_slice(format!("{} ", json.len()).as_bytes());
        data.extend_from_slice(json);
        data.push(b'\n');
        let leaf: [u8; 32] = Sha256::new()
            .chain_update([0u8])
            .chain_update(json)
            .finalize()
            .into();
        index.push_str(&format!("{:016x} {}\n", data.len(), hex(&leaf)));
    }
    std::fs::write(tdir.join("entries"), data).expect("entries");
    std::fs::write(tdir.join("index"), index).expect("index");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The JSON of each record in `entries`.
fn records(tdir: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(tdir.join("entries")).expect("entries");
    let index = std::fs::read(tdir.join("index")).expect("index");
    let mut start = 0;
    record_ends(&index)
        .into_iter()
        .map(|end| {
            let record = &data[start..end - 1];
            start = end;
            let space = record.iter().position(|&b| b == b' ').expect("length");
            record[space + 1..].to_vec()
        })
        .collect()
}

#[test]
fn entries_cut_swapped_or_repeated_are_caught_even_when_the_index_is_rewritten() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = copy_demo(tmp.path());
    let tdir = dir.join("transcript");
    let pristine = records(&tdir);
    let n = pristine.len();
    let restore = || rewrite(&tdir, &pristine);
    restore();
    assert_eq!(
        verify(&dir, &[]).0,
        ExitCode::SUCCESS,
        "the rewrite itself is exact"
    );

    let expect_entry = |what: &str, entry: usize| {
        let (code, _, err) = verify(&dir, &[]);
        assert_eq!(code, exit(1), "{what}: {err}");
        assert!(
            err.contains(&format!("entry {entry}:")),
            "{what}: expected entry {entry} named: {err}"
        );
    };
    for k in 1..n - 1 {
        let mut cut = pristine.clone();
        cut.remove(k);
        rewrite(&tdir, &cut);
        expect_entry(&format!("entry {k} removed"), k);
    }
    // The last entry removed: every entry left is in place, but the last
    // checkpoint signs one more than there are.
    rewrite(&tdir, &pristine[..n - 1]);
    let (code, _, err) = verify(&dir, &[]);
    assert_eq!(code, exit(1), "{err}");
    assert!(
        err.contains(&format!(
            "checkpoint {n:08}.checkpoint: it signs {n} entries; the transcript holds {}",
            n - 1
        )),
        "{err}"
    );
    for k in 1..n - 1 {
        let mut swapped = pristine.clone();
        swapped.swap(k, k + 1);
        rewrite(&tdir, &swapped);
        expect_entry(&format!("entries {k} and {} swapped", k + 1), k);
    }
    for k in 0..n {
        let mut twice = pristine.clone();
        twice.insert(k + 1, pristine[k].clone());
        rewrite(&tdir, &twice);
        expect_entry(&format!("entry {k} repeated"), k + 1);
    }
    // Entry 0 removed: the first entry must open the ceremony.
    rewrite(&tdir, &pristine[1..]);
    expect_entry("entry 0 removed", 0);
    // Removed with the index left alone: the records no longer line up.
    restore();
    let data = std::fs::read(tdir.join("entries")).expect("entries");
    let ends = record_ends(&std::fs::read(tdir.join("index")).expect("index"));
    let k = n / 2;
    let mut cut = data[..ends[k - 1]].to_vec();
    cut.extend_from_slice(&data[ends[k]..]);
    std::fs::write(tdir.join("entries"), cut).expect("write");
    expect_entry("a record cut out of entries", k);

    // The tail cut at a checkpoint: a consistent prefix, but not closed.
    restore();
    let signed_before_close = n - 1;
    rewrite(&tdir, &pristine[..signed_before_close]);
    let last = tdir.join("checkpoints").join(format!("{n:08}.checkpoint"));
    let kept = std::fs::read(&last).expect("last checkpoint");
    std::fs::remove_file(&last).expect("rm");
    expect_entry("the close cut off", signed_before_close);
    let (code, out, err) = verify(&dir, &["--allow-open"]);
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    assert!(out.contains("the ceremony is not closed"), "{out}");
    std::fs::write(&last, kept).expect("put back");
    restore();

    // An output file removed or replaced: named with its entry.
    let (_, json, _) = verify(&dir, &["--json"]);
    let json: Value = serde_json::from_str(&json).expect("json");
    for (name, entry, _) in logged_files(&json) {
        let file = dir.join(&name);
        let kept = std::fs::read(&file).expect("read");
        std::fs::remove_file(&file).expect("rm");
        let (code, _, err) = verify(&dir, &[]);
        assert_eq!(code, exit(1), "{name} removed: {err}");
        assert!(
            err.contains(&format!("entry {entry}: {name} is missing")),
            "{err}"
        );
        // Missing under a checkpoint is tampering even for an open ceremony.
        let (code, _, err) = verify(&dir, &["--allow-open"]);
        assert_eq!(code, exit(1), "{name} removed, --allow-open: {err}");
        std::fs::write(&file, kept).expect("restore");
    }
    assert_eq!(verify(&dir, &[]).0, ExitCode::SUCCESS);
}

// ---------------------------------------------------------------------------
// The witness, offline.

const ORIGIN: &str = "ceremony.example/witness-test";

/// A log of `size` entries in `dir`, signed with the fixed test seed: `tag`
/// makes the entries (and so the roots) differ between two such logs.
fn test_log(dir: &Path, size: usize, tag: &str) -> Log {
    let signer = Signer::from_seed(ORIGIN, &[9; 32]).expect("signer");
    let log_key = signer.verifier_key();
    let mut log = Log::create(dir, signer).expect("create");
    let now = jiff::Timestamp::from_second(1_790_863_200).expect("time");
    let mut batch = vec![NewEntry::new(
        now,
        "ca",
        Event::CeremonyOpened(CeremonyOpened {
            origin: ORIGIN.to_owned(),
            script: format!("witness test {tag}"),
            log_key,
            keys: Vec::<DeclaredKey>::new(),
            approvals: 0,
        }),
    )];
    for i in 1..size {
        batch.push(NewEntry::new(
            now,
            "ca",
            Event::ActStarted(ceremony_transcript::entry::ActStarted {
                act: i.to_string(),
                title: tag.to_owned(),
            }),
        ));
    }
    log.append_batch(batch).expect("append");
    log.checkpoint().expect("checkpoint");
    log
}

fn grow(log: &mut Log, to: usize, tag: &str) {
    let now = jiff::Timestamp::from_second(1_790_863_200).expect("time");
    let from = log.size() as usize;
    let batch = (from..to)
        .map(|i| {
            NewEntry::new(
                now,
                "ca",
                Event::ActStarted(ceremony_transcript::entry::ActStarted {
                    act: format!("{tag}{i}"),
                    title: tag.to_owned(),
                }),
            )
        })
        .collect();
    log.append_batch(batch).expect("append");
    log.checkpoint().expect("checkpoint");
}

#[test]
fn the_witness_cosigns_a_consistent_history_and_refuses_any_other() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key_file = tmp.path().join("witness.key");
    let state = tmp.path().join("state");
    let (identity, recipient) = common::age_identity(tmp.path(), "witness.id");
    let gen = ceremony(&[
        "transcript",
        "witness-keygen",
        "witness.example/w1",
        "--key-file",
        s(&key_file),
        "--recipient",
        &recipient,
    ]);
    gen.expect_code(0);
    // Only age ciphertext is on the disk, readable by the owner alone.
    let stored = std::fs::read_to_string(&key_file).expect("key file");
    assert!(
        stored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"),
        "{stored}"
    );
    assert!(
        !stored.contains("PRIVATE+KEY"),
        "the witness key is in the clear"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let witness_key = gen.stdout.trim().to_owned();
    assert!(
        witness_key.starts_with("witness.example/w1+"),
        "{witness_key}"
    );
    // Never overwritten.
    ceremony(&[
        "transcript",
        "witness-keygen",
        "witness.example/w1",
        "--key-file",
        s(&key_file),
        "--recipient",
        &recipient,
    ])
    .expect_code(2);

    // Another identity cannot open the key file.
    let (stranger_id, _) = common::age_identity(tmp.path(), "stranger.id");
    ceremony(&[
        "transcript",
        "cosign",
        "--state",
        s(&state),
        "--key-file",
        s(&key_file),
        "--identity",
        s(&stranger_id),
        "--log-key",
        "ceremony.example/x+00000000+AAAA",
        "-",
    ])
    .expect_code(2)
    .expect_stderr(&["witness.key: cannot decrypt"]);

    let mut a = test_log(&tmp.path().join("a"), 3, "a");
    let mut b = test_log(&tmp.path().join("b"), 3, "b");
    let log_key = a.verifier_key().to_string();
    assert_ne!(a.root(), b.root());
    let request = |name: &str, text: String| {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let cosign = |req: &Path| {
        run(&[
            "transcript",
            "cosign",
            "--state",
            s(&state),
            "--key-file",
            s(&key_file),
            "--identity",
            s(&identity),
            "--log-key",
            &log_key,
            s(req),
        ])
    };

    // Log A at 3: cosigned; the lines verify and go into A's checkpoint.
    let a3 = request("a3", a.witness_request(0).expect("request").to_string());
    let (code, lines, err) = cosign(&a3);
    assert_eq!(code, ExitCode::SUCCESS, "{err}");
    assert!(lines.starts_with("— witness.example/w1 "), "{lines}");
    let witness: ceremony_transcript::VerifierKey = witness_key.parse().expect("key");
    assert_eq!(a.add_cosignatures(3, &lines, &[witness]).expect("add"), 1);

    // A split view: B's checkpoint of the same size, another root.
    let b3 = request("b3", b.witness_request(3).expect("request").to_string());
    let (code, _, err) = cosign(&b3);
    assert_eq!(code, exit(1), "{err}");
    assert!(err.contains("422") && err.contains("split view"), "{err}");

    // An inconsistent checkpoint: B grown to 5, with B's proof from 3.
    grow(&mut b, 5, "b");
    let b5 = request("b5", b.witness_request(3).expect("request").to_string());
    let (code, _, err) = cosign(&b5);
    assert_eq!(code, exit(1), "{err}");
    assert!(
        err.contains("422") && err.contains("consistency proof"),
        "{err}"
    );

    // A grown to 5 is consistent: cosigned.
    grow(&mut a, 5, "a");
    let a5 = request("a5", a.witness_request(3).expect("request").to_string());
    assert_eq!(cosign(&a5).0, ExitCode::SUCCESS);

    // The other answers: a stale old size (409, with the latest size), an
    // unknown origin (404), a checkpoint not signed by the log (403), a
    // malformed body (400).
    let (code, _, err) = cosign(&a3);
    assert_eq!(code, exit(1));
    assert!(
        err.contains("409") && err.contains("text/x.tlog.size: 5"),
        "{err}"
    );
    let other_key = Signer::from_seed(ORIGIN, &[8; 32])
        .expect("signer")
        .verifier_key()
        .to_string();
    let (code, _, err) = run(&[
        "transcript",
        "cosign",
        "--state",
        s(&state),
        "--key-file",
        s(&key_file),
        "--identity",
        s(&identity),
        "--log-key",
        &other_key,
        s(&a5),
    ]);
    assert_eq!(code, exit(1));
    assert!(err.contains("403"), "{err}");
    let stranger = Signer::from_seed("ceremony.example/other", &[9; 32])
        .expect("signer")
        .verifier_key()
        .to_string();
    let (code, _, err) = run(&[
        "transcript",
        "cosign",
        "--state",
        s(&state),
        "--key-file",
        s(&key_file),
        "--identity",
        s(&identity),
        "--log-key",
        &stranger,
        s(&a5),
    ]);
    assert_eq!(code, exit(2));
    assert!(err.contains("404"), "{err}");
    let junk = request("junk", "old x\n\nnot a checkpoint\n".to_owned());
    let (code, _, err) = cosign(&junk);
    assert_eq!(code, exit(2));
    assert!(err.contains("400"), "{err}");

    // The request from standard input, and the JSON answer.
    let body = std::fs::read(&a5).expect("read");
    let out = common::ceremony_with(
        &[
            "transcript",
            "cosign",
            "--json",
            "--state",
            s(&state),
            "--key-file",
            s(&key_file),
            "--identity",
            s(&identity),
            "--log-key",
            &log_key,
            "-",
        ],
        Some(&body),
        &[],
    );
    out.expect_code(1);
    assert_eq!(out.json()["status"], 409);
}

// ---------------------------------------------------------------------------
// Crash safety.

/// A small xorshift generator: the seed is printed, so a failing run repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// The output files a demo writes (outside keystore/, witness/ and transcript/).
fn outputs(dir: &Path) -> Vec<String> {
    let Ok(items) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = items
        .flatten()
        .filter(|i| i.file_type().is_ok_and(|t| t.is_file()))
        .map(|i| i.file_name().to_string_lossy().into_owned())
        // An interrupted write's temporary file is hidden, and never an output.
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// When to send SIGKILL to a demo.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// After this long.
    After(Duration),
    /// This long after its transcript holds this many entries.
    AfterEntries(u64, Duration),
}

/// Runs a demo into `dir`, kills it (SIGKILL) as `kill` says, and checks
/// what it left; returns what state it was left in.
fn kill_demo(dir: &Path, kill: Kill, what: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args(["demo", "--key", "keystore", "--dir", s(dir)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    match kill {
        Kill::After(delay) => std::thread::sleep(delay),
        Kill::AfterEntries(entries, delay) => {
            let index = dir.join("transcript/index");
            let deadline = Instant::now() + Duration::from_secs(120);
            while std::fs::metadata(&index).map_or(0, |m| m.len()) < entries * 82
                && Instant::now() < deadline
                && child.try_wait().expect("try_wait").is_none()
            {
                std::thread::sleep(Duration::from_micros(500));
            }
            std::thread::sleep(delay);
        }
    }
    let _ = child.kill(); // SIGKILL
    let status = child.wait().expect("wait");

    let written = outputs(dir);
    if !dir.join("transcript/index").exists() {
        // Killed before the transcript existed: nothing was written.
        assert!(
            written.is_empty(),
            "{what}: {written:?} without a transcript"
        );
        return "killed before the transcript existed".to_owned();
    }
    let (code, out, err) = verify(dir, &["--allow-open", "--json"]);
    assert_eq!(code, ExitCode::SUCCESS, "{what}: {out}{err}");
    let json: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["ok"], true, "{what}: {json}");
    if json["status"] == "empty" {
        assert!(
            written.is_empty(),
            "{what}: {written:?} before the first entry"
        );
        return "killed before the first entry".to_owned();
    }
    // Every output file in the directory is logged, and matches.
    let logged = logged_files(&json);
    for name in &written {
        assert!(
            logged
                .iter()
                .any(|(n, _, status)| n == name && status == "ok"),
            "{what}: {name} is not logged as written: {logged:?}"
        );
    }
    // Strictly, only a finished ceremony verifies.
    let finished = json["status"] == "closed" && json["signed_size"] == json["size"];
    assert_eq!(
        verify(dir, &[]).0 == ExitCode::SUCCESS,
        finished,
        "{what}: strict verify"
    );
    if finished {
        // The kill may come after the close, before the process exits.
        assert!(status.code().is_none_or(|c| c == 0), "{what}: {status}");
        "finished".to_owned()
    } else if logged.iter().any(|(_, _, s)| s == "interrupted") {
        "killed between logging a file and renaming it".to_owned()
    } else if json["recovery"]["truncated_bytes"] != 0
        || json["recovery"]["index_truncated_bytes"] != 0
    {
        "killed inside an append".to_owned()
    } else if json["status"] == "closed" {
        "killed between the close and its checkpoint".to_owned()
    } else if json["signed_size"] == json["size"] {
        format!("open at {} entries, all signed", json["size"])
    } else {
        format!(
            "open at {} entries, {} signed",
            json["size"], json["signed_size"]
        )
    }
}

#[test]
fn a_demo_killed_at_any_moment_leaves_a_valid_prefix_and_no_unlogged_output() {
    // 50 kills after a random delay within the demo's duration; most land in
    // key generation, so one more per entry of a finished transcript lands
    // just after that entry is committed, with a random delay of up to 10 ms.
    const RUNS: u64 = 50;
    let seed = std::env::var("CEREMONY_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("CEREMONY_KILL_SEED={seed}");
    let mut rng = Rng(seed);
    let span = demo().duration.as_micros() as u64;
    let entries = std::fs::metadata(demo().dir.join("transcript/index"))
        .expect("index")
        .len()
        / 82;
    let mut kills: Vec<Kill> = (0..RUNS)
        .map(|_| Kill::After(Duration::from_micros(rng.next() % (span + 1))))
        .collect();
    for entry in 1..=entries {
        kills.push(Kill::AfterEntries(
            entry,
            Duration::from_micros(rng.next() % 10_000),
        ));
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let outcomes = std::sync::Mutex::new(std::collections::BTreeMap::<String, u32>::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Two demos at a time: a kill is timed against its own demo's progress.
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&kill) = kills.get(i) else {
                    break;
                };
                let what = format!("run {i} (CEREMONY_KILL_SEED={seed}), {kill:?}");
                let outcome = kill_demo(&tmp.path().join(format!("run-{i}")), kill, &what);
                *outcomes.lock().expect("lock").entry(outcome).or_default() += 1;
            });
        }
    });
    eprintln!(
        "{} demos killed: {:#?}",
        kills.len(),
        outcomes.into_inner().expect("lock")
    );
}

#[test]
fn sign_records_its_ceremony_and_closes_it_on_refusal() {
    let tmp = tempfile::tempdir().expect("tmp");
    let config = tmp.path().join("keystore.toml");
    std::fs::write(
        &config,
        format!(
            "[keystore]\ndir = \"keys\"\npassphrase_file = \"passphrase\"\nwork_factor = 10\n\n{}",
            std::fs::read_to_string(common::repo("testdata/signer/legacy.toml"))
                .expect("legacy.toml")
        ),
    )
    .expect("config");
    std::fs::write(
        tmp.path().join("passphrase"),
        "correct horse battery staple\n",
    )
    .expect("passphrase");
    ceremony(&[
        "key",
        "import",
        "KSK1",
        "--pem",
        s(&common::data("legacy/ksk1.pem")),
        "--config",
        s(&config),
    ])
    .expect_code(0);
    let ksr = common::data("legacy/ksr-2009-q4-2.xml");
    let sign = |dir: &Path, output: &Path, now: &str| {
        ceremony(&[
            "sign",
            s(&ksr),
            "--config",
            s(&config),
            "-o",
            s(output),
            "--yes",
            "--now",
            now,
            "--ceremony",
            s(dir),
        ])
    };

    // Signed: the SKR beside the transcript, which verifies.
    let kc = tmp.path().join("KC-2009-Q4");
    let run = sign(&kc, &kc.join("skr.xml"), "2009-10-20T00:00:00Z");
    run.expect_code(0).expect_stderr(&[
        "Recording this ceremony in",
        "Check it with: ceremony transcript verify",
    ]);
    let log_key = run
        .stderr
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .skip_while(|w| *w != "--log-key")
                .nth(1)
        })
        .expect("the log key")
        .to_owned();
    let (code, out, err) = verify(&kc, &["--log-key", &log_key]);
    assert_eq!(code, ExitCode::SUCCESS, "{out}{err}");
    for words in [
        "ksk KSK1 257 3 8",
        "act 2: The KSR is checked",
        "signature for bundle",
        "ok          skr.xml",
        "ceremony closed",
    ] {
        assert!(out.contains(words), "{words:?} missing from\n{out}");
    }

    // Refused (judged in 2011 the KSR has expired): closed, with the failed
    // checks and neither signature nor SKR; the story holds.
    let late = tmp.path().join("KC-late");
    sign(&late, &late.join("skr.xml"), "2011-01-01T00:00:00Z").expect_code(1);
    assert!(!late.join("skr.xml").exists());
    let (code, out, err) = verify(&late, &[]);
    assert_eq!(code, ExitCode::SUCCESS, "{out}{err}");
    assert!(
        out.contains("FAILED KSR-")
            && out.contains("ceremony closed")
            && !out.contains("signature for"),
        "{out}"
    );

    // An SKR outside the ceremony directory: refused before anything is recorded.
    let outside = tmp.path().join("KC-outside");
    sign(
        &outside,
        &tmp.path().join("skr.xml"),
        "2009-10-20T00:00:00Z",
    )
    .expect_code(2)
    .expect_stderr(&["beside its transcript"]);
    assert!(!outside.join("transcript").exists());
    // A directory that already holds a ceremony is refused.
    sign(&kc, &kc.join("skr-2.xml"), "2009-10-20T00:00:00Z")
        .expect_code(2)
        .expect_stderr(&["already recorded"]);
    assert!(!kc.join("skr-2.xml").exists());
}
