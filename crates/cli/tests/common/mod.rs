//! Helpers for the end-to-end tests of the `ceremony` binary: running it,
//! a private SoftHSM2 token per test, the shared data, and the checks every
//! failure must pass (no SKR, no temp file).
//!
//! Every test gets its own directory with its own `softhsm2.conf` and token
//! directory. The binary is a new process per run, so each run initialises
//! SoftHSM with the configuration the signer config points it at
//! (`env = { SOFTHSM2_CONF = "softhsm2.conf" }`, relative to the config).
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The PKCS#11 module of Debian's `softhsm2`.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The user PIN of every test token.
pub const PIN: &str = "123456";
/// The security officer PIN of every test token.
pub const SO_PIN: &str = "12345678";
/// The token label of every test token.
pub const TOKEN: &str = "ceremony";

/// A file of the shared read-only data (`shared/data/icann/...`).
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/icann")
        .join(rel)
}

/// A file of the repository.
pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// A path as an argument.
pub fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// One run of the binary.
#[derive(Debug)]
pub struct Run {
    /// What was run, for messages.
    pub args: Vec<String>,
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Panics, showing everything, unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "ceremony {:?} exited {} (expected {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Panics unless standard error contains every one of `words`.
    #[track_caller]
    pub fn expect_stderr(&self, words: &[&str]) -> &Run {
        for word in words {
            assert!(
                self.stderr.contains(word),
                "ceremony {:?}: stderr lacks {word:?}\n--- stderr\n{}",
                self.args,
                self.stderr
            );
        }
        self
    }

    /// Panics unless standard output contains every one of `words`.
    #[track_caller]
    pub fn expect_stdout(&self, words: &[&str]) -> &Run {
        for word in words {
            assert!(
                self.stdout.contains(word),
                "ceremony {:?}: stdout lacks {word:?}\n--- stdout\n{}",
                self.args,
                self.stdout
            );
        }
        self
    }

    /// Standard output as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "ceremony {:?}: stdout is not JSON ({e})\n--- stdout\n{}\n--- stderr\n{}",
                self.args, self.stdout, self.stderr
            )
        })
    }

    /// The ids of the checks with `status` in the `--json` report.
    #[track_caller]
    pub fn checks(&self, status: &str) -> Vec<String> {
        self.json()["report"]["checks"]
            .as_array()
            .expect("report.checks")
            .iter()
            .filter(|c| c["status"] == status)
            .map(|c| c["id"].as_str().expect("id").to_owned())
            .collect()
    }
}

/// Runs `ceremony args` with standard input closed.
pub fn ceremony(args: &[&str]) -> Run {
    ceremony_with(args, None, &[])
}

/// Runs `ceremony args`, feeding `stdin` if given, with extra environment variables.
pub fn ceremony_with(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ceremony"))
        .args(args)
        .envs(env.iter().copied())
        // The token a run uses comes from the signer config only.
        .env_remove("SOFTHSM2_CONF")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ceremony binary runs");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        // The binary may exit before reading; a broken pipe is then fine.
        let _ = pipe.write_all(bytes);
    }
    let out = child.wait_with_output().expect("the ceremony binary exits");
    Run {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs a tool the tests need, panicking with its output when it fails.
#[track_caller]
pub fn tool(program: &str, args: &[&str], env: &[(&str, &Path)]) -> String {
    let out = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}; apt-get install softhsm2 openssl"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A SoftHSM2 token of its own in `dir`: `dir/softhsm2.conf` and `dir/tokens/`.
pub struct SoftHsm {
    /// The configuration file, for `SOFTHSM2_CONF`.
    pub conf: PathBuf,
    dir: PathBuf,
}

impl SoftHsm {
    /// Creates the token [`TOKEN`] with PIN [`PIN`] in `dir`.
    pub fn new(dir: &Path) -> SoftHsm {
        assert!(
            Path::new(MODULE).exists(),
            "{MODULE} not found: the SoftHSM tests need apt-get install softhsm2 openssl"
        );
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).expect("token dir");
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )
        .expect("softhsm2.conf");
        tool(
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                TOKEN,
                "--pin",
                PIN,
                "--so-pin",
                SO_PIN,
            ],
            &[("SOFTHSM2_CONF", &conf)],
        );
        SoftHsm {
            conf,
            dir: dir.to_owned(),
        }
    }

    /// Imports the shared PEM key `rel` (below `shared/data/icann/`) as `label` with CKA_ID `id`.
    pub fn import(&self, rel: &str, label: &str, id: u8) -> &SoftHsm {
        let p8 = self.dir.join(format!("{label}.p8"));
        tool(
            "openssl",
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                s(&data(rel)),
                "-out",
                s(&p8),
            ],
            &[],
        );
        tool(
            "softhsm2-util",
            &[
                "--import",
                s(&p8),
                "--token",
                TOKEN,
                "--label",
                label,
                "--id",
                &format!("{id:02x}"),
                "--pin",
                PIN,
            ],
            &[("SOFTHSM2_CONF", &self.conf)],
        );
        std::fs::remove_file(&p8).expect("remove the PKCS#8 copy");
        self
    }
}

/// The `[hsm.soft]` section for a config file beside `softhsm2.conf`.
pub fn hsm_toml() -> String {
    format!(
        "[hsm.soft]\nmodule = \"{MODULE}\"\ntoken_label = \"{TOKEN}\"\npin = \"{PIN}\"\nenv = {{ SOFTHSM2_CONF = \"softhsm2.conf\" }}\n\n"
    )
}

/// The test directory's `out/`, created empty: where SKRs go.
pub fn out_dir(dir: &Path) -> PathBuf {
    let out = dir.join("out");
    std::fs::create_dir_all(&out).expect("out dir");
    out
}

/// Panics unless `dir` is empty: no SKR and no temp file was left there.
#[track_caller]
pub fn assert_empty(dir: &Path, run: &Run) {
    let left: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.is_empty(),
        "ceremony {:?} failed but left {left:?} in {}",
        run.args,
        dir.display()
    );
}

/// The `<SignatureData>` values of an SKR, in document order, whitespace removed.
///
/// Plain string search, independent of Ceremony's XML reader.
pub fn signature_data(xml: &str) -> Vec<String> {
    const OPEN: &str = "<SignatureData>";
    const CLOSE: &str = "</SignatureData>";
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let end = after.find(CLOSE).expect("closed SignatureData");
        found.push(
            after[..end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect(),
        );
        rest = &after[end + CLOSE.len()..];
    }
    found
}

/// Verifies an SKR with dnspython (scripts/verify-skr-dnspython.py); panics unless all is valid.
///
/// Returns the number of valid signatures it reports.
#[track_caller]
pub fn dnspython(skr: &Path) -> usize {
    let out = Command::new("/usr/bin/python3")
        .arg(repo("scripts/verify-skr-dnspython.py"))
        .arg(skr)
        .output()
        .expect("/usr/bin/python3 (apt-get install python3-dnspython python3-cryptography)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "dnspython rejects {}:\n{stdout}{stderr}",
        skr.display()
    );
    assert!(stderr.starts_with("OK: "), "{stderr}");
    stderr
        .trim_start_matches("OK: ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the count: {stderr}"))
}

/// A tmpfs mounted on a directory for one test, unmounted when dropped.
pub struct Mount {
    dir: PathBuf,
}

impl Mount {
    /// Mounts a tmpfs with `options` on `dir`; panics (the test FAILS, never skips) when impossible.
    #[track_caller]
    pub fn tmpfs(dir: &Path, options: &str) -> Mount {
        std::fs::create_dir_all(dir).expect("mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs", s(dir)])
            .output();
        match out {
            Ok(out) if out.status.success() => Mount {
                dir: dir.to_owned(),
            },
            Ok(out) => panic!(
                "cannot mount a tmpfs ({options}) on {}: {}\n\
                 this test needs root (CAP_SYS_ADMIN) to mount a small file system; \
                 run it as root, as CI does",
                dir.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => panic!("cannot run mount(8): {e}; this test needs util-linux mount and root"),
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Busy (e.g. a failed assertion while a file was open): detach lazily.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// Writes a 9-bundle KSR for `example.` (the root's quarter layout from
/// 2026-04-01) with three fresh ZSKs of `algorithm` (`bits` for RSA), as the
/// zone operator makes it: one outgoing, one current, one incoming.
pub fn example_ksr(
    path: &Path,
    algorithm: ceremony_dnssec::SecurityAlgorithm,
    bits: u32,
    id: &str,
) {
    use ceremony_keys::soft::SoftKey;
    use ceremony_signer::request::{generate_ksr, Schedule, ZskSlots};
    let zsk = |label: &str| {
        SoftKey::generate(label, algorithm, bits)
            .and_then(|k| k.with_flags(256))
            .expect("zsk")
    };
    let (old, current, next) = (zsk("zsk-old"), zsk("zsk-current"), zsk("zsk-next"));
    let slots = |key, name: &str, first, last| ZskSlots {
        key,
        key_identifier: name.to_owned(),
        first,
        last,
    };
    let ksr = generate_ksr(
        "example.",
        id,
        &[
            slots(&old, "old", 1, 1),
            slots(&current, "current", 1, 9),
            slots(&next, "next", 9, 9),
        ],
        &Schedule::root_quarter("2026-04-01T00:00:00Z".parse().expect("start")),
        172_800,
    )
    .expect("ksr");
    std::fs::write(path, ceremony_formats::icann::write_ksr(&ksr)).expect("write the KSR");
}

/// A fresh age X25519 identity written to `dir/name`: (identity file, recipient `age1…`).
pub fn age_identity(dir: &Path, name: &str) -> (PathBuf, String) {
    use age::secrecy::ExposeSecret as _;
    let identity = age::x25519::Identity::generate();
    let path = dir.join(name);
    std::fs::write(&path, format!("{}\n", identity.to_string().expose_secret()))
        .expect("identity file");
    (path, identity.to_public().to_string())
}

/// Writes `dir/signer.toml` for one threshold KSK `label` of `algorithm`
/// (e.g. `RSASHA256`, `ED25519`) with key tag `tag`, signing `example.` KSRs
/// whose ZSKs use that algorithm.
pub fn signer_config(dir: &Path, label: &str, algorithm: &str, tag: u16) -> PathBuf {
    let path = dir.join("signer.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[keys.ksk]
label = "{label}"
algorithm = "{algorithm}"
key_tag = {tag}
valid_from = "2026-01-01T00:00:00Z"

[request_policy]
acceptable_domains = ["example."]
approved_algorithms = ["{algorithm}"]
"#
        ),
    )
    .expect("config");
    path
}
