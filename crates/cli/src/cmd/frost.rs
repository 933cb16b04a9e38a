//! `ceremony threshold … ` for FROST Ed25519 keys (RFC 9591): offline, with
//! files only, in two rounds.
//!
//! * `deal --algorithm ED25519` makes the group key and one age-encrypted
//!   share per holder, and writes `public.json` (format
//!   `ceremony-frost-public/1`, distinct from the RSA one).
//! * `sign --commitments-out C --package P` is run by each holder. It
//!   recomputes and checks every bundle exactly as an RSA holder does, asks
//!   `Yes`, writes one commitment per bundle to `C` (round one), then waits,
//!   with the nonces in its memory only, for the coordinator's package `P`. It
//!   signs only if every message in `P` is the signed data it recomputed and
//!   its own commitments are in `P`, writes its partials (round two) and
//!   exits: the nonces die with the process. A holder that was stopped
//!   between the rounds starts again, with fresh commitments.
//! * `package` (the coordinator) builds the signing package of every bundle
//!   from the commitments of at least t holders.
//! * `combine` (the coordinator) verifies every signature share against its
//!   holder's verifying share, aggregates, and signs the SKR through the
//!   normal signer path (every check, SKR-VERIFY).
//!
//! ```text
//! holder i:     threshold sign …  --commitments-out c-i.json --package package.json -o p-i.json
//! coordinator:  threshold package … --commitments c-1.json c-3.json -o package.json
//! holder i:     (finds package.json, signs, writes p-i.json, exits)
//! coordinator:  threshold combine … --package package.json --partials p-1.json p-3.json -o skr.xml
//! ```
//!
//! `threshold reshare refresh|apply` (new shares of the same key) are in
//! `frost_refresh.rs`.
//!
//! With `--ceremony DIR` each of these records what its RSA counterpart
//! records, through the same code in `threshold.rs`: the files read, the
//! checks, the key dealt, the partial signatures received, the signatures
//! produced and every output, logged before it is renamed into place. A
//! holder records both rounds in one ceremony (its process lives through
//! both); `package` records its check of the commitments
//! (`FROST-COMMITMENTS`) and the package.

use std::collections::{BTreeMap, HashMap};
use std::iter;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use ceremony_dnssec::{parse_name, DigestAlgorithm, Dnskey, Ds};
use ceremony_keys::keystore::Unlock;
use ceremony_keys::KeySigner;
use ceremony_signer::threshold::{hex32, schema_keys, sha256, FrostCombiner};
use ceremony_signer::{check, KeyRing, SignError, SignRequest};
use ceremony_threshold::frost::{
    self, GroupKey, Holder, SignatureShare, SigningCommitments, SigningNonces, SigningPackage,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    first_and_holders, holder_inputs, open_deal, open_ksr_ceremony, recompute_for, record_partials,
    sign_combined, write_dealing, written_headings, DealArgs, HolderArgs, Recomputed,
    MAX_SHARE_FILE,
};
use crate::args::Global;
use crate::ceremony_log::check_event;
use crate::cmd::sign::sign_failure;
use crate::cmd::{confirm, emit, emit_json, now};
use crate::render;
use crate::{Env, Failure, EXIT_CHECKS_FAILED};

#[path = "frost_refresh.rs"]
mod refresh;

pub(super) use refresh::{apply, refresh, refuse_for_rsa_reshare, ApplyArgs, RefreshArgs};
#[path = "frost_repair.rs"]
mod repair;
pub(super) use repair::{enrol, EnrolCommand};

/// The format tag of a FROST `public.json`.
const PUBLIC_FORMAT: &str = "ceremony-frost-public/1";
/// The format tag of a FROST share file's plaintext.
const SHARE_FORMAT: &str = "ceremony-frost-share/1";
/// The format tag of a holder's round-one commitments file.
const COMMITMENTS_FORMAT: &str = "ceremony-frost-commitments/1";
/// The format tag of the coordinator's signing package file.
const PACKAGE_FORMAT: &str = "ceremony-frost-package/1";
/// The format tag of a holder's round-two partials file.
const PARTIALS_FORMAT: &str = "ceremony-frost-partials/1";
/// The DNSSEC algorithm of every FROST key here.
const ALGORITHM: &str = "ED25519";
/// The transcript's ID for `package`'s check of the holders' commitments:
/// each for this KSR, key and data, one per holder, at least t of them.
const COMMITMENTS_CHECK: &str = "FROST-COMMITMENTS";
/// The transcript's ID for a holder's check of the signing package: for
/// this KSR and key, every message the data it recomputed, its own
/// commitments in it.
const PACKAGE_CHECK: &str = "FROST-PACKAGE";
/// How often a holder looks for the signing package.
const POLL: Duration = Duration::from_millis(200);

/// A holder's two-round options of `threshold sign` (FROST keys only).
#[derive(Debug, clap::Args)]
pub struct RoundArgs {
    /// FROST: where to write your round-one commitments, for the coordinator.
    #[arg(long, value_name = "FILE")]
    pub commitments_out: Option<PathBuf>,
    /// FROST: the coordinator's signing package to wait for (round two).
    #[arg(long, value_name = "FILE")]
    pub package: Option<PathBuf>,
    /// FROST: how long to wait for the signing package, e.g. 10m or 90s.
    #[arg(long, value_name = "DURATION", default_value = "10m")]
    pub wait: String,
}

impl RoundArgs {
    /// Refuses the round options for a threshold RSA key, which signs in one round.
    ///
    /// # Errors
    /// A usage failure when `--commitments-out` or `--package` is given.
    pub(super) fn refuse_for_rsa(&self) -> Result<(), Failure> {
        refuse_package_for_rsa(self.commitments_out.as_deref().or(self.package.as_deref()))
    }
}

/// Refuses FROST round files for a threshold RSA key.
///
/// # Errors
/// A usage failure when `file` is given.
pub(super) fn refuse_package_for_rsa(file: Option<&Path>) -> Result<(), Failure> {
    match file {
        None => Ok(()),
        Some(path) => Err(Failure::input(format!(
            "{}: --commitments-out and --package are for FROST (ED25519) keys; \
             this public.json is a threshold RSA key, which signs in one round",
            path.display()
        ))),
    }
}

/// `ceremony threshold package`: the coordinator's signing package.
#[derive(Debug, clap::Args)]
pub struct PackageArgs {
    /// The KSR.
    ksr: PathBuf,
    /// The dealer's public.json (a FROST key).
    #[arg(long, value_name = "FILE")]
    public: PathBuf,
    /// The holders' round-one commitments files, at least the threshold of them.
    #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
    commitments: Vec<PathBuf>,
    /// The signer configuration (keys, policies, schemas).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The schema to apply.
    #[arg(long, default_value = "normal")]
    schema: String,
    /// Where to write the signing package.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Record this as a ceremony in DIR/transcript; the package must be inside DIR.
    #[arg(long, value_name = "DIR")]
    ceremony: Option<PathBuf>,
}

/// `public.json` of a FROST key: everything public about it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicFile {
    format: String,
    algorithm: String,
    threshold: u16,
    holders: u16,
    key_tag: u16,
    group_key: GroupKey,
}

/// A FROST share file's plaintext: the parameters, the index and the key package.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareFile {
    format: String,
    algorithm: String,
    threshold: u16,
    holders: u16,
    index: u16,
    key_tag: u16,
    key_package: Holder,
}

/// The KSR a round file is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KsrRef {
    id: String,
    sha256: String,
}

/// One bundle's round-one commitment.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BundleCommitment {
    id: String,
    signed_data_sha256: String,
    commitments: SigningCommitments,
}

/// A holder's round-one file: public; nonces never leave the holder's process.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitmentsFile {
    format: String,
    key_tag: u16,
    ksr: KsrRef,
    holder: u16,
    bundles: Vec<BundleCommitment>,
}

/// One bundle's signing package: the message and every signer's commitment.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageBundle {
    id: String,
    signed_data_sha256: String,
    /// The RRSIG signed data, base64.
    message: String,
    commitments: BTreeMap<u16, SigningCommitments>,
}

/// The coordinator's signing package file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageFile {
    format: String,
    key_tag: u16,
    ksr: KsrRef,
    signers: Vec<u16>,
    bundles: Vec<PackageBundle>,
}

/// One bundle's signature share.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialBundle {
    id: String,
    signed_data_sha256: String,
    share: SignatureShare,
}

/// A holder's round-two file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialsFile {
    format: String,
    key_tag: u16,
    ksr: KsrRef,
    holder: u16,
    /// SHA-256 of the package file the holder signed, hex.
    package_sha256: String,
    bundles: Vec<PartialBundle>,
}

/// Whether `path` is a FROST `public.json` (else it is left to the RSA reader).
///
/// # Errors
/// When the file cannot be read.
pub(super) fn is_frost(path: &Path) -> Result<bool, Failure> {
    let bytes = ceremony_formats::read_bounded(path)?;
    let format = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_owned));
    Ok(format.as_deref() == Some(PUBLIC_FORMAT))
}

/// A refusal of the checks (exit 1): every problem, and what to do.
fn refused(what: &str, problems: &[String], hint: &str) -> Failure {
    Failure {
        code: EXIT_CHECKS_FAILED,
        message: format!("{what} refused: {}", problems.join("; ")),
        hint: Some(hint.to_owned()),
    }
}

/// Reads a JSON round file with the given format tag.
fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &str,
    format: &str,
) -> Result<(T, [u8; 32]), Failure> {
    let name = path.display();
    let bytes = ceremony_formats::read_bounded(path)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Failure::input(format!("{name}: not {what}: {e}")))?;
    let found = value.get("format").and_then(|f| f.as_str()).unwrap_or("");
    if found != format {
        return Err(Failure::input(format!(
            "{name}: format {found:?}, not {format} ({what})"
        )));
    }
    let parsed = serde_json::from_value(value)
        .map_err(|e| Failure::input(format!("{name}: not {what}: {e}")))?;
    Ok((parsed, sha256(&bytes)))
}

fn read_public(path: &Path) -> Result<PublicFile, Failure> {
    let name = path.display();
    let (public, _): (PublicFile, _) = read_json(path, "a FROST public key", PUBLIC_FORMAT)?;
    let group = &public.group_key;
    let threshold = group
        .min_signers()
        .map_err(|e| Failure::input(format!("{name}: {e}")))?;
    let holders = group.holders();
    if public.algorithm != ALGORITHM
        || threshold != public.threshold
        || holders.len() != usize::from(public.holders)
    {
        return Err(Failure::input(format!(
            "{name}: says {} {} of {}, but its group key is {threshold} of holders {holders:?}",
            public.algorithm, public.threshold, public.holders
        )));
    }
    let tag = dnskey(&public)?.key_tag().0;
    if tag != public.key_tag {
        return Err(Failure::input(format!(
            "{name}: says key tag {}, but its group key has tag {tag}",
            public.key_tag
        )));
    }
    Ok(public)
}

fn dnskey(public: &PublicFile) -> Result<Dnskey, Failure> {
    public
        .group_key
        .dnskey()
        .map_err(|e| Failure::input(format!("the FROST group key: {e}")))
}

/// Decrypts a share and checks it belongs to `public` as the holder it says.
fn read_share(path: &Path, unlock: &Unlock, public: &PublicFile) -> Result<ShareFile, Failure> {
    let name = path.display();
    let plain = crate::sealed::open(path, unlock, MAX_SHARE_FILE)?;
    let found = serde_json::from_slice::<serde_json::Value>(&plain)
        .ok()
        .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_owned));
    if found.as_deref() != Some(SHARE_FORMAT) {
        return Err(Failure::input(format!(
            "{name}: format {found:?}, not {SHARE_FORMAT} (a FROST share)"
        )));
    }
    let share: ShareFile = serde_json::from_slice(&plain)
        .map_err(|e| Failure::input(format!("{name}: not a FROST share: {e}")))?;
    let package = share.key_package.key_package();
    let group = public.group_key.package();
    let index = share.key_package.index().ok();
    if index != Some(share.index)
        || package.verifying_key() != group.verifying_key()
        || group.verifying_shares().get(package.identifier()) != Some(package.verifying_share())
    {
        return Err(Failure::input(format!(
            "{name}: the share (holder {}) is not a share of the group key in public.json (key tag {})",
            share.index, public.key_tag
        )));
    }
    Ok(share)
}

fn parse_wait(text: &str) -> Result<Duration, Failure> {
    text.parse::<jiff::SignedDuration>()
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
        .ok_or_else(|| {
            Failure::input(format!("--wait {text:?} is not a duration"))
                .hint("write it like 10m, 90s or 1h")
        })
}

/// Creates an output directory (and its parents) if missing.
fn create_dir(path: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(path)
        .map_err(|e| Failure::environment(format!("{}: cannot create: {e}", path.display())))
}

/// Shows the check report (in JSON only when it failed) and refuses a failed one.
fn checked(
    env: &mut dyn Env,
    global: &Global,
    report: ceremony_policy::Report,
    context: &str,
) -> Result<ceremony_policy::Report, Failure> {
    if !global.json {
        emit(env, &render::report(&report, context))?;
    } else if !report.is_ok() {
        emit_json(
            env,
            &json!({"report": render::report_json(&report), "output": null}),
        )?;
    }
    if report.is_ok() {
        Ok(report)
    } else {
        Err(sign_failure(SignError::Policy(Box::new(report))))
    }
}

/// `threshold deal --algorithm ED25519`.
pub(super) fn deal(args: &DealArgs, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    let owner = parse_name(&args.zone)
        .map_err(|e| Failure::input(format!("--zone {:?}: {e}", args.zone)))?;
    let sealers = crate::sealed::holder_recipients(
        &args.recipients,
        args.passphrase_env.as_deref(),
        args.holders,
    )?;
    let (mut record, public_path) = open_deal(args, env, "FROST Ed25519")?;
    let share_path = |i: u16| args.output.join(format!("share-{i}.age"));
    let dealing = frost::deal(args.threshold, args.holders, &mut rand_core::OsRng)
        .map_err(|e| Failure::input(format!("cannot deal: {e}")))?;
    let key = dealing
        .group
        .dnskey()
        .map_err(|e| Failure::environment(e.to_string()))?;
    let tag = key.key_tag();
    let ds = Ds::compute(&owner, &key, DigestAlgorithm::SHA256)
        .map_err(|e| Failure::environment(e.to_string()))?;
    let public = PublicFile {
        format: PUBLIC_FORMAT.to_owned(),
        algorithm: ALGORITHM.to_owned(),
        threshold: args.threshold,
        holders: args.holders,
        key_tag: tag.0,
        group_key: dealing.group,
    };
    // Encrypt every share before writing anything, so a failure leaves no partial output.
    let mut sealed = Vec::new();
    for (holder, sealer) in dealing.holders.into_iter().zip(&sealers) {
        let index = holder
            .index()
            .map_err(|e| Failure::environment(e.to_string()))?;
        let plain = ShareFile {
            format: SHARE_FORMAT.to_owned(),
            algorithm: ALGORITHM.to_owned(),
            threshold: args.threshold,
            holders: args.holders,
            index,
            key_tag: tag.0,
            key_package: holder,
        };
        let armored = crate::sealed::seal_json(plain, sealer.as_ref(), &format!("share {index}"))?;
        sealed.push((index, armored));
    }
    let public_text = serde_json::to_string_pretty(&public).unwrap_or_default() + "\n";
    let outputs: Vec<(PathBuf, String)> = iter::once((public_path, public_text))
        .chain(
            sealed
                .iter()
                .map(|(i, armored)| (share_path(*i), armored.clone())),
        )
        .collect();
    let (public_written, files) = first_and_holders(
        write_dealing(&mut record, env, args, (tag.0, &key), &outputs)?,
        sealed.iter().map(|(i, _)| *i),
    )?;
    let (dnskey_line, ds_line) = (
        key.to_zonefile(&owner, args.ttl),
        ds.to_zonefile(&owner, args.ttl),
    );
    if global.json {
        emit_json(
            env,
            &json!({
                "algorithm": ALGORITHM,
                "public": render::file_json(&public_written.facts()),
                "shares": files.iter().map(|(i, w)| json!({"holder": i, "file": render::file_json(&w.facts())})).collect::<Vec<_>>(),
                "dnskey": dnskey_line,
                "ds": ds_line,
                "key_tag": tag.0,
            }),
        )?;
    } else {
        let mut out = format!(
            "\nFROST Ed25519 KSK (RFC 9591), key tag {tag}: any {} of {} holders sign, in two rounds.\n\n\
             {dnskey_line}\n{ds_line}\n\n",
            args.threshold, args.holders
        );
        out.push_str(&written_headings(
            ("Public key", &public_written),
            "Share of holder",
            &files,
        ));
        out.push_str(
            "\nThe dealer's shares were zeroized in memory. Hand each share to its holder.\n",
        );
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}

/// The KSR the recomputed data is of, as round files name it.
fn ksr_ref(recomputed: &Recomputed) -> KsrRef {
    KsrRef {
        id: recomputed.ksr.header.id.clone(),
        sha256: hex32(&recomputed.ksr_sha256),
    }
}

/// Why a round file is not for this KSR and key, if it is not.
fn binding_problem(
    key_tag: u16,
    ksr: &KsrRef,
    public: &PublicFile,
    here: &KsrRef,
) -> Option<String> {
    if key_tag != public.key_tag {
        Some(format!(
            "for key tag {key_tag}, not this FROST key ({})",
            public.key_tag
        ))
    } else if ksr != here {
        Some(format!(
            "for another KSR (id {}, SHA-256 {}), not this one (SHA-256 {}): replayed from an earlier KSR?",
            ksr.id, ksr.sha256, here.sha256
        ))
    } else {
        None
    }
}

/// The group key under every name the schema uses, labelled as configured,
/// each with the sessions `sessions` makes.
fn frost_ring(
    recomputed: &Recomputed,
    group: &GroupKey,
    mut sessions: impl FnMut() -> HashMap<[u8; 32], frost::SigningSession>,
) -> Result<Vec<(String, FrostCombiner)>, Failure> {
    let mut out = Vec::new();
    for name in schema_keys(&recomputed.schema) {
        let label = recomputed
            .config
            .keys
            .get(&name)
            .map_or(name.as_str(), |k| k.label.as_str());
        let key = FrostCombiner::new(label, group.clone())
            .map_err(|e| Failure::input(e.to_string()))?
            .with_sessions(sessions());
        out.push((name, key));
    }
    Ok(out)
}

/// The signer's request over `keys`.
fn request<'a>(
    recomputed: &'a Recomputed,
    ring: &'a KeyRing<'a>,
    now: jiff::Timestamp,
) -> SignRequest<'a> {
    SignRequest {
        ksr: &recomputed.ksr,
        schema: &recomputed.schema,
        config: &recomputed.config,
        keys: ring,
        previous: recomputed.previous.as_ref(),
        now,
    }
}

fn key_ring(keys: &[(String, FrostCombiner)]) -> KeyRing<'_> {
    keys.iter()
        .map(|(n, k)| (n.clone(), k as &dyn KeySigner))
        .collect()
}

/// `threshold sign` for a FROST key: both rounds, in one process.
pub(super) fn holder_sign(
    args: &HolderArgs,
    rounds: &RoundArgs,
    unlock: &Unlock,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let (Some(commitments_out), Some(package_path)) = (&rounds.commitments_out, &rounds.package)
    else {
        return Err(Failure::input(format!(
            "{}: a FROST key signs in two rounds: give --commitments-out FILE and --package FILE",
            args.public.display()
        )));
    };
    let wait = parse_wait(&rounds.wait)?;
    // A package cannot hold commitments this run has not made yet: one already there is stale.
    if package_path.exists() {
        return Err(Failure::input(format!(
            "{} exists before this holder committed: it was built from other commitments \
             (an earlier run's?) and cannot be signed with this run's",
            package_path.display()
        ))
        .hint(
            "give another --package, and have the coordinator build it from your new commitments",
        ));
    }
    let now = now(global, env)?;
    let public = read_public(&args.public)?;
    let share = read_share(&args.share, unlock, &public)?;
    let recomputed = recompute_for(
        &args.ksr,
        &args.config,
        &args.schema,
        args.previous_skr.as_deref(),
        &dnskey(&public)?,
        now,
    )?;

    // The same file heading, checks and report as an RSA holder sees.
    let mut out = render::file_heading("KSR", &recomputed.input.facts());
    out.push_str(&render::document(&recomputed.input.document));
    if !global.json {
        emit(env, &out)?;
    }
    let mut record = open_ksr_ceremony(
        args.ceremony.as_deref(),
        env,
        "ceremony threshold sign",
        ((public.key_tag, &dnskey(&public)?), &recomputed),
        &holder_inputs(args),
        &[commitments_out, &args.output],
    )?;
    let keys = frost_ring(&recomputed, &public.group_key, HashMap::new)?;
    let ring = key_ring(&keys);
    let report = check(&request(&recomputed, &ring, now));
    record.checks(env, &report)?;
    let context = format!(
        "{}, schema {}, as of {now}",
        args.config.display(),
        recomputed.schema.name
    );
    let report = checked(env, global, report, &context)?;
    if !args.yes {
        confirm(
            env,
            &format!(
                "\nAs holder {} of {} (any {} sign), sign {} RRSIGs of this KSR with your FROST share, in two rounds?",
                share.index,
                public.holders,
                public.threshold,
                recomputed.data.len()
            ),
            "not signed",
        )?;
    }

    // Round one: the nonces stay in this process, in `nonces`, and nowhere else.
    let here = ksr_ref(&recomputed);
    let mut nonces: Vec<SigningNonces> = Vec::with_capacity(recomputed.data.len());
    let mut mine = Vec::with_capacity(recomputed.data.len());
    for bundle in &recomputed.data {
        let (secret, commitments) = share.key_package.commit(&mut rand_core::OsRng);
        nonces.push(secret);
        mine.push(BundleCommitment {
            id: bundle.bundle_id.clone(),
            signed_data_sha256: hex32(&sha256(&bundle.data)),
            commitments,
        });
    }
    let commitments = CommitmentsFile {
        format: COMMITMENTS_FORMAT.to_owned(),
        key_tag: public.key_tag,
        ksr: here.clone(),
        holder: share.index,
        bundles: mine,
    };
    let text = serde_json::to_string_pretty(&commitments).unwrap_or_default() + "\n";
    let at = env.now();
    record.act(
        at,
        "3",
        &format!("Round 1: holder {} commits to every bundle", share.index),
    );
    let committed = record.write_file(at, commitments_out, text.as_bytes())?;
    if !global.json {
        let mut out = format!(
            "\nRound 1: holder {} committed to {} RRSIGs.\n",
            share.index,
            recomputed.data.len()
        );
        out.push_str(&render::file_heading("Commitments", &committed.facts()));
        emit(env, &out)?;
    }
    let _ = writeln!(
        env.stderr(),
        "Waiting up to {} for the coordinator's signing package at {} \
         (built from {} and the commitments of other holders). \
         If this process stops, start again: its nonces are in memory only.",
        rounds.wait,
        package_path.display(),
        commitments_out.display()
    );
    let deadline = Instant::now() + wait;
    while !package_path.exists() {
        if Instant::now() >= deadline {
            return Err(Failure {
                code: EXIT_CHECKS_FAILED,
                message: format!(
                    "no signing package appeared at {} within {}; nothing was signed",
                    package_path.display(),
                    rounds.wait
                ),
                hint: Some(
                    "the nonces of this run are gone: run threshold sign again, which makes fresh commitments"
                        .to_owned(),
                ),
            });
        }
        std::thread::sleep(POLL);
    }

    // Round two: every bundle of the package is checked before anything is signed.
    let (package, package_sha256) = read_package(package_path)?;
    let at = env.now();
    record.act(
        at,
        "4",
        &format!(
            "Round 2: holder {} checks the signing package and signs",
            share.index
        ),
    );
    record.read_file(at, package_path)?;
    let packages = holder_packages(&package, package_path, &public, &recomputed, &commitments);
    record.record(at, check_event(PACKAGE_CHECK, packages.is_ok()));
    if packages.is_err() {
        record.commit()?;
    }
    let packages = packages?;
    let mut bundles = Vec::with_capacity(packages.len());
    for ((secret, signing), (bundle, data)) in nonces
        .into_iter()
        .zip(&packages)
        .zip(commitments.bundles.iter().zip(&recomputed.data))
    {
        let share = share
            .key_package
            .sign(secret, signing, &data.data)
            .map_err(|e| Failure::input(format!("bundle {}: {e}", bundle.id)))?;
        bundles.push(PartialBundle {
            id: bundle.id.clone(),
            signed_data_sha256: bundle.signed_data_sha256.clone(),
            share,
        });
    }
    let holder = share.index;
    drop(share);
    let partials = PartialsFile {
        format: PARTIALS_FORMAT.to_owned(),
        key_tag: public.key_tag,
        ksr: here,
        holder,
        package_sha256: hex32(&package_sha256),
        bundles,
    };
    let text = serde_json::to_string_pretty(&partials).unwrap_or_default() + "\n";
    let written = record.write_file(env.now(), &args.output, text.as_bytes())?;
    if global.json {
        emit_json(
            env,
            &json!({
                "file": render::file_json(&recomputed.input.facts()),
                "report": render::report_json(&report),
                "holder": holder,
                "bundles": partials.bundles.len(),
                "signers": package.signers,
                "commitments": render::file_json(&committed.facts()),
                "output": render::file_json(&written.facts()),
            }),
        )?;
    } else {
        let mut out = format!(
            "\nRound 2: holder {holder} signed {} RRSIGs of KSR {} (SHA-256 {}) with signers {:?}; \
             the nonces were used once and are gone.\n\n",
            partials.bundles.len(),
            partials.ksr.id,
            partials.ksr.sha256,
            package.signers
        );
        out.push_str(&render::file_heading("Partials", &written.facts()));
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}

/// Reads the signing package as soon as it appears. A file copied in place
/// by a tool that does not rename may be read half-written, so an unreadable
/// one is read again for a second before the holder gives up on it.
fn read_package(path: &Path) -> Result<(PackageFile, [u8; 32]), Failure> {
    let mut attempts = 0;
    loop {
        match read_json(path, "a FROST signing package", PACKAGE_FORMAT) {
            Err(_) if attempts < 5 => {
                attempts += 1;
                std::thread::sleep(POLL);
            }
            result => return result,
        }
    }
}

/// The holder's check of the package: for this KSR and key, every message
/// the data recomputed here, and this process's own commitments in it. Returns
/// FROST's signing package of every bundle, built over the data recomputed here.
fn holder_packages(
    package: &PackageFile,
    path: &Path,
    public: &PublicFile,
    recomputed: &Recomputed,
    mine: &CommitmentsFile,
) -> Result<Vec<SigningPackage>, Failure> {
    let name = path.display();
    let refuse = |problem: String| {
        refused(
            &name.to_string(),
            &[problem],
            "nothing was signed and this run's nonces are gone: ask the coordinator for a \
             package built from your new commitments, and run threshold sign again",
        )
    };
    if let Some(problem) = binding_problem(package.key_tag, &package.ksr, public, &mine.ksr) {
        return Err(refuse(format!("the signing package is {problem}")));
    }
    if package.bundles.len() != recomputed.data.len() {
        return Err(refuse(format!(
            "the package has {} bundles; this holder recomputed {}",
            package.bundles.len(),
            recomputed.data.len()
        )));
    }
    let mut out = Vec::with_capacity(package.bundles.len());
    for ((bundle, data), own) in package
        .bundles
        .iter()
        .zip(&recomputed.data)
        .zip(&mine.bundles)
    {
        let message = base64::engine::general_purpose::STANDARD
            .decode(&bundle.message)
            .unwrap_or_default();
        if bundle.id != data.bundle_id || message != data.data {
            let theirs = if bundle.id == data.bundle_id {
                String::new()
            } else {
                format!("bundle {}, ", bundle.id)
            };
            return Err(refuse(format!(
                "bundle {}: the package asks to sign other data ({theirs}SHA-256 {}) than this \
                 holder recomputed (SHA-256 {}); never sign a message someone else built",
                data.bundle_id,
                hex32(&sha256(&message)),
                hex32(&sha256(&data.data))
            )));
        }
        match bundle.commitments.get(&mine.holder) {
            None => {
                return Err(refuse(format!(
                    "bundle {}: holder {} is not among the package's signers",
                    data.bundle_id, mine.holder
                )))
            }
            Some(c) if *c != own.commitments => {
                return Err(refuse(format!(
                    "bundle {}: holder {}'s commitment in the package is not the one this process made \
                     (a package built from an earlier run's commitments)",
                    data.bundle_id, mine.holder
                )))
            }
            Some(_) => {}
        }
        let signing = session(public, data, &bundle.commitments)
            .and_then(|mut s| s.signing_package())
            .map_err(|e| refuse(format!("bundle {}: {e}", data.bundle_id)))?;
        out.push(signing);
    }
    Ok(out)
}

/// A FROST session over `data` (recomputed here) with `commitments`.
fn session(
    public: &PublicFile,
    data: &ceremony_signer::threshold::BundleData,
    commitments: &BTreeMap<u16, SigningCommitments>,
) -> Result<frost::SigningSession, ceremony_threshold::Error> {
    let mut session = frost::SigningSession::new(&public.group_key, &data.data);
    for (holder, c) in commitments {
        session.add_commitments(*holder, *c)?;
    }
    Ok(session)
}

/// `threshold package`: the coordinator builds the signing packages.
pub(super) fn package(
    args: &PackageArgs,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let now = now(global, env)?;
    let public = read_public(&args.public)?;
    let recomputed = recompute_for(
        &args.ksr,
        &args.config,
        &args.schema,
        None,
        &dnskey(&public)?,
        now,
    )?;
    let here = ksr_ref(&recomputed);
    let mut problems = Vec::new();
    let mut by_holder: BTreeMap<u16, (String, CommitmentsFile)> = BTreeMap::new();
    for path in &args.commitments {
        let file = path.display().to_string();
        let (c, _): (CommitmentsFile, _) =
            read_json(path, "a FROST commitments file", COMMITMENTS_FORMAT)?;
        let who = format!("holder {} ({file})", c.holder);
        if !public.group_key.holders().contains(&c.holder) {
            problems.push(format!(
                "{who}: unknown holder: the key's holders are {:?}",
                public.group_key.holders()
            ));
        } else if let Some(problem) = binding_problem(c.key_tag, &c.ksr, &public, &here) {
            problems.push(format!("{who}: commitments {problem}"));
        } else if let Some((first, _)) = by_holder.get(&c.holder) {
            problems.push(format!(
                "{who}: a second commitments file from this holder (first: {first})"
            ));
        } else if let Some(problem) = bundles_problem(
            c.bundles.iter().map(|b| (&b.id, &b.signed_data_sha256)),
            &recomputed,
        ) {
            problems.push(format!("{who}: {problem}"));
        } else {
            by_holder.insert(c.holder, (file, c));
        }
    }
    let signers: Vec<u16> = by_holder.keys().copied().collect();
    if problems.is_empty() && signers.len() < usize::from(public.threshold) {
        problems.push(format!(
            "{} holders committed ({signers:?}), {} needed: the quorum is missing {} more",
            signers.len(),
            public.threshold,
            usize::from(public.threshold) - signers.len()
        ));
    }
    let mut bundles = Vec::with_capacity(recomputed.data.len());
    for (i, data) in recomputed.data.iter().enumerate() {
        if !problems.is_empty() {
            break;
        }
        let commitments: BTreeMap<u16, SigningCommitments> = by_holder
            .iter()
            .filter_map(|(h, (_, c))| c.bundles.get(i).map(|b| (*h, b.commitments)))
            .collect();
        // FROST's own checks of the signer set (known holders, at least t).
        if let Err(e) = session(&public, data, &commitments).and_then(|mut s| s.signing_package()) {
            problems.push(format!("bundle {}: {e}", data.bundle_id));
        }
        bundles.push(PackageBundle {
            id: data.bundle_id.clone(),
            signed_data_sha256: hex32(&sha256(&data.data)),
            message: base64::engine::general_purpose::STANDARD.encode(&data.data),
            commitments,
        });
    }
    let inputs: Vec<&Path> = iter::once(args.public.as_path())
        .chain(args.commitments.iter().map(PathBuf::as_path))
        .chain([args.config.as_path()])
        .collect();
    let mut record = open_ksr_ceremony(
        args.ceremony.as_deref(),
        env,
        "ceremony threshold package",
        ((public.key_tag, &dnskey(&public)?), &recomputed),
        &inputs,
        &[&args.output],
    )?;
    record.act_of(
        env.now(),
        ("2", "The holders' round-one commitments are checked"),
        [check_event(COMMITMENTS_CHECK, problems.is_empty())],
    )?;
    if !problems.is_empty() {
        return Err(refused(
            "threshold package",
            &problems,
            "no package was written; drop or replace the named commitments files, or ask more holders to run threshold sign",
        ));
    }
    let file = PackageFile {
        format: PACKAGE_FORMAT.to_owned(),
        key_tag: public.key_tag,
        ksr: here,
        signers: signers.clone(),
        bundles,
    };
    let text = serde_json::to_string_pretty(&file).unwrap_or_default() + "\n";
    let at = env.now();
    record.act(
        at,
        "3",
        &format!("The signing package for holders {signers:?} is written"),
    );
    let written = record.write_file(at, &args.output, text.as_bytes())?;
    if global.json {
        emit_json(
            env,
            &json!({"signers": signers, "bundles": file.bundles.len(), "output": render::file_json(&written.facts())}),
        )?;
    } else {
        let mut out = format!(
            "Signing package for holders {signers:?} over {} RRSIGs of KSR {}; each of them signs it now.\n",
            file.bundles.len(),
            file.ksr.id
        );
        out.push_str(&render::file_heading("Package", &written.facts()));
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}

/// Why a file's bundles `(id, signed data SHA-256)` are not those recomputed here, if they are not.
fn bundles_problem<'a>(
    bundles: impl ExactSizeIterator<Item = (&'a String, &'a String)>,
    recomputed: &Recomputed,
) -> Option<String> {
    if bundles.len() != recomputed.data.len() {
        return Some(format!(
            "{} bundles, but the KSR has {} RRSIGs to make",
            bundles.len(),
            recomputed.data.len()
        ));
    }
    bundles
        .zip(&recomputed.data)
        .find(|((id, hash), data)| **id != data.bundle_id || **hash != hex32(&sha256(&data.data)))
        .map(|((id, hash), data)| {
            format!(
                "bundle {id} (SHA-256 {hash}) where the KSR has bundle {} (SHA-256 {})",
                data.bundle_id,
                hex32(&sha256(&data.data))
            )
        })
}

/// `threshold combine` for a FROST key.
#[allow(clippy::too_many_arguments)]
pub(super) fn combine(
    ksr_path: &Path,
    public_path: &Path,
    package_path: Option<&Path>,
    partials_paths: &[PathBuf],
    (config_path, schema, previous): (&Path, &str, Option<&Path>),
    (output, ceremony): (&Path, Option<&Path>),
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let Some(package_path) = package_path else {
        return Err(Failure::input(format!(
            "{}: a FROST key combines the shares of one signing package: give --package FILE",
            public_path.display()
        )));
    };
    let now = now(global, env)?;
    let public = read_public(public_path)?;
    let recomputed = recompute_for(
        ksr_path,
        config_path,
        schema,
        previous,
        &dnskey(&public)?,
        now,
    )?;
    let here = ksr_ref(&recomputed);
    let (package, package_sha256) =
        read_json::<PackageFile>(package_path, "a FROST signing package", PACKAGE_FORMAT)?;
    let pname = package_path.display();
    let mut files = Vec::new();
    for path in partials_paths {
        let (p, _): (PartialsFile, _) = read_json(path, "a FROST partials file", PARTIALS_FORMAT)?;
        files.push((path.display().to_string(), p));
    }
    let inputs: Vec<&Path> = iter::once(public_path)
        .chain(previous)
        .chain([package_path])
        .chain(partials_paths.iter().map(PathBuf::as_path))
        .chain([config_path])
        .collect();
    let mut record = open_ksr_ceremony(
        ceremony,
        env,
        "ceremony threshold combine",
        ((public.key_tag, &dnskey(&public)?), &recomputed),
        &inputs,
        &[output],
    )?;
    let package_problem = binding_problem(package.key_tag, &package.ksr, &public, &here)
        .map(|problem| format!("{pname}: the signing package is {problem}"))
        .or_else(|| {
            bundles_problem(
                package
                    .bundles
                    .iter()
                    .map(|b| (&b.id, &b.signed_data_sha256)),
                &recomputed,
            )
            .map(|problem| format!("{pname}: {problem}"))
        });
    if let Some(problem) = package_problem {
        record_partials(&mut record, env, false, [])?;
        return Err(refused(
            "threshold combine",
            &[problem],
            "no SKR was written",
        ));
    }
    let package_hex = hex32(&package_sha256);
    let admit = || {
        admit(
            &public,
            &package,
            &package_hex,
            &pname.to_string(),
            &recomputed,
            &files,
        )
    };
    let (_, problems) = admit();
    let received = files.iter().flat_map(|(_, p)| {
        p.bundles.iter().map(|b| {
            let share = serde_json::to_vec(&b.share).unwrap_or_default();
            (p.holder, b.id.clone(), share)
        })
    });
    record_partials(&mut record, env, problems.is_empty(), received)?;
    if !global.json {
        let mut out = render::file_heading("KSR", &recomputed.input.facts());
        out.push_str(&format!(
            "SHA-256 {}; {} RRSIGs by the FROST key (tag {}), signers {:?} of the package {pname}.\n",
            here.sha256,
            recomputed.data.len(),
            public.key_tag,
            package.signers
        ));
        for (name, p) in &files {
            out.push_str(&format!("  partials of holder {}: {name}\n", p.holder));
        }
        emit(env, &out)?;
    }
    if !problems.is_empty() {
        if global.json {
            emit_json(env, &json!({"rejected": problems, "output": null}))?;
        } else {
            let mut out = String::from("\nRefused:\n");
            for p in &problems {
                out.push_str(&format!("  {p}\n"));
            }
            emit(env, &out)?;
        }
        return Err(refused(
            "threshold combine",
            &problems,
            "no SKR was written; drop or replace the named partials files, or build a new package \
             and have its signers sign it",
        ));
    }
    let keys = frost_ring(&recomputed, &public.group_key, || admit().0)?;
    let ring = key_ring(&keys);
    let holders: Vec<u16> = files.iter().map(|(_, p)| p.holder).collect();
    sign_combined(
        record,
        env,
        global,
        (&recomputed, &ring, now),
        (config_path, schema, output),
        &format!(
            "Aggregated the signature shares of holders {holders:?} into {} Ed25519 RRSIGs",
            recomputed.data.len()
        ),
        &holders,
    )
}

/// Checks every partials file against the package and the data recomputed
/// here, verifying each signature share; returns one session per signed data
/// and every problem, naming the holder or the bundle.
fn admit(
    public: &PublicFile,
    package: &PackageFile,
    package_hex: &str,
    package_name: &str,
    recomputed: &Recomputed,
    files: &[(String, PartialsFile)],
) -> (HashMap<[u8; 32], frost::SigningSession>, Vec<String>) {
    let mut problems = Vec::new();
    let mut sessions = Vec::new();
    for (bundle, data) in package.bundles.iter().zip(&recomputed.data) {
        let message = base64::engine::general_purpose::STANDARD
            .decode(&bundle.message)
            .unwrap_or_default();
        let opened = if message == data.data {
            session(public, data, &bundle.commitments)
                .and_then(|mut s| s.signing_package().map(|_| s))
                .map_err(|e| e.to_string())
        } else {
            Err("its message is not the signed data recomputed here".to_owned())
        };
        match opened {
            Ok(s) => sessions.push(Some(s)),
            Err(e) => {
                problems.push(format!("{package_name}: bundle {}: {e}", data.bundle_id));
                sessions.push(None);
            }
        }
    }
    let here = ksr_ref(recomputed);
    let mut seen: BTreeMap<u16, &str> = BTreeMap::new();
    for (file, partials) in files {
        let who = format!("holder {} ({file})", partials.holder);
        let problem = if !public.group_key.holders().contains(&partials.holder) {
            Some(format!(
                "unknown holder: the key's holders are {:?}",
                public.group_key.holders()
            ))
        } else if let Some(p) = binding_problem(partials.key_tag, &partials.ksr, public, &here) {
            Some(format!("partials {p}"))
        } else if partials.package_sha256 != package_hex {
            Some(format!(
                "partials for another signing package (SHA-256 {}), not {package_name} (SHA-256 {package_hex}): \
                 signed with other commitments, e.g. by a holder restarted between the rounds",
                partials.package_sha256
            ))
        } else if !package.signers.contains(&partials.holder) {
            Some(format!(
                "not a signer of {package_name} (signers {:?})",
                package.signers
            ))
        } else if let Some(first) = seen.insert(partials.holder, file) {
            Some(format!(
                "a second partials file from this holder (first: {first})"
            ))
        } else {
            bundles_problem(
                partials
                    .bundles
                    .iter()
                    .map(|b| (&b.id, &b.signed_data_sha256)),
                recomputed,
            )
        };
        if let Some(problem) = problem {
            problems.push(format!("{who}: {problem}"));
            continue;
        }
        for (entry, session) in partials.bundles.iter().zip(sessions.iter_mut()) {
            if let Some(session) = session {
                if let Err(e) = session.add_share(partials.holder, entry.share) {
                    problems.push(format!("{who}: bundle {}: {e}", entry.id));
                }
            }
        }
    }
    let mut out = HashMap::new();
    // Bundles without every signer's share, grouped by who is missing: one line each.
    let mut short: BTreeMap<Vec<u16>, (Vec<&str>, String)> = BTreeMap::new();
    for ((session, data), bundle) in sessions
        .into_iter()
        .zip(&recomputed.data)
        .zip(&package.bundles)
    {
        let Some(session) = session else { continue };
        if let Err(e) = session.aggregate() {
            let missing: Vec<u16> = bundle
                .commitments
                .keys()
                .filter(|h| {
                    let who = format!("holder {h} (");
                    !files.iter().any(|(_, p)| p.holder == **h)
                        || problems.iter().any(|p| p.starts_with(&who))
                })
                .copied()
                .collect();
            let entry = short
                .entry(missing)
                .or_insert_with(|| (Vec::new(), e.to_string()));
            entry.0.push(&data.bundle_id);
            continue;
        }
        out.insert(sha256(&data.data), session);
    }
    for (missing, (bundles, first)) in short {
        problems.push(format!(
            "{} of {} bundles (first: {}) lack a quorum ({first}): every signer of the package \
             ({:?}) must sign; no valid share from holders {missing:?}",
            bundles.len(),
            recomputed.data.len(),
            bundles.first().copied().unwrap_or_default(),
            package.signers
        ));
    }
    (out, problems)
}
