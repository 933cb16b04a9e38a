//! `ceremony threshold`: a KSK shared among holders, offline, with files only.
//!
//! * `deal` makes a Shoup threshold RSA key and one age-encrypted share per
//!   holder, and writes `public.json`.
//! * `sign` is run by each holder: it recomputes the signed data of every
//!   bundle from the KSR, the schema and the configuration, runs the KSR
//!   checks, asks `Yes`, and writes the holder's partials file.
//! * `combine` recomputes the same data, admits only the shares that are for
//!   this KSR, this key, this bundle and these bytes and whose proofs verify,
//!   and signs the SKR through the normal signer path (every check, SKR-VERIFY).
//!
//! FROST (Ed25519) keys sign in two rounds, with `threshold package`
//! between them: see `frost.rs`.

use std::iter;
use std::path::{Path, PathBuf};

use ceremony_dnssec::{parse_name, DigestAlgorithm, Ds};
use ceremony_formats::{icann, Document};
use ceremony_keys::keystore::Unlock;
use ceremony_signer::threshold::{
    admit, hex32, partials_for, schema_keys, sha256, signed_data_for, Partials, ThresholdCombiner,
};
use ceremony_signer::{check, sign_ksr, KeyRing, SignError, SignRequest, SignerConfig};
use ceremony_threshold::shoup::{self, DealProgress, KeyShare, ThresholdPublicKey};
use ceremony_transcript::Event;
use clap::{Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::sign::sign_failure;
use super::{confirm, emit, emit_json, expect_ksr, now, read_document, Written};
use crate::args::{Format, Global};
use crate::ceremony_log::{
    check_event, check_report, declared_ksk, file_read, key_event, partial_received, Recorder,
};
use crate::render;
use crate::{Env, Failure, EXIT_CHECKS_FAILED};

#[path = "frost.rs"]
mod frost;
#[path = "reshare.rs"]
mod reshare;

/// The format tag of `public.json`.
const PUBLIC_FORMAT: &str = "ceremony-threshold-public/1";
/// The format tag of a share file's plaintext.
const SHARE_FORMAT: &str = "ceremony-threshold-share/1";
/// The largest share file read.
const MAX_SHARE_FILE: u64 = 256 * 1024;
/// The transcript's ID for `combine`'s check of the holders' partials: each
/// for this KSR, key, bundle and data, its proof verified, a quorum for
/// every RRSIG.
const PARTIALS_CHECK: &str = "THRESHOLD-PARTIALS";

/// The threshold key's algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ThresholdAlgorithm {
    /// Shoup 2000 threshold RSA, RSASHA256 (algorithm 8).
    #[value(name = "RSASHA256")]
    Rsasha256,
    /// FROST Ed25519 (RFC 9591), signed in two rounds.
    #[value(name = "ED25519")]
    Ed25519,
}

/// `ceremony threshold …`
#[derive(Debug, Subcommand)]
pub enum ThresholdCommand {
    /// Deal a threshold KSK: N age-encrypted shares, any K of which sign.
    Deal {
        /// The algorithm.
        #[arg(long, value_enum, default_value_t = ThresholdAlgorithm::Rsasha256)]
        algorithm: ThresholdAlgorithm,
        /// The modulus size.
        #[arg(long, default_value_t = 2048)]
        bits: u32,
        /// K: how many holders must sign.
        #[arg(long, value_name = "K")]
        threshold: u16,
        /// N: how many holders there are.
        #[arg(long, value_name = "N")]
        holders: u16,
        /// One age X25519 recipient (age1…) per holder, holder 1 first.
        #[arg(
            long = "recipient",
            value_name = "AGE_RECIPIENT",
            required_unless_present = "passphrase_env"
        )]
        recipients: Vec<String>,
        /// Encrypt every share with the one passphrase in this variable (demonstrations only).
        #[arg(long, value_name = "VAR", conflicts_with = "recipients")]
        passphrase_env: Option<String>,
        /// The zone of the DNSKEY and DS lines printed.
        #[arg(long, default_value = ".")]
        zone: String,
        /// The TTL of the DNSKEY and DS lines printed.
        #[arg(long, default_value_t = 172_800)]
        ttl: u32,
        /// The directory to write public.json and share-<i>.age into (created if missing).
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: PathBuf,
        /// Record this as a ceremony in DIR/transcript; the output directory must be inside DIR.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
    },
    /// As one holder: recompute and check every bundle of a KSR, sign it with your share.
    Sign {
        /// The KSR.
        ksr: PathBuf,
        /// The dealer's public.json.
        #[arg(long, value_name = "FILE")]
        public: PathBuf,
        /// Your share file (share-<i>.age).
        #[arg(long, value_name = "FILE")]
        share: PathBuf,
        /// Your age identity file (AGE-SECRET-KEY-1…).
        #[arg(long, value_name = "FILE", required_unless_present = "passphrase_env")]
        identity: Option<PathBuf>,
        /// The share's passphrase is in this variable (demonstrations only).
        #[arg(long, value_name = "VAR", conflicts_with = "identity")]
        passphrase_env: Option<String>,
        /// The signer configuration (keys, policies, schemas).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The schema to apply.
        #[arg(long, default_value = "normal")]
        schema: String,
        /// The SKR of the previous quarter, for the chain checks.
        #[arg(long, value_name = "SKR")]
        previous_skr: Option<PathBuf>,
        /// Do not ask; sign.
        #[arg(long)]
        yes: bool,
        /// Where to write the partials file.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// Record this as a ceremony in DIR/transcript; the partials file must be inside DIR.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
        #[command(flatten)]
        rounds: frost::RoundArgs,
    },
    /// Verify the holders' partials, combine them, and write the SKR.
    Combine {
        /// The KSR.
        ksr: PathBuf,
        /// The dealer's public.json.
        #[arg(long, value_name = "FILE")]
        public: PathBuf,
        /// The holders' partials files.
        #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
        partials: Vec<PathBuf>,
        /// The signer configuration (keys, policies, schemas).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The schema to apply.
        #[arg(long, default_value = "normal")]
        schema: String,
        /// The SKR of the previous quarter, for the chain checks.
        #[arg(long, value_name = "SKR")]
        previous_skr: Option<PathBuf>,
        /// Where to write the SKR.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// Record this as a ceremony in DIR/transcript; the SKR must be inside DIR.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
        /// FROST: the signing package the partials are for.
        #[arg(long, value_name = "FILE")]
        package: Option<PathBuf>,
    },
    /// Move the key to new holders or a new threshold without rebuilding it.
    #[command(subcommand)]
    Reshare(reshare::ReshareCommand),
    /// FROST: build the signing package from the holders' round-one commitments.
    Package(frost::PackageArgs),
}

/// `public.json`: everything public about the threshold key.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicFile {
    format: String,
    algorithm: String,
    threshold: u16,
    holders: u16,
    key_tag: u16,
    public_key: ThresholdPublicKey,
}

impl PublicFile {
    /// The key's DNSKEY, which the transcript declares.
    fn dnskey(&self) -> Result<ceremony_dnssec::Dnskey, Failure> {
        self.public_key
            .dnskey()
            .map_err(|e| Failure::input(e.to_string()))
    }
}

/// A share file's plaintext: the parameters, the holder's index and the share
/// (which carries the public key).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareFile {
    format: String,
    algorithm: String,
    threshold: u16,
    holders: u16,
    index: u16,
    key_tag: u16,
    share: KeyShare,
}

pub fn run(command: ThresholdCommand, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    match command {
        ThresholdCommand::Deal {
            algorithm,
            bits,
            threshold,
            holders,
            recipients,
            passphrase_env,
            zone,
            ttl,
            output,
            ceremony,
        } => deal(
            &DealArgs {
                algorithm,
                bits,
                threshold,
                holders,
                recipients,
                passphrase_env,
                zone,
                ttl,
                output,
                ceremony,
            },
            global,
            env,
        ),
        ThresholdCommand::Sign {
            ksr,
            public,
            share,
            identity,
            passphrase_env,
            config,
            schema,
            previous_skr,
            yes,
            output,
            ceremony,
            rounds,
        } => {
            let unlock = match (&identity, &passphrase_env) {
                (Some(path), _) => Unlock::identity_from_file(path),
                (None, Some(var)) => Unlock::passphrase_from_env(var),
                (None, None) => return Err(Failure::input("give --identity or --passphrase-env")),
            }
            .map_err(Failure::input)?;
            let args = HolderArgs {
                ksr,
                public,
                share,
                config,
                schema,
                previous_skr,
                yes,
                output,
                ceremony,
            };
            if frost::is_frost(&args.public)? {
                return frost::holder_sign(&args, &rounds, &unlock, global, env);
            }
            rounds.refuse_for_rsa()?;
            holder_sign(&args, &unlock, global, env)
        }
        ThresholdCommand::Combine {
            ksr,
            public,
            partials,
            config,
            schema,
            previous_skr,
            output,
            ceremony,
            package,
        } => {
            if frost::is_frost(&public)? {
                return frost::combine(
                    &ksr,
                    &public,
                    package.as_deref(),
                    &partials,
                    (&config, &schema, previous_skr.as_deref()),
                    (&output, ceremony.as_deref()),
                    global,
                    env,
                );
            }
            frost::refuse_package_for_rsa(package.as_deref())?;
            combine(
                &ksr,
                &public,
                &partials,
                (&config, &schema, previous_skr.as_deref()),
                (&output, ceremony.as_deref()),
                global,
                env,
            )
        }
        ThresholdCommand::Reshare(command) => reshare::run(command, global, env),
        ThresholdCommand::Package(args) => frost::package(&args, global, env),
    }
}

/// Deals a Shoup threshold RSA key, showing the safe-prime search on
/// standard error while it runs (seconds for 2048 bits); `who` names the holders.
///
/// # Errors
/// The dealer's error (parameters it refuses).
pub(crate) fn deal_with_progress(
    env: &mut dyn Env,
    bits: u32,
    threshold: u16,
    holders: u16,
    who: &str,
) -> Result<shoup::Dealing, ceremony_threshold::Error> {
    let stderr = env.stderr();
    let _ = writeln!(
        stderr,
        "The dealer searches two {}-bit safe primes (p = 2p'+1, q = 2q'+1) for a {threshold}-of-{holders} key; this takes a few seconds:",
        bits / 2
    );
    let mut progress = |event: DealProgress| match event {
        DealProgress::Candidate { prime, tested } if tested % 100 == 0 => {
            let _ = write!(
                stderr,
                "\r  safe prime {prime} of 2: {tested:>6} candidates tested"
            );
            let _ = stderr.flush();
        }
        DealProgress::PrimeFound {
            prime,
            bits,
            tested,
        } => {
            let _ = writeln!(
                stderr,
                "\r  safe prime {prime} of 2: found, {bits} bits, after {tested} candidates"
            );
        }
        DealProgress::Sharing => {
            let _ = writeln!(stderr, "  sharing the exponent among {holders} {who}");
        }
        _ => {}
    };
    shoup::deal(
        bits,
        threshold,
        holders,
        &mut rand_core::OsRng,
        &mut progress,
    )
}

struct DealArgs {
    algorithm: ThresholdAlgorithm,
    bits: u32,
    threshold: u16,
    holders: u16,
    recipients: Vec<String>,
    passphrase_env: Option<String>,
    zone: String,
    ttl: u32,
    output: PathBuf,
    ceremony: Option<PathBuf>,
}

fn deal(args: &DealArgs, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    if args.algorithm == ThresholdAlgorithm::Ed25519 {
        return frost::deal(args, global, env);
    }
    let owner = parse_name(&args.zone)
        .map_err(|e| Failure::input(format!("--zone {:?}: {e}", args.zone)))?;
    // Every secret source is checked before the slow part.
    let sealers = crate::sealed::holder_recipients(
        &args.recipients,
        args.passphrase_env.as_deref(),
        args.holders,
    )?;
    let (mut record, public_path) = open_deal(args, env, "threshold RSA")?;
    let dealing = deal_with_progress(env, args.bits, args.threshold, args.holders, "holders")
        .map_err(|e| Failure::input(format!("cannot deal: {e}")))?;
    let dnskey = dealing
        .public_key
        .dnskey()
        .map_err(|e| Failure::environment(e.to_string()))?;
    let tag = dnskey.key_tag();
    let ds = Ds::compute(&owner, &dnskey, DigestAlgorithm::SHA256)
        .map_err(|e| Failure::environment(e.to_string()))?;

    let public = PublicFile {
        format: PUBLIC_FORMAT.to_owned(),
        algorithm: "RSASHA256".to_owned(),
        threshold: args.threshold,
        holders: args.holders,
        key_tag: tag.0,
        public_key: dealing.public_key.clone(),
    };
    let public_text = serde_json::to_string_pretty(&public).unwrap_or_default() + "\n";
    let mut outputs = vec![(public_path, public_text)];
    let mut indices = Vec::new();
    for (i, share) in dealing.shares.into_iter().enumerate() {
        let index = share.index();
        let plain = ShareFile {
            format: SHARE_FORMAT.to_owned(),
            algorithm: "RSASHA256".to_owned(),
            threshold: args.threshold,
            holders: args.holders,
            index,
            key_tag: tag.0,
            share,
        };
        let armored =
            crate::sealed::seal_json(plain, sealers[i].as_ref(), &format!("share {index}"))?;
        outputs.push((args.output.join(format!("share-{index}.age")), armored));
        indices.push(index);
    }
    let (written, files) = first_and_holders(
        write_dealing(&mut record, env, args, (tag.0, &dnskey), &outputs)?,
        indices,
    )?;

    if global.json {
        emit_json(
            env,
            &json!({
                "public": render::file_json(&written.facts()),
                "shares": files.iter().map(|(i, w)| json!({"holder": i, "file": render::file_json(&w.facts())})).collect::<Vec<_>>(),
                "dnskey": dnskey.to_zonefile(&owner, args.ttl),
                "ds": ds.to_zonefile(&owner, args.ttl),
                "key_tag": tag.0,
                "erasure": dealing.erasure.values.iter().map(|v| json!({"name": v.name, "bits": v.bits, "zero_after": v.zero_after})).collect::<Vec<_>>(),
                "all_erased": dealing.erasure.all_erased(),
            }),
        )?;
    } else {
        let mut out = format!(
            "\nThreshold KSK, key tag {tag}: any {} of {} holders sign.\n\n",
            args.threshold, args.holders
        );
        out.push_str(&format!("{}\n", dnskey.to_zonefile(&owner, args.ttl)));
        out.push_str(&format!("{}\n\n", ds.to_zonefile(&owner, args.ttl)));
        out.push_str(&written_headings(
            ("Public key", &written),
            "Share of holder",
            &files,
        ));
        out.push_str("\nThe dealer's erasure:\n");
        for v in &dealing.erasure.values {
            out.push_str(&format!(
                "  {:<24} {:>5} bits  {}\n",
                v.name,
                v.bits,
                if v.zero_after {
                    "overwritten, reads back zero"
                } else {
                    "NOT ZERO AFTER ERASURE"
                }
            ));
        }
        out.push_str(if dealing.erasure.all_erased() {
            "Every secret of the dealer was overwritten. Hand each share to its holder.\n"
        } else {
            "Some secret of the dealer was not erased: do not use this key.\n"
        });
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(if dealing.erasure.all_erased() {
        0
    } else {
        EXIT_CHECKS_FAILED
    })
}

/// Checks that no share of `args` exists yet, and opens the ceremony of a
/// deal when `--ceremony` is given: public.json must be written inside it.
/// Act 1 is the dealing of a `kind` key. Returns the path of public.json.
fn open_deal(
    args: &DealArgs,
    env: &mut dyn Env,
    kind: &str,
) -> Result<(Recorder, PathBuf), Failure> {
    std::fs::create_dir_all(&args.output).map_err(|e| {
        Failure::environment(format!("{}: cannot create: {e}", args.output.display()))
    })?;
    for i in 1..=args.holders {
        let path = args.output.join(format!("share-{i}.age"));
        if path.exists() {
            return Err(Failure::input(format!(
                "{} exists: a share is never overwritten",
                path.display()
            )));
        }
    }
    let public_path = args.output.join("public.json");
    let mut record = Recorder::for_command(
        args.ceremony.as_deref(),
        env,
        "ceremony threshold deal",
        "threshold",
        vec![],
        &[&public_path],
        "write the shares beside the transcript, e.g. -o DIR/quorum",
    )?;
    record.act(
        env.now(),
        "1",
        &format!(
            "A {kind} key is dealt: any {} of {} holders sign",
            args.threshold, args.holders
        ),
    );
    Ok((record, public_path))
}

/// The end of a deal: the key generated (key tag, DNSKEY), then every
/// output `(path, text)` (public.json first, then the encrypted shares)
/// written as one step, through the transcript when recording.
fn write_dealing(
    record: &mut Recorder,
    env: &dyn Env,
    args: &DealArgs,
    (tag, dnskey): (u16, &ceremony_dnssec::Dnskey),
    outputs: &[(PathBuf, String)],
) -> Result<Vec<Written>, Failure> {
    let now = env.now();
    record.record(
        now,
        Event::KeyGenerated(key_event(
            &format!("threshold key tag {tag}"),
            &args.output.display().to_string(),
            Some(dnskey),
        )),
    );
    let refs: Vec<(&Path, &[u8])> = outputs
        .iter()
        .map(|(p, t)| (p.as_path(), t.as_bytes()))
        .collect();
    record.write_files(now, &refs)
}

fn read_share(path: &Path, unlock: &Unlock) -> Result<ShareFile, Failure> {
    let name = path.display().to_string();
    let plain = crate::sealed::open(path, unlock, MAX_SHARE_FILE)?;
    let share: ShareFile = serde_json::from_slice(&plain)
        .map_err(|e| Failure::input(format!("{name}: not a threshold share: {e}")))?;
    if share.format != SHARE_FORMAT {
        return Err(Failure::input(format!(
            "{name}: format {:?}, not {SHARE_FORMAT}",
            share.format
        )));
    }
    Ok(share)
}

fn read_public(path: &Path) -> Result<PublicFile, Failure> {
    let name = path.display().to_string();
    let bytes = ceremony_formats::read_bounded(path)?;
    let public: PublicFile = serde_json::from_slice(&bytes)
        .map_err(|e| Failure::input(format!("{name}: not a threshold public key: {e}")))?;
    if public.format != PUBLIC_FORMAT {
        return Err(Failure::input(format!(
            "{name}: format {:?}, not {PUBLIC_FORMAT}",
            public.format
        )));
    }
    if public.threshold != public.public_key.threshold()
        || public.holders != public.public_key.holders()
    {
        return Err(Failure::input(format!(
            "{name}: says {} of {}, but its key is {} of {}",
            public.threshold,
            public.holders,
            public.public_key.threshold(),
            public.public_key.holders()
        )));
    }
    Ok(public)
}

/// The KSR, its SHA-256, the configuration, the schema and the signed data of every bundle.
struct Recomputed {
    input: super::Input,
    ksr: ceremony_formats::Ksr,
    ksr_sha256: [u8; 32],
    config: SignerConfig,
    schema: ceremony_signer::Schema,
    previous: Option<ceremony_formats::Skr>,
    data: Vec<ceremony_signer::threshold::BundleData>,
}

fn recompute(
    ksr_path: &Path,
    config_path: &Path,
    schema: &str,
    previous: Option<&Path>,
    public: &ThresholdPublicKey,
    now: jiff::Timestamp,
) -> Result<Recomputed, Failure> {
    let dnskey = public.dnskey().map_err(|e| Failure::input(e.to_string()))?;
    recompute_for(ksr_path, config_path, schema, previous, &dnskey, now)
}

/// [`recompute`] for any group key given as its KSK DNSKEY (Shoup RSA or FROST Ed25519).
fn recompute_for(
    ksr_path: &Path,
    config_path: &Path,
    schema: &str,
    previous: Option<&Path>,
    dnskey: &ceremony_dnssec::Dnskey,
    now: jiff::Timestamp,
) -> Result<Recomputed, Failure> {
    let config = SignerConfig::load(config_path).map_err(sign_failure)?;
    let bytes = ceremony_formats::read_bounded(ksr_path)?;
    let ksr_sha256 = sha256(&bytes);
    let input = read_document(ksr_path, Format::Icann)?;
    let (input, ksr) = expect_ksr(input)?;
    let schema = config
        .schema(schema, ksr.bundles.len())
        .map_err(sign_failure)?;
    let previous = previous
        .map(|path| read_document(path, Format::Icann).and_then(super::expect_skr))
        .transpose()?
        .map(|(_, skr)| skr);
    let data = signed_data_for(&ksr, &schema, &config, dnskey, now).map_err(sign_failure)?;
    Ok(Recomputed {
        input,
        ksr,
        ksr_sha256,
        config,
        schema,
        previous,
        data,
    })
}

/// The threshold key under every name the schema uses, labelled as configured.
fn ring_keys(
    recomputed: &Recomputed,
    public: &ThresholdPublicKey,
    shares: &std::collections::HashMap<[u8; 32], Vec<shoup::SignatureShare>>,
) -> Result<Vec<(String, ThresholdCombiner)>, Failure> {
    schema_keys(&recomputed.schema)
        .into_iter()
        .map(|name| {
            let label = recomputed
                .config
                .keys
                .get(&name)
                .map(|k| k.label.clone())
                .unwrap_or_else(|| name.clone());
            let key = ThresholdCombiner::new(&label, public.clone())
                .map_err(|e| Failure::input(e.to_string()))?
                .with_shares(shares.clone());
            Ok((name, key))
        })
        .collect()
}

struct HolderArgs {
    ksr: PathBuf,
    public: PathBuf,
    share: PathBuf,
    config: PathBuf,
    schema: String,
    previous_skr: Option<PathBuf>,
    yes: bool,
    output: PathBuf,
    ceremony: Option<PathBuf>,
}

/// How a threshold command's ceremony opens: the key it declares as its KSK
/// (key tag, DNSKEY; resharing keeps both), act 1's title, the files it reads
/// (the KSR first, when there is one) and the outputs it will write, which
/// must all be inside the ceremony directory.
struct Opening<'a> {
    script: &'a str,
    key: (u16, &'a ceremony_dnssec::Dnskey),
    title: &'a str,
    ksr: Option<&'a super::Input>,
    inputs: &'a [&'a Path],
    outputs: &'a [&'a Path],
}

/// Opens the ceremony of a threshold command (RSA or FROST) when `ceremony`
/// is given, else no recording: declares the threshold key, and records act
/// 1, the files read.
fn open_ceremony(
    ceremony: Option<&Path>,
    env: &mut dyn Env,
    opening: &Opening<'_>,
) -> Result<Recorder, Failure> {
    let (tag, dnskey) = opening.key;
    let mut record = Recorder::for_command(
        ceremony,
        env,
        opening.script,
        "threshold",
        vec![declared_ksk(&format!("threshold key tag {tag}"), dnskey)],
        opening.outputs,
        "write the output beside the transcript",
    )?;
    let now = env.now();
    record.act(now, "1", opening.title);
    if let Some(ksr) = opening.ksr {
        record.record(now, file_read(&ksr.facts()));
    }
    record.read_files(now, opening.inputs.iter().copied())?;
    record.commit()?;
    Ok(record)
}

/// Opens the ceremony of `threshold sign` or `combine` (either key) over
/// the KSR recomputed: act 1 reads the KSR, then `inputs`.
fn open_ksr_ceremony(
    ceremony: Option<&Path>,
    env: &mut dyn Env,
    script: &str,
    (key, recomputed): ((u16, &ceremony_dnssec::Dnskey), &Recomputed),
    inputs: &[&Path],
    outputs: &[&Path],
) -> Result<Recorder, Failure> {
    open_ceremony(
        ceremony,
        env,
        &Opening {
            script,
            key,
            title: "The KSR, the key and the configuration are read",
            ksr: Some(&recomputed.input),
            inputs,
            outputs,
        },
    )
}

/// The files a holder's `threshold sign` reads after the KSR: public.json,
/// the (encrypted) share, the previous SKR, the configuration last.
fn holder_inputs(args: &HolderArgs) -> Vec<&Path> {
    [&args.public, &args.share]
        .into_iter()
        .map(PathBuf::as_path)
        .chain(args.previous_skr.as_deref())
        .chain([args.config.as_path()])
        .collect()
}

/// Act 2 of `combine` (either key): the check of the holders' partials
/// (THRESHOLD-PARTIALS) and, when it passed, each signature share received,
/// as `(holder, bundle, share's encoding)`.
fn record_partials(
    record: &mut Recorder,
    env: &dyn Env,
    passed: bool,
    received: impl IntoIterator<Item = (u16, String, Vec<u8>)>,
) -> Result<(), Failure> {
    let events = iter::once(check_event(PARTIALS_CHECK, passed)).chain(
        received
            .into_iter()
            .filter(|_| passed)
            .map(|(holder, bundle, share)| partial_received(holder, &bundle, &share)),
    );
    record.act_of(
        env.now(),
        ("2", "The holders' partial signatures are verified"),
        events,
    )
}

/// Act 3 of `combine` (either key): each signature combined, the checks
/// after signing, and the SKR written to `output`.
fn write_combined(
    record: &mut Recorder,
    env: &dyn Env,
    output: &Path,
    signed: &ceremony_signer::Signed,
) -> Result<Written, Failure> {
    record.write_skr_act(
        env,
        "3",
        "The shares are combined into signatures and the SKR is written",
        (output, &icann::write_skr(&signed.skr)),
        &signed.skr,
        &signed.report,
    )
}

/// The files written by one step: the first (a public.json or the
/// commitments) apart, then each of the rest paired with its holder, in the
/// order of `holders`.
fn first_and_holders(
    written: Vec<Written>,
    holders: impl IntoIterator<Item = u16>,
) -> Result<(Written, Vec<(u16, Written)>), Failure> {
    let mut written = written.into_iter();
    let first = written
        .next()
        .ok_or_else(|| Failure::environment("no file was written"))?;
    Ok((first, holders.into_iter().zip(written).collect()))
}

/// The headings of the files one step wrote: the first, titled `title`,
/// then each holder's, titled `each` and the holder's number.
fn written_headings(
    (title, first): (&str, &Written),
    each: &str,
    files: &[(u16, Written)],
) -> String {
    let mut out = render::file_heading(title, &first.facts());
    for (i, w) in files {
        out.push_str(&render::file_heading(&format!("{each} {i}"), &w.facts()));
    }
    out
}

/// The refusal of a KSR's checks by the signer at combine (either key):
/// recorded as act 3, shown, and returned as the failure.
fn refuse_checks(
    record: &mut Recorder,
    env: &mut dyn Env,
    global: &Global,
    report: Box<ceremony_policy::Report>,
    context: &str,
) -> Failure {
    if let Err(err) = record.act_of(
        env.now(),
        ("3", "The KSR is checked"),
        [check_report(&report)],
    ) {
        return err;
    }
    let shown = if global.json {
        emit_json(
            env,
            &json!({"report": render::report_json(&report), "output": null}),
        )
    } else {
        emit(env, &render::report(&report, context))
    };
    match shown {
        Err(err) => err,
        Ok(()) => sign_failure(SignError::Policy(report)),
    }
}

fn holder_sign(
    args: &HolderArgs,
    unlock: &Unlock,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let now = now(global, env)?;
    let public = read_public(&args.public)?;
    let share = read_share(&args.share, unlock)?;
    let name = args.share.display();
    if share.share.public_key() != &public.public_key {
        return Err(Failure::input(format!(
            "{name}: the share (holder {}) is of another key than {}",
            share.index,
            args.public.display()
        )));
    }
    if share.index != share.share.index() {
        return Err(Failure::input(format!(
            "{name}: says holder {}, but the share is holder {}'s",
            share.index,
            share.share.index()
        )));
    }
    share
        .share
        .check()
        .map_err(|e| Failure::input(format!("{name}: {e}")))?;
    let recomputed = recompute(
        &args.ksr,
        &args.config,
        &args.schema,
        args.previous_skr.as_deref(),
        &public.public_key,
        now,
    )?;

    let mut out = render::file_heading("KSR", &recomputed.input.facts());
    out.push_str(&render::document(&recomputed.input.document));
    if !global.json {
        emit(env, &out)?;
    }
    let keys = ring_keys(&recomputed, &public.public_key, &Default::default())?;
    let ring: KeyRing<'_> = keys
        .iter()
        .map(|(n, k)| (n.clone(), k as &dyn ceremony_keys::KeySigner))
        .collect();
    let request = SignRequest {
        ksr: &recomputed.ksr,
        schema: &recomputed.schema,
        config: &recomputed.config,
        keys: &ring,
        previous: recomputed.previous.as_ref(),
        now,
    };
    let context = format!(
        "{}, schema {}, as of {now}",
        args.config.display(),
        recomputed.schema.name
    );
    let dnskey = public.dnskey()?;
    let mut record = open_ksr_ceremony(
        args.ceremony.as_deref(),
        env,
        "ceremony threshold sign",
        ((public.key_tag, &dnskey), &recomputed),
        &holder_inputs(args),
        &[&args.output],
    )?;
    let report = check(&request);
    record.checks(env, &report)?;
    if !global.json || !report.is_ok() {
        if global.json {
            emit_json(
                env,
                &json!({"report": render::report_json(&report), "output": null}),
            )?;
        } else {
            emit(env, &render::report(&report, &context))?;
        }
    }
    if !report.is_ok() {
        return Err(sign_failure(SignError::Policy(Box::new(report))));
    }
    if !args.yes {
        confirm(
            env,
            &format!(
                "\nAs holder {} of {} (any {} sign), sign {} RRSIGs of this KSR with your share?",
                share.index,
                public.holders,
                public.threshold,
                recomputed.data.len()
            ),
            "not signed",
        )?;
    }
    let partials = partials_for(
        &share.share,
        &recomputed.data,
        &recomputed.ksr,
        &recomputed.ksr_sha256,
    )
    .map_err(|e| Failure::input(format!("{name}: {e}")))?;
    drop(share);
    let text = serde_json::to_string_pretty(&partials).unwrap_or_default() + "\n";
    let at = env.now();
    record.act(
        at,
        "3",
        &format!(
            "Holder {} signs every bundle with their share",
            partials.holder
        ),
    );
    let written = record.write_file(at, &args.output, text.as_bytes())?;
    if global.json {
        emit_json(
            env,
            &json!({
                "file": render::file_json(&recomputed.input.facts()),
                "report": render::report_json(&report),
                "holder": partials.holder,
                "bundles": partials.bundles.len(),
                "output": render::file_json(&written.facts()),
            }),
        )?;
    } else {
        let mut out = format!(
            "\nHolder {} signed {} RRSIGs of KSR {} (SHA-256 {}).\n\n",
            partials.holder,
            partials.bundles.len(),
            recomputed.ksr.header.id,
            partials.ksr_sha256
        );
        out.push_str(&render::file_heading("Partials", &written.facts()));
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}

/// (configuration, schema name, previous SKR).
type Policy<'a> = (&'a Path, &'a str, Option<&'a Path>);

fn combine(
    ksr_path: &Path,
    public_path: &Path,
    partials_paths: &[PathBuf],
    (config_path, schema, previous): Policy<'_>,
    (output, ceremony): (&Path, Option<&Path>),
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let now = now(global, env)?;
    let public = read_public(public_path)?;
    let recomputed = recompute(
        ksr_path,
        config_path,
        schema,
        previous,
        &public.public_key,
        now,
    )?;
    let mut files = Vec::new();
    for path in partials_paths {
        let name = path.display().to_string();
        let bytes = ceremony_formats::read_bounded(path)?;
        let partials: Partials = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::input(format!("{name}: not a partials file: {e}")))?;
        files.push((name, partials));
    }
    let inputs: Vec<&Path> = iter::once(public_path)
        .chain(previous)
        .chain(partials_paths.iter().map(PathBuf::as_path))
        .chain([config_path])
        .collect();
    let dnskey = public.dnskey()?;
    let mut record = open_ksr_ceremony(
        ceremony,
        env,
        "ceremony threshold combine",
        ((public.key_tag, &dnskey), &recomputed),
        &inputs,
        &[output],
    )?;
    let admission = admit(
        &public.public_key,
        &recomputed.data,
        &recomputed.ksr_sha256,
        &files,
    );
    let received = files.iter().flat_map(|(_, p)| {
        p.bundles.iter().map(|b| {
            let share = serde_json::to_vec(&b.share).unwrap_or_default();
            (p.holder, b.id.clone(), share)
        })
    });
    record_partials(&mut record, env, admission.is_ok(), received)?;
    if !global.json {
        let mut out = render::file_heading("KSR", &recomputed.input.facts());
        out.push_str(&format!(
            "SHA-256 {}; {} RRSIGs by the threshold key (tag {}), {} of {} holders needed.\n",
            hex32(&recomputed.ksr_sha256),
            recomputed.data.len(),
            public.key_tag,
            public.threshold,
            public.holders
        ));
        for (name, p) in &files {
            out.push_str(&format!("  partials of holder {}: {name}\n", p.holder));
        }
        emit(env, &out)?;
    }
    if !admission.is_ok() {
        let mut problems = admission.rejected.clone();
        problems.extend(admission.short.iter().cloned());
        if global.json {
            emit_json(
                env,
                &json!({"rejected": admission.rejected, "short": admission.short, "output": null}),
            )?;
        } else {
            let mut out = String::from("\nRefused:\n");
            for p in &problems {
                out.push_str(&format!("  {p}\n"));
            }
            emit(env, &out)?;
        }
        return Err(Failure {
            code: EXIT_CHECKS_FAILED,
            message: format!("threshold combine refused: {}", problems.join("; ")),
            hint: Some(
                "no SKR was written; drop or replace the named partials files, or ask more holders to sign"
                    .to_owned(),
            ),
        });
    }
    let keys = ring_keys(&recomputed, &public.public_key, &admission.shares)?;
    let ring: KeyRing<'_> = keys
        .iter()
        .map(|(n, k)| (n.clone(), k as &dyn ceremony_keys::KeySigner))
        .collect();
    let holders: Vec<u16> = files.iter().map(|(_, p)| p.holder).collect();
    sign_combined(
        record,
        env,
        global,
        (&recomputed, &ring, now),
        (config_path, schema, output),
        &format!(
            "Combined the shares of holders {holders:?} into {} RRSIGs",
            recomputed.data.len()
        ),
        &holders,
    )
}

/// The end of `threshold combine` for either kind of key: signs the KSR
/// through the signer's path with the combining `ring` (every check and
/// SKR-VERIFY), writes the SKR in the ceremony, and reports who signed.
fn sign_combined(
    mut record: Recorder,
    env: &mut dyn Env,
    global: &Global,
    (recomputed, ring, now): (&Recomputed, &KeyRing<'_>, jiff::Timestamp),
    (config_path, schema, output): (&Path, &str, &Path),
    summary: &str,
    holders: &[u16],
) -> Result<u8, Failure> {
    let request = SignRequest {
        ksr: &recomputed.ksr,
        schema: &recomputed.schema,
        config: &recomputed.config,
        keys: ring,
        previous: recomputed.previous.as_ref(),
        now,
    };
    let context = format!("{}, schema {schema}, as of {now}", config_path.display());
    let signed = match sign_ksr(&request) {
        Ok(signed) => signed,
        Err(SignError::Policy(report)) => {
            return Err(refuse_checks(&mut record, env, global, report, &context));
        }
        Err(err) => {
            return Err(Failure {
                code: EXIT_CHECKS_FAILED,
                message: format!("threshold combine refused: {err}"),
                hint: Some("no SKR was written".to_owned()),
            })
        }
    };
    let written = write_combined(&mut record, env, output, &signed)?;
    if global.json {
        emit_json(
            env,
            &json!({
                "file": render::file_json(&recomputed.input.facts()),
                "report": render::report_json(&signed.report),
                "holders": holders,
                "output": render::file_json(&written.facts()),
            }),
        )?;
    } else {
        let mut out = render::report(&signed.report, &context);
        out.push_str(&format!("\n{summary}. Wrote the SKR:\n\n"));
        out.push_str(&render::file_heading("SKR", &written.facts()));
        out.push_str(&render::document(&Document::Skr(signed.skr)));
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}
