//! A private SoftHSM2 for the tests of one test binary.
//!
//! SoftHSM reads `SOFTHSM2_CONF` in `C_Initialize`, which happens once per
//! process. So every process gets one token directory, made on first use
//! (a `OnceLock`), holding every token the tests need, each test using its
//! own token label. Under nextest (a process per test) and plain
//! `cargo test` (one process, tests on threads) alike, the module is
//! initialised after all tokens exist and always with the same config.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use ceremony_keys::pkcs11::{Pin, Pkcs11Config, SOFTHSM2_MODULE};
use secrecy::SecretString;

/// The user PIN of every test token.
pub const PIN: &str = "123456";
/// The security officer PIN of every test token.
const SO_PIN: &str = "12345678";

/// The token holding the shared PEM keys (read-only tests share it).
pub const IMPORTED: &str = "imported";
/// The token the key-generation test creates and deletes keys in.
pub const GENERATED: &str = "generated";
/// The token the wrong-PIN test knocks on, so no login elsewhere hides the fault.
pub const FAULTS: &str = "faults";

/// A shared test key, imported into [`IMPORTED`].
pub struct SharedKey {
    /// The object label in the token.
    pub label: &'static str,
    /// The CKA_ID.
    pub id: &'static [u8],
    /// Path below `shared/data/icann/`.
    pub file: &'static str,
    /// The key tag as a KSK (flags 257).
    pub tag: u16,
    /// Key size.
    pub bits: u32,
}

/// The shared keys, with their tags (EC1/EC2 per RFC 6605, see tests/pem.rs).
pub const KEYS: &[SharedKey] = &[
    SharedKey {
        label: "KSK1",
        id: &[0x01],
        file: "legacy/ksk1.pem",
        tag: 5017,
        bits: 2048,
    },
    SharedKey {
        label: "KSK2",
        id: &[0x02],
        file: "legacy/ksk2.pem",
        tag: 55186,
        bits: 2048,
    },
    SharedKey {
        label: "RSA1",
        id: &[0x11],
        file: "softhsm-keys/rsa-2048-1.pem",
        tag: 25486,
        bits: 2048,
    },
    SharedKey {
        label: "RSA2",
        id: &[0x12],
        file: "softhsm-keys/rsa-2048-2.pem",
        tag: 33946,
        bits: 2048,
    },
    SharedKey {
        label: "EC1",
        id: &[0x21],
        file: "softhsm-keys/ec-p256-1.pem",
        tag: 9144,
        bits: 256,
    },
    SharedKey {
        label: "EC2",
        id: &[0x22],
        file: "softhsm-keys/ec-p256-2.pem",
        tag: 15717,
        bits: 256,
    },
];

/// KSK1 once more, without its public key object: the RSA fallback reads the
/// modulus from the private object.
pub const PRIVATE_ONLY: &str = "KSK1-PRIVATE-ONLY";
/// EC1 twice under one label with ids 31 and 32.
pub const DUPLICATE: &str = "DUP";

/// The per-process SoftHSM setup.
pub struct SoftHsm {
    /// `softhsm2.conf`, to pass as `SOFTHSM2_CONF`.
    pub conf: PathBuf,
}

/// The shared key file `rel` (below `shared/data/icann/`).
pub fn shared(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/icann")
        .join(rel)
}

/// The PEM text of a shared key.
pub fn pem(rel: &str) -> String {
    std::fs::read_to_string(shared(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The setup of this process, made on first call.
pub fn softhsm() -> &'static SoftHsm {
    static SETUP: OnceLock<SoftHsm> = OnceLock::new();
    SETUP.get_or_init(setup)
}

/// A config for `token` in this process's SoftHSM, with the right PIN.
pub fn config(token: &str) -> Pkcs11Config {
    Pkcs11Config {
        module: PathBuf::from(SOFTHSM2_MODULE),
        token_label: token.to_owned(),
        pin: Pin::Value(SecretString::from(PIN)),
        env: vec![(
            "SOFTHSM2_CONF".to_owned(),
            softhsm().conf.display().to_string(),
        )],
    }
}

fn require_tools() {
    const INSTALL: &str =
        "the PKCS#11 tests drive a real SoftHSM2: apt-get install softhsm2 openssl";
    for tool in ["softhsm2-util", "openssl"] {
        if Command::new(tool).arg("--version").output().is_err() {
            panic!("{tool} not found; {INSTALL}");
        }
    }
    if !Path::new(SOFTHSM2_MODULE).exists() {
        panic!("{SOFTHSM2_MODULE} not found; {INSTALL}");
    }
}

fn run(conf: &Path, program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .env("SOFTHSM2_CONF", conf)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn setup() -> SoftHsm {
    require_tools();
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("softhsm");
    std::fs::create_dir_all(&base).expect("target tmp dir");
    remove_stale(&base);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = base.join(format!("p{}-{nanos:x}", std::process::id()));
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
    for token in [IMPORTED, GENERATED, FAULTS] {
        run(
            &conf,
            "softhsm2-util",
            &[
                "--init-token",
                "--free",
                "--label",
                token,
                "--pin",
                PIN,
                "--so-pin",
                SO_PIN,
            ],
        );
    }
    let import = |file: &str, label: &str, id: &[u8], extra: &[&str]| {
        let p8 = dir.join(format!("{label}.p8"));
        let p8 = p8.to_str().expect("utf-8 path");
        let src = shared(file);
        run(
            &conf,
            "openssl",
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                src.to_str().expect("utf-8 path"),
                "-out",
                p8,
            ],
        );
        let id = hex(id);
        let mut args = vec![
            "--import", p8, "--token", IMPORTED, "--label", label, "--id", &id, "--pin", PIN,
        ];
        args.extend_from_slice(extra);
        run(&conf, "softhsm2-util", &args);
        // The unencrypted PKCS#8 copy is not needed any more.
        let _ = std::fs::remove_file(p8);
    };
    for key in KEYS {
        import(key.file, key.label, key.id, &[]);
    }
    import(
        "legacy/ksk1.pem",
        PRIVATE_ONLY,
        &[0x03],
        &["--no-public-key"],
    );
    import("softhsm-keys/ec-p256-1.pem", DUPLICATE, &[0x31], &[]);
    import("softhsm-keys/ec-p256-1.pem", DUPLICATE, &[0x32], &[]);
    SoftHsm { conf }
}

/// Removes the token directories of earlier test processes (older than an hour).
fn remove_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
