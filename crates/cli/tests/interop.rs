//! Knot DNS and BIND 9 offline-KSK interoperability, proven against the real
//! programs: their zone-operator side writes the KSR, `ceremony sign` answers
//! it through the binary, and their side imports the SKR, signs a zone with
//! it, and that zone passes their own checkers and an independent one.
//!
//! * Knot DNS 3.2: `keymgr generate-ksr` → `ceremony sign` → `keymgr
//!   import-skr` (exit code checked) → `kzonesign` → `kzonecheck -d on` and
//!   `ldns-verify-zone -k <our DS>`; one changed signature byte in our SKR
//!   makes `import-skr` fail.
//! * BIND 9.20: `dnssec-ksr request` → `ceremony sign` → the bundle in force
//!   now, with its KSK signatures, goes into the zone, `dnssec-signzone -x`
//!   signs it with the ZSK alone, and `dnssec-verify` passes.
//!
//! The programs come from `scripts/interop-setup` (which `scripts/test`
//! runs); without them these tests fail and say so, unless
//! `CEREMONY_SKIP_INTEROP` is set.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{ceremony, hsm_toml, s, Run, SoftHsm};

/// Whether every program is installed; panics when one is missing, unless
/// `CEREMONY_SKIP_INTEROP` is set, in which case the test is skipped.
fn peers(programs: &[&str]) -> bool {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {p}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CEREMONY_SKIP_INTEROP").is_some() {
        eprintln!("skipped: {missing:?} not installed and CEREMONY_SKIP_INTEROP is set");
        return false;
    }
    panic!("{missing:?} not installed: run scripts/interop-setup (or set CEREMONY_SKIP_INTEROP=1)");
}

/// Runs a program in `dir`.
fn exec(dir: &Path, program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn shown(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a program in `dir` and returns its stdout; panics unless it exits 0.
#[track_caller]
fn ok(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = exec(dir, program, args);
    assert!(out.status.success(), "{program} {args:?}: {}", shown(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path.to_owned()
}

/// A KSK `KSK-TEXT` (RSA-2048) generated in a keystore in `dir`, and the config naming it.
fn keystore_ksk(dir: &Path) -> PathBuf {
    write(&dir.join("passphrase"), "interop test passphrase\n");
    let config = write(
        &dir.join("keystore.toml"),
        "[keystore]\ndir = \"keys\"\npassphrase_file = \"passphrase\"\nwork_factor = 10\n\n\
         [keys.ksk]\nlabel = \"KSK-TEXT\"\nalgorithm = \"RSASHA256\"\nrsa_size = 2048\n\
         valid_from = \"2020-01-01T00:00:00Z\"\n",
    );
    ceremony(&["key", "generate", "KSK-TEXT", "--config", s(&config)]).expect_code(0);
    config
}

/// The test key RSA1 (tag 25486) in a SoftHSM2 token in `dir`, and the config naming it.
fn softhsm_ksk(dir: &Path) -> PathBuf {
    SoftHsm::new(dir).import("softhsm-keys/rsa-2048-1.pem", "RSA1", 0x11);
    write(
        &dir.join("softhsm.toml"),
        &format!(
            "{}[keys.ksk]\nlabel = \"RSA1\"\nkey_tag = 25486\nalgorithm = \"RSASHA256\"\n\
             rsa_size = 2048\nvalid_from = \"2020-01-01T00:00:00Z\"\n",
            hsm_toml()
        ),
    )
}

/// `ceremony sign KSR --config CFG -o SKR --yes` plus `extra`.
fn sign(ksr: &Path, config: &Path, skr: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["sign", s(ksr), "--config", s(config), "-o", s(skr), "--yes"];
    args.extend_from_slice(extra);
    ceremony(&args)
}

/// The DS records of the config's KSK for `zone`, as `ceremony key ds` prints them.
fn our_ds(config: &Path, label: &str, zone: &str) -> String {
    let run = ceremony(&["key", "ds", label, "--config", s(config), "--zone", zone]);
    run.expect_code(0);
    run.stdout.clone()
}

/// A small zone at `zone`, without DNSSEC records.
fn zone_text(zone: &str) -> String {
    format!(
        "$ORIGIN {zone}\n$TTL 3600\n\
         @    IN SOA ns1 hostmaster 1 7200 3600 1209600 3600\n\
         @    IN NS  ns1\n\
         ns1  IN A   192.0.2.1\n\
         www  IN A   192.0.2.2\n\
         @    IN MX  10 www\n"
    )
}

/// Changes one base64 character of the signature of the first RRSIG in a
/// Knot SKR (the line after the one holding the signer's name).
fn tamper_knot_signature(skr: &str) -> String {
    let mut lines: Vec<String> = skr.lines().map(str::to_owned).collect();
    let at = lines
        .iter()
        .position(|l| l.contains(" RRSIG "))
        .expect("an RRSIG")
        + 2;
    let line = &lines[at];
    let start = line.len() - line.trim_start().len() + 5;
    let old = line.as_bytes()[start];
    let new = if old == b'A' { 'B' } else { 'A' };
    lines[at] = format!("{}{new}{}", &line[..start], &line[start + 1..]);
    lines.join("\n") + "\n"
}

// ---------------------------------------------------------------------------
// Knot DNS

/// The ZSK side of the sample Knot configuration, in `dir`, for `zone`.
fn knot_zsk_side(dir: &Path, zone: &str) -> PathBuf {
    for sub in ["zsk/run", "zsk/keys", "zsk/zones"] {
        std::fs::create_dir_all(dir.join(sub)).expect("dirs");
    }
    let conf = read(&shared("knot/zsk-side.knot.conf"))
        .replace("@WORKDIR@", s(dir))
        .replace("  - domain: example.", &format!("  - domain: \"{zone}\""));
    write(&dir.join("zsk.conf"), &conf)
}

/// `keymgr generate-ksr` for a year ahead → `ceremony sign` (KSK in the
/// keystore) → `keymgr import-skr` exits 0 → `kzonesign` → the signed zone
/// passes `kzonecheck -d on` and `ldns-verify-zone -k <our DS>`. A changed
/// signature byte makes `import-skr` fail.
#[test]
fn knot_imports_our_skr_and_signs_a_zone_that_verifies() {
    if !peers(&["keymgr", "kzonesign", "kzonecheck", "ldns-verify-zone"]) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    let config = keystore_ksk(dir);
    knot_zsk_side(dir, "example.");
    ok(
        dir,
        "keymgr",
        &["-c", "zsk.conf", "example.", "pregenerate", "+1y"],
    );
    let ksr = ok(
        dir,
        "keymgr",
        &["-c", "zsk.conf", "example.", "generate-ksr", "+0", "+1y"],
    );
    let ksr_path = write(&dir.join("example.ksr"), &ksr);
    let skr_path = dir.join("example.skr");
    let run = sign(&ksr_path, &config, &skr_path, &["--json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["format"], "knot");
    assert_eq!(json["preset"], "knot");
    assert!(run.checks("failed").is_empty());
    for id in [
        "SKR-VERIFY",
        "SKR-MATCH",
        "SKR-PAIR",
        "KSK-MATCH",
        "KSR-BUNDLE-KEYS",
    ] {
        assert!(
            run.checks("passed").contains(&id.to_owned()),
            "{id}: {json}"
        );
    }
    assert!(
        run.checks("not_applicable")
            .contains(&"KSR-BUNDLE-POP".to_owned()),
        "{json}"
    );

    // Knot's own side takes it; its exit code is what counts.
    let out = run_keymgr(dir, &["import-skr", "example.skr"]);
    assert!(
        out.status.success(),
        "import-skr refused our SKR: {}",
        shown(&out)
    );

    // kzonesign signs the zone with its ZSK and our KSK's offline signatures.
    write(&dir.join("zsk/zones/example.zone"), &zone_text("example."));
    ok(
        dir,
        "kzonesign",
        &["-c", "zsk.conf", "-o", "signed", "example."],
    );
    let signed = dir.join("signed/example.zone");
    let zone = read(&signed);
    let ds_text = our_ds(&config, "KSK-TEXT", "example.");
    let tag = ds_text.split_whitespace().nth(4).expect("key tag");
    assert!(
        zone.contains(&format!("{tag} example.")),
        "our KSK {tag} signs:\n{zone}"
    );
    ok(
        dir,
        "kzonecheck",
        &["-d", "on", "-o", "example.", s(&signed)],
    );
    let ds = write(&dir.join("ds"), &ds_text);
    let verified = ok(dir, "ldns-verify-zone", &["-k", s(&ds), s(&signed)]);
    assert!(verified.contains("Zone is verified"), "{verified}");
    // A control: ldns-verify-zone does check the chain to the DS given.
    let sha256 = ds_text.lines().next().expect("DS SHA-256");
    let last = sha256.chars().last().expect("digit");
    let wrong = format!(
        "{}{}\n",
        &sha256[..sha256.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let wrong = write(&dir.join("wrong-ds"), &wrong);
    let out = exec(dir, "ldns-verify-zone", &["-k", s(&wrong), s(&signed)]);
    assert!(
        !out.status.success(),
        "ldns-verify-zone accepted a wrong DS: {}",
        shown(&out)
    );

    // One changed signature byte: Knot refuses the SKR, and says why.
    let good = read(&skr_path);
    write(&dir.join("tampered.skr"), &tamper_knot_signature(&good));
    let out = run_keymgr(dir, &["import-skr", "tampered.skr"]);
    assert!(
        !out.status.success(),
        "import-skr took a tampered SKR: {}",
        shown(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no valid signature"),
        "{}",
        shown(&out)
    );
    // Our own verifier refuses it too (SKR-VERIFY), and passes the real one.
    let tampered = dir.join("tampered.skr");
    let run = ceremony(&[
        "skr",
        "verify",
        s(&tampered),
        "--ksr",
        s(&ksr_path),
        "--json",
    ]);
    run.expect_code(1);
    assert!(run.checks("failed").contains(&"SKR-VERIFY".to_owned()));
    let run = ceremony(&[
        "skr",
        "verify",
        s(&skr_path),
        "--ksr",
        s(&ksr_path),
        "--json",
    ]);
    run.expect_code(0);
    // And the good one still imports after the refusal.
    let out = run_keymgr(dir, &["import-skr", "example.skr"]);
    assert!(out.status.success(), "{}", shown(&out));
}

fn run_keymgr(dir: &Path, args: &[&str]) -> Output {
    let mut all = vec!["-c", "zsk.conf", "example."];
    all.extend_from_slice(args);
    exec(dir, "keymgr", &all)
}

// ---------------------------------------------------------------------------
// BIND 9

/// The sample `dnssec-policy` in `dir/named.conf`, and the ZSK side's `dnssec-ksr keygen` for a year.
fn bind_zsk_side(dir: &Path, zone: &str) {
    std::fs::create_dir_all(dir.join("zsk")).expect("dirs");
    std::fs::copy(
        shared("bind/named.conf.dnssec-policy"),
        dir.join("named.conf"),
    )
    .expect("named.conf");
    ok(
        dir,
        "dnssec-ksr",
        &[
            "-l",
            "named.conf",
            "-k",
            "offline",
            "-K",
            "zsk",
            "-i",
            "now",
            "-e",
            "+1y",
            "keygen",
            zone,
        ],
    );
}

fn bind_request(dir: &Path, zone: &str) -> PathBuf {
    let ksr = ok(
        dir,
        "dnssec-ksr",
        &[
            "-l",
            "named.conf",
            "-k",
            "offline",
            "-K",
            "zsk",
            "-i",
            "now",
            "-e",
            "+1y",
            "request",
            zone,
        ],
    );
    write(&dir.join("zone.ksr"), &ksr)
}

/// The records of the first bundle of a BIND SKR, as zone-file lines.
fn first_bind_bundle(skr: &str) -> String {
    let mut out = String::new();
    for line in skr.lines().skip(1) {
        if line.starts_with(";;") {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The `K<zone>+alg+tag` names of the ZSK files whose public key is among `records`.
fn zsk_files(zsk_dir: &Path, records: &str) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(zsk_dir).expect("zsk dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "key") {
            let text = read(&path);
            let key = text
                .lines()
                .find(|l| !l.starts_with(';'))
                .and_then(|l| {
                    l.split_whitespace()
                        .skip(6)
                        .collect::<Vec<_>>()
                        .join("")
                        .into()
                })
                .unwrap_or_default();
            let flat: String = records.split_whitespace().collect();
            if !key.is_empty() && flat.contains(&key) {
                names.push(
                    path.file_stem()
                        .expect("stem")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    names
}

/// Signs `zone` with its ZSK files alone (`dnssec-signzone -x`: the DNSKEY,
/// CDNSKEY and CDS RRsets keep the KSK signatures of the SKR bundle in the
/// zone file), then `dnssec-verify`; returns both outputs, or the failure.
fn bind_sign_and_verify(dir: &Path, zone: &str, bundle: &str) -> Result<String, String> {
    let zsks = zsk_files(&dir.join("zsk"), bundle);
    assert_eq!(
        zsks.len(),
        1,
        "one ZSK in force in the first bundle: {zsks:?}"
    );
    write(
        &dir.join("zone.db"),
        &format!("{}{bundle}", zone_text(zone)),
    );
    let signed = dir.join("zone.signed");
    let _ = std::fs::remove_file(&signed);
    let mut args = vec![
        "-x",
        "-o",
        zone,
        "-K",
        "zsk",
        "-f",
        "zone.signed",
        "zone.db",
    ];
    args.extend(zsks.iter().map(String::as_str));
    let out = exec(dir, "dnssec-signzone", &args);
    if !out.status.success() {
        return Err(format!("dnssec-signzone: {}", shown(&out)));
    }
    let out = exec(dir, "dnssec-verify", &["-o", zone, "zone.signed"]);
    if !out.status.success() {
        return Err(format!("dnssec-verify: {}", shown(&out)));
    }
    Ok(String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout))
}

/// `dnssec-ksr request` for a year → `ceremony sign` (KSK in SoftHSM) → the
/// zone signed by BIND with the ZSK and our KSK's signatures passes
/// `dnssec-verify`; with one of our signatures changed, it does not.
#[test]
fn bind_signs_a_zone_with_our_skr_that_verifies() {
    if !peers(&["dnssec-ksr", "dnssec-signzone", "dnssec-verify"]) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    let config = softhsm_ksk(dir);
    bind_zsk_side(dir, "example.");
    let ksr = bind_request(dir, "example.");
    let end = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(366 * 24))
        .expect("a year on")
        .to_string();
    let skr_path = dir.join("zone.skr");
    let run = sign(&ksr, &config, &skr_path, &["--end", &end, "--json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["format"], "bind");
    assert_eq!(json["preset"], "bind");
    // BIND signs DNSKEY, CDNSKEY and CDS in every bundle.
    assert_eq!(
        json["signatures"].as_u64().expect("count"),
        3 * json["bundles"].as_u64().expect("bundles")
    );
    let skr = read(&skr_path);
    let bundle = first_bind_bundle(&skr);
    assert!(bundle.contains("25486 example."), "{bundle}");
    let verified = bind_sign_and_verify(dir, "example.", &bundle).unwrap_or_else(|e| panic!("{e}"));
    assert!(verified.contains("Zone fully signed"), "{verified}");
    assert!(read(&dir.join("zone.signed")).contains("25486 example."));

    // A control: with our DNSKEY signature changed, BIND's chain breaks.
    let mut lines: Vec<String> = bundle.lines().map(str::to_owned).collect();
    let at = lines
        .iter()
        .position(|l| l.contains("RRSIG\tDNSKEY"))
        .expect("RRSIG DNSKEY");
    let sig_start = lines[at].rfind(' ').expect("signature") + 5;
    let flipped = if lines[at].as_bytes()[sig_start] == b'A' {
        "B"
    } else {
        "A"
    };
    lines[at].replace_range(sig_start..=sig_start, flipped);
    let tampered = lines.join("\n") + "\n";
    let refused = bind_sign_and_verify(dir, "example.", &tampered)
        .expect_err("BIND accepted a changed KSK signature");
    assert!(
        refused.contains("No self-signed KSK DNSKEY found"),
        "{refused}"
    );
    // And our own verifier passes the SKR against the KSR.
    ceremony(&["skr", "verify", s(&skr_path), "--ksr", s(&ksr)]).expect_code(0);
}

// ---------------------------------------------------------------------------
// Conversions and crossings

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/interop")
        .join(rel)
}

/// `ceremony convert IN --to FORMAT -o OUT --json`; returns what it says is lost.
fn convert(input: &Path, to: &str, output: &Path) -> Vec<String> {
    let run = ceremony(&["convert", s(input), "--to", to, "-o", s(output), "--json"]);
    run.expect_code(0);
    run.json()["lost"]
        .as_array()
        .expect("lost")
        .iter()
        .map(|v| v.as_str().expect("text").to_owned())
        .collect()
}

/// What a KSR is in substance: its zone, and per bundle the instant and the DNSKEY RRset with TTLs.
type Substance = (String, Vec<(jiff::Timestamp, Vec<(u32, Vec<u8>)>)>);

fn substance(ksr: &ceremony_formats::Ksr) -> Substance {
    let bundles = ksr
        .bundles
        .iter()
        .map(|b| {
            let mut keys: Vec<(u32, Vec<u8>)> =
                b.keys.iter().map(|k| (k.ttl, k.dnskey.rdata())).collect();
            keys.sort();
            (b.inception, keys)
        })
        .collect();
    (ksr.header.domain.clone(), bundles)
}

/// The root's 2017 Q2 KSR, converted to Knot's format and back, keeps its
/// zone, bundle instants, ZSKs and TTLs; the conversion names what the
/// text format cannot hold (id, expirations, proof of possession, policy).
/// Between Knot's and BIND's formats nothing of substance is lost: the
/// peers' files come back byte for byte (BIND's blank lines aside, which
/// the conversion says it drops).
#[test]
fn conversions_keep_the_substance_and_say_what_is_lost() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    let root = shared("icann/root/ksr-root-2017-q2-0.xml");
    let original = ceremony_formats::icann::parse_ksr(&read(&root), "root").expect("root KSR");
    let knot = dir.join("root.ksr");
    let lost = convert(&root, "knot", &knot);
    for word in [
        "request id",
        "expiration",
        "proof of possession",
        "ZSK policy",
    ] {
        assert!(lost.iter().any(|l| l.contains(word)), "{word}: {lost:?}");
    }
    let text = ceremony_formats::knot::parse_ksr(&read(&knot), "knot").expect("Knot reads it");
    assert_eq!(substance(&text.ksr), substance(&original));
    // What Knot's format cannot hold travels in comments, and comes back.
    let back = dir.join("root.xml");
    assert!(convert(&knot, "icann", &back).is_empty());
    let again = ceremony_formats::icann::parse_ksr(&read(&back), "back").expect("ICANN reads it");
    assert_eq!(again, original, "the root KSR came back changed");
    // BIND's dnssec-ksr reads no comments: through its format the original is lost, and said so.
    let bind = dir.join("root.bind.ksr");
    let lost = convert(&knot, "bind", &bind);
    assert!(
        lost.iter().any(|l| l.contains("ICANN original")),
        "{lost:?}"
    );
    assert!(!read(&bind).contains("; icann|"));
    // A text KSR without its original cannot become an ICANN one: it has no proof of possession.
    let no = dir.join("no.xml");
    let run = ceremony(&[
        "convert",
        s(&testdata("knot/example-rsa.ksr")),
        "--to",
        "icann",
        "-o",
        s(&no),
    ]);
    run.expect_code(2).expect_stderr(&["proof of possession"]);
    // Nor one whose keys were changed after the conversion.
    let edited = read(&knot).replacen("172800 DNSKEY", "86400 DNSKEY", 1);
    let edited = write(&dir.join("edited.ksr"), &edited);
    let run = ceremony(&["convert", s(&edited), "--to", "icann", "-o", s(&no)]);
    run.expect_code(2).expect_stderr(&["no longer matches"]);
    assert!(!no.exists());

    for name in [
        "knot/example-rsa.ksr",
        "knot/example-rsa.skr",
        "knot/root-ecdsa-cds.skr",
        "knot/long-name.skr",
        "knot/ed25519.skr",
    ] {
        let bind = dir.join("x.bind");
        let back = dir.join("x.knot");
        convert(&testdata(name), "bind", &bind);
        assert!(convert(&bind, "knot", &back)
            .iter()
            .all(|l| l.contains("program name") || l.contains("blank lines")));
        assert!(
            read(&back) == read(&testdata(name)),
            "{name} changed on its way through BIND's format"
        );
    }
    for name in [
        "bind/example-rsa.ksr",
        "bind/example-rsa.skr",
        "bind/root-ecdsa.skr",
        "bind/long-name.skr",
    ] {
        let knot = dir.join("x.knot");
        let back = dir.join("x.bind");
        let lost = convert(&testdata(name), "knot", &knot);
        if name.ends_with(".skr") {
            assert!(lost.iter().any(|l| l.contains("blank lines")), "{lost:?}");
        }
        convert(&knot, "bind", &back);
        let strip = |t: String| {
            t.lines()
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(
            strip(read(&back)) == strip(read(&testdata(name))),
            "{name} changed on its way through Knot's format"
        );
    }
    // An SKR in the ICANN format keeps its signatures and says it drops CDS/CDNSKEY.
    let skr = dir.join("skr.xml");
    let lost = convert(&testdata("bind/example-rsa.skr"), "icann", &skr);
    assert!(
        lost.iter().any(|l| l.contains("CDNSKEY and CDS")),
        "{lost:?}"
    );
    let icann = ceremony_formats::icann::parse_skr(&read(&skr), "skr").expect("ICANN reads it");
    let bind = ceremony_formats::bind::parse_skr(&read(&testdata("bind/example-rsa.skr")), "bind")
        .expect("bind");
    assert_eq!(icann.bundles.len(), bind.skr.bundles.len());
    for (a, b) in icann.bundles.iter().zip(&bind.skr.bundles) {
        assert_eq!(a.signatures, b.signatures);
    }
}

/// BIND's zone operator, through Knot's format: `dnssec-ksr request` →
/// `ceremony convert --to knot` → `ceremony sign` by Knot's rules, written
/// `--to bind` → BIND signs the zone with it, and `dnssec-verify` passes.
#[test]
fn a_knot_format_ksr_signed_by_knot_rules_imports_into_bind() {
    if !peers(&["dnssec-ksr", "dnssec-signzone", "dnssec-verify"]) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    let config = keystore_ksk(dir);
    bind_zsk_side(dir, "example.");
    let bind_ksr = bind_request(dir, "example.");
    let knot_ksr = dir.join("zone.knot.ksr");
    convert(&bind_ksr, "knot", &knot_ksr);
    let skr_path = dir.join("zone.skr");
    let run = sign(&knot_ksr, &config, &skr_path, &["--to", "bind", "--json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(
        (
            json["format"].as_str(),
            json["preset"].as_str(),
            json["to"].as_str()
        ),
        (Some("knot"), Some("knot"), Some("bind"))
    );
    let skr = read(&skr_path);
    assert!(
        skr.starts_with(";; SignedKeyResponse 1.0 2"),
        "BIND's header: {}",
        &skr[..80]
    );
    let bundle = first_bind_bundle(&skr);
    let verified = bind_sign_and_verify(dir, "example.", &bundle).unwrap_or_else(|e| panic!("{e}"));
    assert!(verified.contains("Zone fully signed"), "{verified}");
    ceremony(&["skr", "verify", s(&skr_path), "--ksr", s(&bind_ksr)]).expect_code(0);
}

/// Knot's zone operator, by BIND's rules: `keymgr generate-ksr` → `ceremony
/// sign --preset bind` (CDNSKEY and CDS signed, bundles every 10 days from
/// each instant), written in Knot's format → `keymgr import-skr` exits 0 →
/// `kzonesign` → `kzonecheck -d on` and `ldns-verify-zone` pass.
#[test]
fn a_ksr_signed_by_bind_rules_imports_into_knot() {
    if !peers(&["keymgr", "kzonesign", "kzonecheck", "ldns-verify-zone"]) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    let config = softhsm_ksk(dir);
    knot_zsk_side(dir, "example.");
    ok(
        dir,
        "keymgr",
        &["-c", "zsk.conf", "example.", "pregenerate", "+1y"],
    );
    let ksr = ok(
        dir,
        "keymgr",
        &["-c", "zsk.conf", "example.", "generate-ksr", "+0", "+1y"],
    );
    let knot_ksr = write(&dir.join("example.ksr"), &ksr);
    // Through BIND's format and back, as a KSK operator on BIND would receive it.
    let bind_ksr = dir.join("example.bind.ksr");
    convert(&knot_ksr, "bind", &bind_ksr);
    let end = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(400 * 24))
        .expect("later")
        .to_string();
    let skr_path = dir.join("example.skr");
    let run = sign(
        &bind_ksr,
        &config,
        &skr_path,
        &["--to", "knot", "--end", &end, "--json"],
    );
    run.expect_code(0);
    let json = run.json();
    assert_eq!(
        (
            json["format"].as_str(),
            json["preset"].as_str(),
            json["to"].as_str()
        ),
        (Some("bind"), Some("bind"), Some("knot"))
    );
    let out = run_keymgr(dir, &["import-skr", "example.skr"]);
    assert!(
        out.status.success(),
        "import-skr refused our SKR: {}",
        shown(&out)
    );
    write(&dir.join("zsk/zones/example.zone"), &zone_text("example."));
    ok(
        dir,
        "kzonesign",
        &["-c", "zsk.conf", "-o", "signed", "example."],
    );
    let signed = dir.join("signed/example.zone");
    ok(
        dir,
        "kzonecheck",
        &["-d", "on", "-o", "example.", s(&signed)],
    );
    let ds = write(&dir.join("ds"), &our_ds(&config, "RSA1", "example."));
    let verified = ok(dir, "ldns-verify-zone", &["-k", s(&ds), s(&signed)]);
    assert!(verified.contains("Zone is verified"), "{verified}");
    ceremony(&["skr", "verify", s(&skr_path), "--ksr", s(&knot_ksr)]).expect_code(0);
}

// ---------------------------------------------------------------------------
// Our zone-operator side, their KSK side

fn in_an_hour() -> String {
    let t = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .expect("later");
    jiff::Timestamp::from_second(t.as_second())
        .expect("whole seconds")
        .to_string()
}

/// `ceremony ksr generate` writes KSRs that the peers' KSK sides sign:
/// in Knot's format from Knot's own ZSK files (`keymgr sign-ksr`), in
/// BIND's from a BIND `K*.key` file and a keystore key (`dnssec-ksr
/// sign`); both SKRs pass our `skr verify --ksr`. The same ZSKs in the
/// ICANN format carry a proof of possession that `ksr validate` checks.
#[test]
fn the_peers_sign_our_ksrs_and_their_skrs_pass_our_checks() {
    if !peers(&["keymgr", "dnssec-ksr", "dnssec-keygen"]) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    // Bundles every 14 days: see the note on BIND's duplicate instants in textsign.
    let schedule = ["--start", &in_an_hour(), "--interval", "14d"];

    // Knot DNS: two ZSKs made by keymgr on the ZSK side, the KSK on the KSK side.
    for side in ["ksk", "zsk"] {
        for sub in ["run", "keys", "zones"] {
            std::fs::create_dir_all(dir.join(side).join(sub)).expect("dirs");
        }
        let conf =
            read(&shared(&format!("knot/{side}-side.knot.conf"))).replace("@WORKDIR@", s(dir));
        write(&dir.join(format!("{side}.conf")), &conf);
    }
    ok(
        dir,
        "keymgr",
        &[
            "-c",
            "ksk.conf",
            "example.",
            "generate",
            "algorithm=rsasha256",
            "size=2048",
            "ksk=yes",
            "zsk=no",
        ],
    );
    for _ in 0..2 {
        ok(
            dir,
            "keymgr",
            &[
                "-c",
                "zsk.conf",
                "example.",
                "generate",
                "algorithm=rsasha256",
                "size=2048",
                "ksk=no",
                "zsk=yes",
            ],
        );
    }
    let mut pems: Vec<PathBuf> = std::fs::read_dir(dir.join("zsk/keys/keys"))
        .expect("Knot's key files")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .collect();
    pems.sort();
    assert_eq!(pems.len(), 2, "{pems:?}");
    let ours = dir.join("ours.knot.ksr");
    let mut args = vec![
        "ksr".to_owned(),
        "generate".to_owned(),
        "--zone".to_owned(),
        "example.".to_owned(),
        "--format".to_owned(),
        "knot".to_owned(),
        "--zsk-file".to_owned(),
        format!("{}@1-5", s(&pems[0])),
        "--zsk-file".to_owned(),
        format!("{}@5-9", s(&pems[1])),
        "-o".to_owned(),
        s(&ours).to_owned(),
    ];
    args.extend(schedule.iter().map(|a| (*a).to_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ceremony(&refs).expect_code(0);
    let skr = ok(
        dir,
        "keymgr",
        &["-c", "ksk.conf", "example.", "sign-ksr", s(&ours)],
    );
    let theirs = write(&dir.join("theirs.knot.skr"), &skr);
    assert!(
        skr.matches(";; SignedKeyResponse 1.0 1").count() >= 9,
        "{skr}"
    );
    let run = ceremony(&["skr", "verify", s(&theirs), "--ksr", s(&ours), "--json"]);
    run.expect_code(0);
    for id in ["SKR-VERIFY", "SKR-MATCH", "SKR-PAIR"] {
        assert!(run.checks("passed").contains(&id.to_owned()), "{id}");
    }

    // The same ZSKs in the ICANN format, with proof of possession.
    let icann = dir.join("ours.xml");
    let mut args = args.clone();
    args[5] = "icann".to_owned();
    let at = args.iter().position(|a| a == "-o").expect("-o") + 1;
    args[at] = s(&icann).to_owned();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ceremony(&refs).expect_code(0);
    let run = ceremony(&["ksr", "validate", s(&icann), "--json"]);
    assert!(
        run.checks("passed").contains(&"KSR-BUNDLE-POP".to_owned()),
        "{}",
        run.stdout
    );

    // BIND 9: a ZSK from dnssec-keygen (public key file) and one from our keystore.
    let config = keystore_ksk(dir);
    let config_text = read(&config)
        .replace("[keys.ksk]", "[keys.zsk]")
        .replace("KSK-TEXT", "ZSK-STORE");
    let zsk_config = write(&dir.join("zsk.toml"), &config_text);
    ceremony(&["key", "generate", "ZSK-STORE", "--config", s(&zsk_config)]).expect_code(0);
    std::fs::create_dir_all(dir.join("bind-zsk")).expect("dir");
    let name = ok(
        dir,
        "dnssec-keygen",
        &[
            "-a",
            "RSASHA256",
            "-b",
            "2048",
            "-K",
            "bind-zsk",
            "example.",
        ],
    );
    let key_file = dir.join("bind-zsk").join(format!("{}.key", name.trim()));
    let ours = dir.join("ours.bind.ksr");
    let mut args = vec![
        "ksr".to_owned(),
        "generate".to_owned(),
        "--zone".to_owned(),
        "example.".to_owned(),
        "--format".to_owned(),
        "bind".to_owned(),
        "--zsk-file".to_owned(),
        format!("{}@1-5", s(&key_file)),
        "--zsk".to_owned(),
        "zsk@5-9".to_owned(),
        "--config".to_owned(),
        s(&zsk_config).to_owned(),
        "-o".to_owned(),
        s(&ours).to_owned(),
    ];
    args.extend(schedule.iter().map(|a| (*a).to_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    ceremony(&refs).expect_code(0);
    std::fs::create_dir_all(dir.join("bind-ksk")).expect("dir");
    std::fs::copy(
        shared("bind/named.conf.dnssec-policy"),
        dir.join("named.conf"),
    )
    .expect("conf");
    let common = [
        "-l",
        "named.conf",
        "-k",
        "offline",
        "-K",
        "bind-ksk",
        "-i",
        "now",
        "-e",
        "+200d",
    ];
    let mut keygen = vec!["-o"];
    keygen.extend(common);
    keygen.extend(["keygen", "example."]);
    ok(dir, "dnssec-ksr", &keygen);
    let mut sign_args: Vec<&str> = common.to_vec();
    sign_args.extend(["-f", s(&ours), "sign", "example."]);
    let skr = ok(dir, "dnssec-ksr", &sign_args);
    let theirs = write(&dir.join("theirs.bind.skr"), &skr);
    let run = ceremony(&["skr", "verify", s(&theirs), "--ksr", s(&ours), "--json"]);
    run.expect_code(0);
    for id in ["SKR-VERIFY", "SKR-MATCH", "SKR-PAIR"] {
        assert!(run.checks("passed").contains(&id.to_owned()), "{id}");
    }
}

/// `ceremony demo --format knot` and `--format bind` run the same small
/// ceremony through that format: its KSR is the program's own, and the SKR
/// it signs passes `skr verify --ksr` (SKR-VERIFY, -MATCH, -PAIR and the
/// trust anchor it publishes).
#[test]
fn the_demo_runs_through_knot_and_bind_formats() {
    let work = tempfile::tempdir().expect("tempdir");
    for (format, ext) in [("knot", "knot"), ("bind", "bind")] {
        let dir = work.path().join(format);
        let run = ceremony(&["demo", "--dir", s(&dir), "--format", format]);
        run.expect_code(0);
        let ksr = dir.join(format!("ksr.{ext}"));
        let skr = dir.join(format!("skr.{ext}"));
        let text = read(&ksr);
        assert_eq!(
            ceremony_formats::detect(&text).map(|f| f.name()),
            Some(format)
        );
        let anchors = dir.join("root-anchors.xml");
        let run = ceremony(&[
            "skr",
            "verify",
            s(&skr),
            "--ksr",
            s(&ksr),
            "--trust-anchor",
            s(&anchors),
            "--json",
        ]);
        run.expect_code(0);
        for id in ["SKR-VERIFY", "SKR-MATCH", "SKR-PAIR", "SKR-TRUST-ANCHOR"] {
            assert!(
                run.checks("passed").contains(&id.to_owned()),
                "{format} {id}"
            );
        }
    }
}

/// A port on 127.0.0.1 that is free for both TCP and UDP right now.
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("a TCP port");
        let port = tcp.local_addr().expect("address").port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// `named` started for one test, stopped (and killed if need be) when dropped.
struct Named {
    child: std::process::Child,
    dir: PathBuf,
}

impl Named {
    fn rndc(&self, args: &[&str]) -> Output {
        let mut all = vec!["-c", "rndc.conf"];
        all.extend_from_slice(args);
        exec(&self.dir, "rndc", &all)
    }
}

impl Drop for Named {
    fn drop(&mut self) {
        let _ = self.rndc(&["stop"]);
        for _ in 0..50 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// BIND's server imports our SKR: `dnssec-ksr request` → `ceremony sign`
/// (KSK in SoftHSM) → `rndc skr -import` on a `named` listening on
/// 127.0.0.1 only (free high ports, `dnssec-validation no`, no recursion,
/// loopback query source) → the zone it signs and serves passes
/// `dnssec-verify`, with our KSK's signature over its DNSKEY RRset.
#[test]
fn named_imports_our_skr_with_rndc_and_serves_a_zone_that_verifies() {
    if !peers(&[
        "dnssec-ksr",
        "named",
        "rndc",
        "named-compilezone",
        "dnssec-verify",
    ]) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    let config = softhsm_ksk(dir);
    bind_zsk_side(dir, "example.");
    let ksr = bind_request(dir, "example.");
    let end = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(366 * 24))
        .expect("a year on")
        .to_string();
    let skr = dir.join("zone.skr");
    sign(&ksr, &config, &skr, &["--end", &end]).expect_code(0);

    let (port, control) = (free_port(), free_port());
    // A test-only TSIG secret for rndc.
    let secret = "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8w=";
    write(
        &dir.join("server.conf"),
        &format!(
            "key \"rndc-key\" {{ algorithm hmac-sha256; secret \"{secret}\"; }};\n\
             controls {{ inet 127.0.0.1 port {control} allow {{ 127.0.0.1; }} keys {{ \"rndc-key\"; }}; }};\n\
             options {{\n  directory \"{d}\";\n  pid-file \"{d}/named.pid\";\n\
             listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n\
             query-source address 127.0.0.1;\n  dnssec-validation no;\n  recursion no;\n  notify no;\n}};\n\
             include \"{d}/named.conf\";\n\
             zone \"example.\" {{\n  type primary;\n  file \"example.db\";\n  dnssec-policy offline;\n\
             key-directory \"zsk\";\n  inline-signing yes;\n}};\n",
            d = s(dir)
        ),
    );
    write(
        &dir.join("rndc.conf"),
        &format!(
            "key \"rndc-key\" {{ algorithm hmac-sha256; secret \"{secret}\"; }};\n\
             options {{ default-key \"rndc-key\"; default-server 127.0.0.1; default-port {control}; }};\n"
        ),
    );
    write(&dir.join("example.db"), &zone_text("example."));
    ok(dir, "named-checkconf", &["server.conf"]);
    let child = Command::new("named")
        .current_dir(dir)
        .args(["-c", s(&dir.join("server.conf")), "-g"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("named.log")).expect("log"))
        .spawn()
        .expect("named starts");
    let named = Named {
        child,
        dir: dir.to_owned(),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !named.rndc(&["status"]).status.success() {
        assert!(
            std::time::Instant::now() < deadline,
            "named did not come up: {}",
            read(&dir.join("named.log"))
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let out = named.rndc(&["skr", "-import", s(&skr), "example."]);
    assert!(out.status.success(), "rndc skr -import: {}", shown(&out));

    // Wait for named to sign with the imported bundle, then check what it holds.
    loop {
        let _ = named.rndc(&["sync", "example."]);
        let compiled = exec(
            dir,
            "named-compilezone",
            &[
                "-f",
                "raw",
                "-F",
                "text",
                "-o",
                "served.zone",
                "example.",
                "example.db.signed",
            ],
        );
        let last = if compiled.status.success() {
            let verify = exec(dir, "dnssec-verify", &["-o", "example.", "served.zone"]);
            let zone = read(&dir.join("served.zone"));
            if verify.status.success() && zone.contains("25486 example.") {
                break;
            }
            shown(&verify)
        } else {
            shown(&compiled)
        };
        assert!(
            std::time::Instant::now() < deadline,
            "the zone named serves does not verify with our KSK: {last}\n{}",
            read(&dir.join("named.log"))
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    drop(named);
}

/// Knot's next KSR starts at the previous one's last instant: `ceremony sign
/// --previous-skr` accepts that hand-over (KSR-CHAIN-KEYS, KSR-BUNDLE-UNIQUE
/// pass) and refuses the same KSR signed again (a replay).
#[test]
fn the_next_knot_ksr_chains_from_the_previous_skr() {
    if !peers(&["keymgr"]) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    let config = keystore_ksk(dir);
    knot_zsk_side(dir, "example.");
    ok(
        dir,
        "keymgr",
        &["-c", "zsk.conf", "example.", "pregenerate", "+2y"],
    );
    let first = ok(
        dir,
        "keymgr",
        &["-c", "zsk.conf", "example.", "generate-ksr", "+0", "+1y"],
    );
    let second = ok(
        dir,
        "keymgr",
        &["-c", "zsk.conf", "example.", "generate-ksr", "+1y", "+2y"],
    );
    let (first, second) = (
        write(&dir.join("a.ksr"), &first),
        write(&dir.join("b.ksr"), &second),
    );
    let (a, b) = (dir.join("a.skr"), dir.join("b.skr"));
    sign(&first, &config, &a, &[]).expect_code(0);
    // Judged the day before the second year starts, as its ceremony would be.
    let then = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(364 * 24))
        .expect("later")
        .to_string();
    let run = sign(
        &second,
        &config,
        &b,
        &["--previous-skr", s(&a), "--now", &then, "--json"],
    );
    run.expect_code(0);
    for id in ["KSR-ID", "KSR-BUNDLE-UNIQUE", "KSR-CHAIN-KEYS"] {
        assert!(
            run.checks("passed").contains(&id.to_owned()),
            "{id}: {}",
            run.stdout
        );
    }
    let again = dir.join("again.skr");
    let run = sign(
        &second,
        &config,
        &again,
        &["--previous-skr", s(&b), "--now", &then, "--json"],
    );
    run.expect_code(1);
    for id in ["KSR-ID", "KSR-BUNDLE-UNIQUE"] {
        assert!(
            run.checks("failed").contains(&id.to_owned()),
            "{id}: {}",
            run.stdout
        );
    }
    assert!(!again.exists());
}

/// The signing knobs for text KSRs: validity, refresh, inception offset,
/// CDNSKEY and CDS digest types, as the SKR then shows them; and an ICANN
/// KSR refuses them (it is signed by its schema and ksk_policy).
#[test]
fn text_signing_knobs_shape_the_skr() {
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    let config = keystore_ksk(dir);
    let ksr = testdata("knot/example-rsa.ksr");
    let skr_path = dir.join("knobs.skr");
    let now = "2026-11-29T15:17:30Z";
    let run = sign(
        &ksr,
        &config,
        &skr_path,
        &[
            "--now",
            now,
            "--validity",
            "14d",
            "--refresh",
            "7d",
            "--inception-offset",
            "1h",
            "--cdnskey",
            "on",
            "--cds",
            "sha256,sha384",
        ],
    );
    run.expect_code(0);
    let skr = ceremony_formats::knot::parse_skr(&read(&skr_path), "knobs").expect("reads");
    let request = ceremony_formats::knot::parse_ksr(&read(&ksr), "ksr").expect("reads");
    let day = 86_400;
    for (i, (bundle, extra)) in skr.skr.bundles.iter().zip(&skr.extra).enumerate() {
        let at = bundle.inception.as_second();
        for sig in bundle.signatures.iter().chain(&extra.signatures) {
            assert_eq!(sig.inception.as_second(), at - 3600, "bundle {i}");
            assert_eq!(sig.expiration.as_second(), at + 14 * day, "bundle {i}");
        }
        assert_eq!(extra.cdnskeys.len(), 1, "bundle {i}");
        assert_eq!(extra.cds.len(), 2, "bundle {i}");
        assert_eq!(
            extra.signatures.len(),
            2,
            "bundle {i}: CDNSKEY and CDS signed"
        );
        // Knot's rule: a bundle every validity − refresh (7 days) between KSR instants.
        if let Some(next) = skr.skr.bundles.get(i + 1) {
            let step = next.inception.as_second() - at;
            let is_instant = request
                .ksr
                .bundles
                .iter()
                .any(|b| b.inception == next.inception);
            assert!(
                step == 7 * day || is_instant,
                "bundle {i}: {step} s to the next"
            );
        }
    }
    ceremony(&["skr", "verify", s(&skr_path), "--ksr", s(&ksr)]).expect_code(0);
    // Nonsense is refused before anything is signed.
    let bad = dir.join("bad.skr");
    sign(
        &ksr,
        &config,
        &bad,
        &["--validity", "7d", "--refresh", "7d"],
    )
    .expect_code(2);
    sign(&ksr, &config, &bad, &["--cds", "md5"]).expect_code(2);
    sign(&ksr, &config, &bad, &["--to", "icann"]).expect_code(2);
    assert!(!bad.exists());
    let root = shared("icann/root/ksr-root-2017-q2-0.xml");
    sign(&root, &config, &bad, &["--preset", "knot"])
        .expect_code(2)
        .expect_stderr(&["--preset", "ICANN"]);
}

/// `ceremony ksr validate` holds Knot DNS and BIND 9 KSRs to the text preset,
/// as `ceremony sign` does: the peers' own KSRs pass, and a configuration's
/// knob (here the acceptable domains) still decides.
#[test]
fn ksr_validate_uses_the_text_preset_for_text_ksrs() {
    let now = "2026-11-29T15:20:00Z";
    for rel in ["knot/example-rsa.ksr", "bind/example-rsa.ksr"] {
        let ksr = testdata(rel);
        let run = ceremony(&["ksr", "validate", s(&ksr), "--now", now, "--json"]);
        run.expect_code(0);
        assert!(run.json()["policy"]
            .as_str()
            .is_some_and(|p| p.contains("preset")));
        let work = tempfile::tempdir().expect("tempdir");
        let config = write(
            &work.path().join("policy.toml"),
            "[request_policy]\nacceptable_domains = [\"example.com.\"]\n",
        );
        let run = ceremony(&[
            "ksr",
            "validate",
            s(&ksr),
            "--now",
            now,
            "--config",
            s(&config),
            "--json",
        ]);
        run.expect_code(1);
        assert_eq!(run.checks("failed"), ["KSR-DOMAIN"]);
    }
}

/// `dnssec-ksr sign` 9.20 answers KSR bundles that are exactly
/// `signatures-validity-dnskey − signatures-refresh` apart (the root's
/// 10-day slots with 21/11 days) with two bundles at each later instant: the
/// last re-signing of the outgoing ZSK set, then the first answer to the
/// next KSR bundle. Ceremony reads that SKR, verifies it against the KSR,
/// writes it back byte for byte, and drops the handover bundles, saying so,
/// when converting to a format that cannot hold two bundles at one instant.
#[test]
fn bind_handover_bundles_are_read_verified_and_dropped_in_conversion() {
    if !peers(&["dnssec-ksr"]) {
        return;
    }
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path();
    std::fs::copy(
        shared("bind/named.conf.dnssec-policy"),
        dir.join("named.conf"),
    )
    .expect("named.conf");
    std::fs::create_dir(dir.join("ksk")).expect("ksk dir");
    let ksr = dir.join("root.ksr");
    convert(&shared("icann/root/ksr-root-2017-q2-0.xml"), "bind", &ksr);
    let common = ["-l", "named.conf", "-k", "offline", "-K", "ksk"];
    let keygen = [
        &common[..],
        &[
            "-o",
            "-i",
            "20170301000000",
            "-e",
            "20170801000000",
            "keygen",
            ".",
        ],
    ]
    .concat();
    ok(dir, "dnssec-ksr", &keygen);
    let bind_sign = [
        &common[..],
        &[
            "-i",
            "20170401000000",
            "-e",
            "20170711000000",
            "-f",
            "root.ksr",
            "sign",
            ".",
        ],
    ]
    .concat();
    let text = ok(dir, "dnssec-ksr", &bind_sign);
    let skr = write(&dir.join("root.skr"), &text);

    let parsed =
        ceremony_formats::bind::parse_skr(&text, "root.skr").unwrap_or_else(|e| panic!("{e}"));
    let handovers = (0..parsed.skr.bundles.len())
        .filter(|&i| parsed.hands_over(i))
        .count();
    assert_eq!(
        handovers, 8,
        "one handover at each of the 8 later KSR instants"
    );
    assert!(
        ceremony_formats::bind::write_skr(&parsed) == text,
        "BIND's SKR differs after a round trip"
    );

    let verified = ceremony(&["skr", "verify", s(&skr), "--ksr", s(&ksr), "--json"]);
    let passed = verified.checks("passed");
    for id in ["SKR-VERIFY", "SKR-MATCH", "SKR-PAIR"] {
        assert!(
            passed.iter().any(|c| c == id),
            "{id} did not pass: {}",
            verified.stdout
        );
    }

    // A handover bundle that claims the incoming ZSK set is caught.
    let mut forged = parsed.clone();
    let first = (0..forged.skr.bundles.len())
        .find(|&i| forged.hands_over(i))
        .expect("a handover");
    forged.skr.bundles[first].keys = forged.skr.bundles[first + 1].keys.clone();
    let forged_path = write(
        &dir.join("forged.skr"),
        &ceremony_formats::bind::write_skr(&forged),
    );
    let run = ceremony(&["skr", "verify", s(&forged_path), "--ksr", s(&ksr), "--json"]);
    assert!(
        run.checks("failed").iter().any(|c| c == "SKR-PAIR"),
        "{}",
        run.stdout
    );

    // Ceremony's `bind` preset writes the same SKR as dnssec-ksr, handovers
    // included: the same headers and blank lines, ZSK sets and signature
    // times; only the KSK and the signatures differ.
    write(&dir.join("passphrase"), "interop test passphrase\n");
    let config = write(
        &dir.join("k2017.toml"),
        "[keystore]\ndir = \"keys\"\npassphrase_file = \"passphrase\"\nwork_factor = 10\n\n\
         [keys.ksk]\nlabel = \"KSK-2017\"\nalgorithm = \"RSASHA256\"\nrsa_size = 2048\n\
         valid_from = \"2017-01-01T00:00:00Z\"\n",
    );
    ceremony(&["key", "generate", "KSK-2017", "--config", s(&config)]).expect_code(0);
    let ours = dir.join("ours.skr");
    let extra = [
        "--preset",
        "bind",
        "--end",
        "2017-07-11T00:00:00Z",
        "--now",
        "2017-03-20T00:00:00Z",
    ];
    sign(&ksr, &config, &ours, &extra).expect_code(0);
    let ours_text = read(&ours);
    let shape = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                match fields.as_slice() {
                    [";;", _, _, instant, ..] if *instant != "generated" => {
                        Some(format!("bundle {instant}"))
                    }
                    [] => Some("blank".to_owned()),
                    [_, _, _, "DNSKEY", "256", ..] => {
                        Some(format!("zsk {}", fields[4..].join(" ")))
                    }
                    [_, _, _, "RRSIG", covered, _, _, _, expiration, inception, ..] => {
                        Some(format!("rrsig {covered} {inception} {expiration}"))
                    }
                    _ => None,
                }
            })
            .collect()
    };
    let (theirs, mine) = (shape(&text), shape(&ours_text));
    assert_eq!(
        theirs.len(),
        mine.len(),
        "BIND:\n{text}\nCeremony:\n{ours_text}"
    );
    for (i, (a, b)) in theirs.iter().zip(&mine).enumerate() {
        assert_eq!(a, b, "line {i} of the SKR's shape");
    }
    let verified = ceremony(&["skr", "verify", s(&ours), "--ksr", s(&ksr), "--json"]);
    for id in ["SKR-VERIFY", "SKR-MATCH", "SKR-PAIR"] {
        assert!(
            verified.checks("passed").iter().any(|c| c == id),
            "{id}: {}",
            verified.stdout
        );
    }

    for (to, name) in [("knot", "root.knot.skr"), ("icann", "root.xml")] {
        let lost = convert(&skr, to, &dir.join(name));
        assert!(
            lost.iter()
                .any(|l| l.starts_with("8 BIND handover bundles")),
            "{to}: {lost:?}"
        );
    }
    let knot_ksr = dir.join("root.knot.ksr");
    convert(&ksr, "knot", &knot_ksr);
    let run = ceremony(&[
        "skr",
        "verify",
        s(&dir.join("root.knot.skr")),
        "--ksr",
        s(&knot_ksr),
        "--json",
    ]);
    for id in ["SKR-VERIFY", "SKR-MATCH", "SKR-PAIR"] {
        assert!(
            run.checks("passed").iter().any(|c| c == id),
            "{id}: {}",
            run.stdout
        );
    }
}
