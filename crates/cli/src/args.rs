//! The command-line grammar: nouns, then verbs (DESIGN §6).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Offline-KSK key ceremonies for DNSSEC: check KSRs, verify SKRs, hash files for reading aloud.
#[derive(Debug, Parser)]
#[command(name = "ceremony", version, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Print machine-readable JSON instead of the human report.
    #[arg(long, global = true)]
    pub json: bool,
    /// Judge times as of this instant (RFC 3339, e.g. 2017-03-15T00:00:00Z) instead of now.
    #[arg(long, global = true, value_name = "RFC3339")]
    pub now: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a small ceremony on embedded data and explain each step.
    Demo {
        /// Directory to write the ceremony's files into (created if missing).
        #[arg(long, default_value = "ceremony-demo")]
        dir: PathBuf,
        /// Run it through this offline-KSK format: icann (the root's), knot or bind.
        #[arg(long, value_enum, default_value_t = Format::Icann)]
        format: Format,
        /// The KSK: a 3-of-7 threshold key held by seven simulated TCRs, or one keystore key.
        #[arg(long, value_enum, default_value_t = DemoKey::Threshold)]
        key: DemoKey,
    },
    /// Print the SHA-256 of files in hex and as PGP words, for reading aloud.
    Hash {
        /// Files to hash; `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Key Signing Requests.
    #[command(subcommand)]
    Ksr(KsrCommand),
    /// Signed Key Responses.
    #[command(subcommand)]
    Skr(SkrCommand),
    /// Trust anchors (RFC 9718 root-anchors.xml).
    #[command(subcommand)]
    Anchor(AnchorCommand),
    /// Key inventory in the keystore or HSM.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Classic M-of-N quorum: split a key-encryption key to holders, activate it, transfer a share.
    #[command(subcommand)]
    Quorum(crate::cmd::quorum::QuorumCommand),
    /// Sign a KSR with the configured KSKs and write the SKR.
    Sign {
        /// The KSR to sign.
        ksr: PathBuf,
        /// Signer configuration: our TOML, or the root signer's ksrsigner.yaml.
        #[arg(long, value_name = "CFG")]
        config: PathBuf,
        /// The rollover schema to apply.
        #[arg(long, default_value = "normal")]
        schema: String,
        /// The SKR of the previous quarter, for the chain and safety checks.
        #[arg(long, value_name = "SKR")]
        previous_skr: Option<PathBuf>,
        /// Where to write the SKR.
        #[arg(short = 'o', long = "output", value_name = "SKR")]
        output: PathBuf,
        /// Sign without asking for the word Yes.
        #[arg(long)]
        yes: bool,
        /// Knot DNS and BIND 9 KSRs: the signing rules and output.
        #[command(flatten)]
        text: TextSignArgs,
        /// Record this signing as a ceremony in DIR/transcript; the SKR must be written inside DIR.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
        /// Unlock the keystore KSKs with M holders' quorum shares instead of a passphrase.
        #[command(flatten)]
        quorum: QuorumUnlockArgs,
    },
    /// The public record of a ceremony: verify it, prove entries, cosign it as a witness.
    #[command(subcommand)]
    Transcript(TranscriptCommand),
    /// Translate a KSR or SKR between the ICANN, Knot DNS and BIND 9 formats, saying what is lost.
    Convert {
        /// The KSR or SKR.
        input: PathBuf,
        /// The format to write.
        #[arg(long, value_enum)]
        to: Format,
        /// The input's format.
        #[arg(long, value_enum, default_value_t = Format::Auto)]
        format: Format,
        /// Where to write the converted document.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
    },
    /// A KSK shared among holders (threshold RSA), offline: deal, sign partials, combine, reshare.
    #[command(subcommand)]
    Threshold(crate::cmd::threshold::ThresholdCommand),
    /// Known-answer tests of every algorithm, the formats and the HSM, before the machine is used.
    Selftest {
        /// Also sign a fixed message with each configured KSK and verify it in software.
        #[arg(long, value_name = "CFG")]
        config: Option<PathBuf>,
    },
}

/// `ceremony sign --quorum`: the keystore KSKs, encrypted to a quorum's
/// key-encryption key, opened by M holders' shares rebuilt in memory.
#[derive(Debug, Args, Default, Clone)]
pub struct QuorumUnlockArgs {
    /// The public quorum file (quorum.json) whose key-encryption key the keystore KSKs are encrypted to.
    #[arg(long, value_name = "FILE", requires = "quorum_shares")]
    pub quorum: Option<PathBuf>,
    /// A present holder's share file (share-<i>.age); pair each with a --quorum-identity, in order.
    #[arg(long = "quorum-share", value_name = "FILE", requires = "quorum")]
    pub quorum_shares: Vec<PathBuf>,
    /// That holder's credential: an age identity file, or for a passphrase holder the passphrase file.
    #[arg(long = "quorum-identity", value_name = "FILE", requires = "quorum")]
    pub quorum_identities: Vec<PathBuf>,
}

/// How `ceremony sign` answers a Knot DNS or BIND 9 KSR; ICANN KSRs refuse these.
#[derive(Debug, Args, Default, Clone)]
pub struct TextSignArgs {
    /// Whose rules make the SKR's bundles and signatures: `knot` (keymgr
    /// sign-ksr) or `bind` (dnssec-ksr sign). Defaults to the KSR's own format.
    #[arg(long, value_enum, value_name = "PEER")]
    pub preset: Option<Peer>,
    /// The SKR's format; defaults to the KSR's.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: Option<Format>,
    /// BIND: answer the last KSR bundle up to this instant (RFC 3339), as `dnssec-ksr sign -e`.
    #[arg(long, value_name = "RFC3339")]
    pub end: Option<String>,
    /// Signature validity (Knot rrsig-lifetime, BIND signatures-validity-dnskey), e.g. 21d.
    #[arg(long, value_name = "DURATION")]
    pub validity: Option<String>,
    /// Re-signing margin (Knot rrsig-refresh, BIND signatures-refresh), e.g. 11d.
    #[arg(long, value_name = "DURATION")]
    pub refresh: Option<String>,
    /// How long before each bundle's start its signatures begin (Knot 90m, BIND 1h).
    #[arg(long, value_name = "DURATION")]
    pub inception_offset: Option<String>,
    /// Publish and sign CDNSKEY for the KSKs (Knot cds-cdnskey-publish; BIND always).
    #[arg(long, value_name = "on|off")]
    pub cdnskey: Option<OnOff>,
    /// CDS digest types to publish and sign: a list such as sha256,sha384, or none.
    #[arg(long, value_name = "DIGESTS")]
    pub cds: Option<String>,
    /// The DNSKEY TTL of the response (BIND dnskey-ttl; Knot keeps the KSR's).
    #[arg(long, value_name = "SECONDS")]
    pub dnskey_ttl: Option<u32>,
}

/// The offline-KSK programs whose rules `ceremony sign --preset` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Peer {
    /// Knot DNS `keymgr sign-ksr`.
    Knot,
    /// BIND 9 `dnssec-ksr sign`.
    Bind,
}

/// A switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// Yes.
    On,
    /// No.
    Off,
}

/// `ceremony transcript …`
#[derive(Debug, Subcommand)]
pub enum TranscriptCommand {
    /// Check a ceremony's transcript, its output files and its story; print the timeline.
    Verify {
        /// The ceremony directory (holding transcript/ and the outputs).
        dir: PathBuf,
        /// The log key announced when the ceremony opened; without it, the key the transcript declares.
        #[arg(long, value_name = "VKEY")]
        log_key: Option<String>,
        /// A witness's verifier key; without any, the witnesses the transcript declares.
        #[arg(long = "witness-key", value_name = "VKEY")]
        witness_keys: Vec<String>,
        /// Accept a ceremony that is still open or was interrupted: audit what it committed.
        #[arg(long)]
        allow_open: bool,
    },
    /// Print an inclusion proof of an entry (C2SP tlog-proof), or a consistency proof.
    Prove {
        /// The ceremony directory.
        dir: PathBuf,
        /// The entry to prove, in the latest checkpoint.
        #[arg(long, value_name = "N", required_unless_present = "consistency")]
        entry: Option<u64>,
        /// Prove that the checkpoint of NEW entries extends the tree of OLD
        /// (a tlog-witness add-checkpoint body, ready for a witness).
        #[arg(long, num_args = 2, value_names = ["OLD", "NEW"], conflicts_with = "entry")]
        consistency: Option<Vec<u64>>,
        /// The log key; without it, the key the transcript declares.
        #[arg(long, value_name = "VKEY")]
        log_key: Option<String>,
        /// A witness's verifier key; without any, the witnesses the transcript declares.
        #[arg(long = "witness-key", value_name = "VKEY")]
        witness_keys: Vec<String>,
    },
    /// Verify a proof printed by `transcript prove`, with nothing but the keys.
    VerifyProof {
        /// The proof; `-` reads standard input.
        proof: PathBuf,
        /// The log key.
        #[arg(long, value_name = "VKEY")]
        log_key: String,
        /// A witness's verifier key, to report its cosignature.
        #[arg(long = "witness-key", value_name = "VKEY")]
        witness_keys: Vec<String>,
        /// A signed checkpoint already trusted: an inclusion proof must lead to
        /// its tree; a consistency proof must start from it.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
    /// Be a witness, offline: answer a tlog-witness add-checkpoint request.
    Cosign {
        /// The request body; `-` reads standard input.
        request: PathBuf,
        /// The witness's state directory (created if missing).
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// The witness's key file (from `transcript witness-keygen`).
        #[arg(long, value_name = "FILE")]
        key_file: PathBuf,
        /// The age identity file the key file is encrypted to (AGE-SECRET-KEY-1…).
        #[arg(long, value_name = "FILE", required_unless_present = "passphrase_env")]
        identity: Option<PathBuf>,
        /// The key file's passphrase is in this variable.
        #[arg(long, value_name = "VAR", conflicts_with = "identity")]
        passphrase_env: Option<String>,
        /// The verifier key of a log this witness follows.
        #[arg(long = "log-key", value_name = "VKEY", required = true)]
        log_keys: Vec<String>,
    },
    /// Make a witness key: write its key file, age-encrypted, and print its verifier key.
    WitnessKeygen {
        /// The witness's name, e.g. witness.example/w1.
        name: String,
        /// Where to write the key file (mode 0600; never overwritten).
        #[arg(long, value_name = "FILE")]
        key_file: PathBuf,
        /// Encrypt the key file to this age X25519 recipient (age1…).
        #[arg(
            long,
            value_name = "AGE_RECIPIENT",
            required_unless_present = "passphrase_env"
        )]
        recipient: Option<String>,
        /// Encrypt the key file with the passphrase in this variable.
        #[arg(long, value_name = "VAR", conflicts_with = "recipient")]
        passphrase_env: Option<String>,
    },
    /// Store an offline witness's cosignature with the checkpoint it cosigns.
    Attach {
        /// The ceremony directory.
        dir: PathBuf,
        /// The cosignature lines the witness returned (`transcript cosign`'s output); `-` reads standard input.
        #[arg(long, value_name = "FILE")]
        cosignature: PathBuf,
        /// The witness's verifier key; the ceremony must declare it.
        #[arg(long, visible_alias = "witness-vkey", value_name = "VKEY")]
        witness_key: String,
        /// The log key; without it, the key the transcript declares.
        #[arg(long, value_name = "VKEY")]
        log_key: Option<String>,
    },
}

/// `ceremony ksr …`
#[derive(Debug, Subcommand)]
pub enum KsrCommand {
    /// Check a KSR against policy: every check by its published id.
    Validate {
        /// The KSR file.
        ksr: PathBuf,
        /// The SKR answering the previous KSR, to check the chain.
        #[arg(long, value_name = "SKR")]
        previous_skr: Option<PathBuf>,
        /// Policy configuration (TOML); the root's practice when absent.
        #[arg(long, value_name = "CFG")]
        config: Option<PathBuf>,
        /// The KSR's format.
        #[arg(long, value_enum, default_value_t = Format::Auto)]
        format: Format,
    },
    /// Write a KSR from ZSKs and a schedule, in any format; ICANN with proof of possession.
    Generate(KsrGenerateArgs),
}

/// `ceremony ksr generate`: the zone operator's KSR from its ZSKs and a schedule.
#[derive(Debug, Args)]
pub struct KsrGenerateArgs {
    /// The zone, e.g. `.` or `example.`.
    #[arg(long, default_value = ".")]
    pub zone: String,
    /// The format to write.
    #[arg(long, value_enum, default_value_t = Format::Icann)]
    pub format: Format,
    /// A ZSK from the configuration's keystore or HSM, by its name in the keys
    /// section; `NAME@FIRST-LAST` publishes it in those bundles only.
    #[arg(long, value_name = "NAME[@FIRST-LAST]")]
    pub zsk: Vec<String>,
    /// A ZSK from a file: a PEM private key (as Knot DNS keeps them) or a BIND
    /// K*.key public key (text formats only); `FILE@FIRST-LAST` as for --zsk.
    #[arg(long, value_name = "FILE[@FIRST-LAST]")]
    pub zsk_file: Vec<String>,
    /// Signer configuration naming the keystore or HSM, for --zsk.
    #[arg(long, value_name = "CFG")]
    pub config: Option<PathBuf>,
    /// The first bundle's start (RFC 3339); now when absent.
    #[arg(long, value_name = "RFC3339")]
    pub start: Option<String>,
    /// The number of bundles.
    #[arg(long, default_value_t = 9)]
    pub bundles: usize,
    /// Time between bundle starts, e.g. 10d.
    #[arg(long, default_value = "10d", value_name = "DURATION")]
    pub interval: String,
    /// ICANN: each bundle's validity, e.g. 21d.
    #[arg(long, default_value = "21d", value_name = "DURATION")]
    pub validity: String,
    /// The DNSKEY TTL.
    #[arg(long, default_value_t = 172_800)]
    pub ttl: u32,
    /// ICANN: the request id; derived from the zone and start when absent.
    #[arg(long)]
    pub id: Option<String>,
    /// Where to write the KSR.
    #[arg(short = 'o', long = "output", value_name = "KSR")]
    pub output: PathBuf,
}

/// `ceremony skr …`
#[derive(Debug, Subcommand)]
pub enum SkrCommand {
    /// Verify an SKR's signatures, and with --ksr that it answers that KSR.
    Verify {
        /// The SKR file.
        skr: PathBuf,
        /// The KSR it answers: adds SKR-MATCH and SKR-PAIR.
        #[arg(long, value_name = "KSR")]
        ksr: Option<PathBuf>,
        /// The previous SKR: adds KSR-POLICY-SAFETY for the KSK hand-over.
        #[arg(long, value_name = "SKR")]
        previous_skr: Option<PathBuf>,
        /// Trust anchors (root-anchors.xml); for the root zone the built-in IANA anchors are the default.
        #[arg(long, value_name = "FILE")]
        trust_anchor: Option<PathBuf>,
        /// Policy configuration (TOML).
        #[arg(long, value_name = "CFG")]
        config: Option<PathBuf>,
    },
}

/// `ceremony key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a KSK in the keystore or an HSM token (non-extractable there).
    Generate {
        /// The new key's label.
        label: String,
        /// Signer configuration naming the keystore and HSMs.
        #[arg(long, value_name = "CFG")]
        config: PathBuf,
        /// RSASHA256, ECDSAP256SHA256 or ED25519.
        #[arg(long, default_value = "RSASHA256")]
        algorithm: String,
        /// RSA modulus size: 2048, 3072 or 4096.
        #[arg(long, default_value_t = 2048)]
        bits: u32,
        /// Where: `keystore`, or the name of an `hsm` entry.
        #[arg(long = "in", default_value = "keystore", value_name = "PLACE")]
        place: String,
        /// Record this as a ceremony in DIR/transcript, writing the key's DNSKEY and DS to DIR/LABEL.dnskey.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
    },
    /// Import a PEM private key into the keystore.
    Import {
        /// The key's label.
        label: String,
        /// The PEM file (PKCS#8, PKCS#1 RSA or SEC1 P-256).
        #[arg(long, value_name = "FILE")]
        pem: PathBuf,
        /// Signer configuration naming the keystore.
        #[arg(long, value_name = "CFG")]
        config: PathBuf,
        /// Record this as a ceremony in DIR/transcript, writing the key's DNSKEY and DS to DIR/LABEL.dnskey.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
    },
    /// List the keys in the keystore and tokens, with tag, DS and whether they match the configuration.
    List {
        /// Signer configuration.
        #[arg(long, value_name = "CFG")]
        config: PathBuf,
    },
    /// Delete a key from the keystore or token.
    Delete {
        /// The key's label.
        label: String,
        /// Signer configuration.
        #[arg(long, value_name = "CFG")]
        config: PathBuf,
        /// Delete without asking for the word Yes.
        #[arg(long)]
        yes: bool,
        /// Record this as a ceremony in DIR/transcript.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
    },
    /// Print a key's DNSKEY record (and its revoked form) in zone-file format.
    Dnskey {
        /// The key's label.
        label: String,
        /// Signer configuration.
        #[arg(long, value_name = "CFG")]
        config: PathBuf,
        /// The zone that owns the key.
        #[arg(long, default_value = ".")]
        zone: String,
    },
    /// Print a key's DS records (SHA-256 and SHA-384) in zone-file format.
    Ds {
        /// The key's label.
        label: String,
        /// Signer configuration.
        #[arg(long, value_name = "CFG")]
        config: PathBuf,
        /// The zone that owns the key.
        #[arg(long, default_value = ".")]
        zone: String,
    },
}

/// `ceremony anchor …`
#[derive(Debug, Subcommand)]
pub enum AnchorCommand {
    /// Write RFC 9718 root-anchors.xml for the configured KSKs, and their DS records.
    Write {
        /// Where to write the anchors.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// Signer configuration: the keys, with valid_from and valid_until.
        #[arg(long, value_name = "CFG")]
        config: PathBuf,
        /// The zone, `.` for the root.
        #[arg(long, default_value = ".")]
        zone: String,
        /// Only these configured keys (names from the keys section); all when absent.
        #[arg(long = "key", value_name = "NAME")]
        keys: Vec<String>,
        /// Record this as a ceremony in DIR/transcript; the anchors must be written inside DIR.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
    },
    /// Check that each KeyDigest's PublicKey, Flags and Algorithm hash to its Digest and KeyTag.
    Verify {
        /// The root-anchors.xml file.
        file: PathBuf,
    },
}

/// The KSK `ceremony demo` signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoKey {
    /// Shoup threshold RSA-2048, 3 of 7: seven simulated TCRs, three approve and sign.
    Threshold,
    /// One RSA-2048 key in the encrypted software keystore.
    Keystore,
}

/// Document formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Detect the format from the content.
    Auto,
    /// The root zone's KSR/SKR XML.
    Icann,
    /// Knot DNS `keymgr` offline-KSK text.
    Knot,
    /// BIND 9 `dnssec-ksr` text.
    Bind,
}
