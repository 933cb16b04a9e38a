//! `ceremony threshold reshare enrol deltas|sigma|combine`: a new holder of a
//! FROST Ed25519 key, enrolled offline, with files only, by t existing
//! holders (the helpers) with the repair protocol (RTS,
//! <https://eprint.iacr.org/2017/1155>; `ceremony_threshold::frost::repair`).
//! The group key, the DNSKEY, the DS and the threshold stay the same.
//!
//! ```text
//! helper h:    enrol deltas   share-h.age → enrol-commitments-h.json   (public)
//!                                           delta-h-to-k.age           (one per helper k, to k)
//! helper k:    enrol sigma    delta-*-to-k.age → sigma-k-for-j.age     (to the new holder j)
//! new holder:  enrol combine  sigma-*-for-j.age → public.json, share-j.age (to itself)
//! ```
//!
//! No share, delta or sigma is ever written in the clear: each is
//! age-encrypted to the one party that uses it. The commitments (G·δ for
//! every delta) are public: each helper checks the deltas it receives
//! against them, and the new holder checks each sigma, so a bad message
//! names the helper who sent it. Every step prints the new holder's
//! verifying share, interpolated from the group's (`extend_group`): anyone
//! can compute it, so every party compares it. The new `public.json` is the
//! old one with that verifying share added.
//!
//! With `--ceremony DIR` each step records, through the same code in
//! `threshold.rs` as `reshare deal|combine`, the files it reads (secrets only
//! as their encrypted files' hashes), its check (`FROST-ENROL-DELTAS` by a
//! helper's `sigma`, `FROST-ENROL-SIGMAS` by `combine`; a failed one names
//! the helper at fault in the act's title), and its outputs, logged as one
//! step before they are renamed into place.

use std::collections::BTreeMap;
use std::iter;
use std::path::{Path, PathBuf};

use ceremony_keys::keystore::Unlock;
use ceremony_signer::threshold::hex32;
use ceremony_threshold::frost::{self, repair, GroupKey, Holder};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::reshare::open_reshare_ceremony;
use super::super::{first_and_holders, written_headings, MAX_SHARE_FILE};
use super::{
    create_dir, dnskey, read_json, read_public, read_share, refused, PublicFile, ShareFile,
    ALGORITHM, PUBLIC_FORMAT, SHARE_FORMAT,
};
use crate::args::Global;
use crate::ceremony_log::{check_event, Recorder};
use crate::cmd::{emit, emit_json};
use crate::render;
use crate::{Env, Failure};

/// The format tag of a helper's public commitments file.
const COMMITMENTS_FORMAT: &str = "ceremony-frost-enrol-commitments/1";
/// The format tag of a delta file's plaintext.
const DELTA_FORMAT: &str = "ceremony-frost-enrol-delta/1";
/// The format tag of a sigma file's plaintext.
const SIGMA_FORMAT: &str = "ceremony-frost-enrol-sigma/1";
/// The transcript's ID for a helper's check of the deltas sent to it: every
/// helper's commitments fit the group, and each delta matches its sender's.
const DELTAS_CHECK: &str = "FROST-ENROL-DELTAS";
/// The transcript's ID for the new holder's check of the sigmas: every
/// helper's commitments fit the group, each sigma matches them, and their
/// sum is a share with the group's verifying share for the new holder.
const SIGMAS_CHECK: &str = "FROST-ENROL-SIGMAS";

/// `ceremony threshold reshare enrol …`
#[derive(Debug, clap::Subcommand)]
pub enum EnrolCommand {
    /// As one of t helpers: split your part of the new share into one delta per helper.
    Deltas(DeltasArgs),
    /// As one helper: check the deltas sent to you and send their sum to the new holder.
    Sigma(SigmaArgs),
    /// As the new holder: check the helpers' sigmas and add them into your share.
    Combine(CombineArgs),
}

/// How a step decrypts what was sent to it.
#[derive(Debug, clap::Args)]
pub struct Credential {
    /// Your age identity file (AGE-SECRET-KEY-1…).
    #[arg(long, value_name = "FILE", required_unless_present = "passphrase_env")]
    identity: Option<PathBuf>,
    /// Your passphrase is in this variable (demonstrations only).
    #[arg(long, value_name = "VAR", conflicts_with = "identity")]
    passphrase_env: Option<String>,
}

/// `enrol deltas`: a helper's step with its own share.
#[derive(Debug, clap::Args)]
pub struct DeltasArgs {
    /// The FROST key's public.json.
    #[arg(long, value_name = "FILE")]
    public: PathBuf,
    /// Your share file (share-<h>.age).
    #[arg(long, value_name = "FILE")]
    share: PathBuf,
    #[command(flatten)]
    credential: Credential,
    /// The helpers, at least the threshold of them, e.g. 1,3 (you among them).
    #[arg(long, value_name = "I,J,…", value_delimiter = ',', required = true)]
    helpers: Vec<u16>,
    /// The new holder's index (not yet in the group).
    #[arg(long = "new", value_name = "J")]
    new: u16,
    /// One age X25519 recipient (age1…) per helper, in the order of --helpers.
    #[arg(
        long = "recipient",
        value_name = "AGE_RECIPIENT",
        required_unless_present = "passphrase_env"
    )]
    recipients: Vec<String>,
    /// The directory to write enrol-commitments-<h>.json and delta-<h>-to-<k>.age into.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// Record this as a ceremony in DIR/transcript; the output directory must be inside DIR.
    #[arg(long, value_name = "DIR")]
    ceremony: Option<PathBuf>,
}

/// `enrol sigma`: a helper sums the deltas sent to it.
#[derive(Debug, clap::Args)]
pub struct SigmaArgs {
    /// The FROST key's public.json.
    #[arg(long, value_name = "FILE")]
    public: PathBuf,
    /// Every helper's enrol-commitments-<h>.json.
    #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
    commitments: Vec<PathBuf>,
    /// The delta files sent to you, one from each helper (yours included).
    #[arg(long = "delta", value_name = "FILE", num_args = 1.., required = true)]
    deltas: Vec<PathBuf>,
    #[command(flatten)]
    credential: Credential,
    /// The new holder's age X25519 recipient (age1…).
    #[arg(
        long = "recipient",
        value_name = "AGE_RECIPIENT",
        required_unless_present = "passphrase_env"
    )]
    recipient: Option<String>,
    /// The directory to write sigma-<k>-for-<j>.age into.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// Record this as a ceremony in DIR/transcript; the output directory must be inside DIR.
    #[arg(long, value_name = "DIR")]
    ceremony: Option<PathBuf>,
}

/// `enrol combine`: the new holder's share from every helper's sigma.
#[derive(Debug, clap::Args)]
pub struct CombineArgs {
    /// The FROST key's current public.json.
    #[arg(long, value_name = "FILE")]
    public: PathBuf,
    /// Every helper's enrol-commitments-<h>.json.
    #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
    commitments: Vec<PathBuf>,
    /// The sigma files sent to you, one from each helper.
    #[arg(long = "sigma", value_name = "FILE", num_args = 1.., required = true)]
    sigmas: Vec<PathBuf>,
    #[command(flatten)]
    credential: Credential,
    /// The directory to write the new public.json and your share-<j>.age into.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// Record this as a ceremony in DIR/transcript; the output directory must be inside DIR.
    #[arg(long, value_name = "DIR")]
    ceremony: Option<PathBuf>,
}

/// `enrol-commitments-<h>.json`: public; give it to every helper and the new holder.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitmentsFile {
    format: String,
    key_tag: u16,
    helpers: Vec<u16>,
    new: u16,
    helper: u16,
    commitments: repair::DeltaCommitments,
}

/// A delta file's plaintext: secret; only helper `to` may read it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeltaFile {
    format: String,
    key_tag: u16,
    helpers: Vec<u16>,
    new: u16,
    from: u16,
    to: u16,
    delta: repair::Delta,
}

/// A sigma file's plaintext: secret; only the new holder may read it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SigmaFile {
    format: String,
    key_tag: u16,
    helpers: Vec<u16>,
    new: u16,
    from: u16,
    sigma: repair::Sigma,
}

impl EnrolCommand {
    /// The step's `--identity` and `--passphrase-env`.
    pub(crate) fn credential(&self) -> (Option<&Path>, Option<&str>) {
        let c = match self {
            EnrolCommand::Deltas(a) => &a.credential,
            EnrolCommand::Sigma(a) => &a.credential,
            EnrolCommand::Combine(a) => &a.credential,
        };
        (c.identity.as_deref(), c.passphrase_env.as_deref())
    }
}

/// Runs one step of `threshold reshare enrol`, with the step's credential.
pub(crate) fn enrol(
    command: &EnrolCommand,
    unlock: &Unlock,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    match command {
        EnrolCommand::Deltas(args) => deltas(args, unlock, global, env),
        EnrolCommand::Sigma(args) => sigma(args, unlock, global, env),
        EnrolCommand::Combine(args) => combine(args, unlock, global, env),
    }
}

/// A message that failed its check: its file, and what the library found
/// (naming the helper who sent it, when one is at fault).
type Fault<'a> = (&'a Path, ceremony_threshold::Error);

/// A fault as one line: the helper at fault, its file and what is wrong.
fn fault_line((what, err): &Fault<'_>) -> String {
    use ceremony_threshold::Error as E;
    let who = match err {
        E::BadSubShare { dealer, .. } | E::BadCommitments { dealer, .. } => {
            format!("helper {dealer}'s ")
        }
        _ => String::new(),
    };
    format!("{who}{}: {err}", what.display())
}

/// Act 2 of `sigma` and `combine`: the check `id` of the messages received,
/// whose title names the helper at fault when it failed; a failure is a
/// refusal (exit 1), with nothing written.
fn record_check<T>(
    record: &mut Recorder,
    env: &dyn Env,
    (id, title): (&str, &str),
    result: Result<T, Fault<'_>>,
) -> Result<T, Failure> {
    let title = match &result {
        Ok(_) => title.to_owned(),
        Err(fault) => format!("{title}: {}", fault_line(fault)),
    };
    record.act_of(env.now(), ("2", &title), [check_event(id, result.is_ok())])?;
    result.map_err(|fault| {
        refused(
            "enrolment",
            &[fault_line(&fault)],
            "nothing was written; check that every file is from this enrolment, or have the \
             helper named run its step again (a helper who runs deltas again makes every \
             later step run again)",
        )
    })
}

/// The group extended with new holder `new`, and its verifying share in hex.
fn extended(public: &PublicFile, name: &Path, new: u16) -> Result<(GroupKey, String), Failure> {
    if public.group_key.holders().contains(&new) {
        return Err(Failure::input(format!(
            "--new {new}: {} already has holder {new}; a lost share is rebuilt with \
             ceremony_threshold::frost::repair",
            name.display()
        )));
    }
    let group = frost::reshare::extend_group(&public.group_key, &[new])
        .map_err(|e| Failure::input(format!("{}: {e}", name.display())))?;
    let share = group
        .verifying_share(new)
        .ok_or_else(|| Failure::input(format!("--new {new}: not a holder index")))?;
    Ok((group, hex32(&share)))
}

/// Refuses an output file that exists: enrolment output is never overwritten.
fn fresh(paths: &[PathBuf]) -> Result<(), Failure> {
    match paths.iter().find(|p| p.exists()) {
        Some(path) => Err(Failure::input(format!(
            "{} exists: enrolment output is never overwritten",
            path.display()
        ))),
        None => Ok(()),
    }
}

/// One enrolment, as every helper's commitments file states it.
struct Enrolment<'a> {
    /// The helpers, in the order the files list them.
    helpers: Vec<u16>,
    /// The new holder's index.
    new: u16,
    /// Each helper's commitments to its deltas, keyed by helper.
    commitments: BTreeMap<u16, repair::DeltaCommitments>,
    /// Each helper's commitments file, keyed by helper.
    files: BTreeMap<u16, &'a Path>,
}

impl Enrolment<'_> {
    /// Checks every helper's commitments against the group: the first
    /// part of each step's check, once its ceremony has opened.
    fn check(&self, public: &PublicFile) -> Result<(), Fault<'_>> {
        // Both maps are keyed by the same helpers.
        for ((helper, commitments), path) in self.commitments.iter().zip(self.files.values()) {
            repair::check_commitments(
                &public.group_key,
                &self.helpers,
                self.new,
                *helper,
                commitments,
            )
            .map_err(|e| (*path, e))?;
        }
        Ok(())
    }
}

/// Every helper's commitments, checked against each other (and, by
/// [`Enrolment::check`], against the group).
fn read_commitments<'a>(
    paths: &'a [PathBuf],
    public: &PublicFile,
) -> Result<Enrolment<'a>, Failure> {
    let mut plan: Option<(Vec<u16>, u16)> = None;
    let mut all = BTreeMap::new();
    let mut files = BTreeMap::new();
    for path in paths {
        let name = path.display();
        let (file, _): (CommitmentsFile, _) =
            read_json(path, "FROST enrolment commitments", COMMITMENTS_FORMAT)?;
        let this = (file.helpers.clone(), file.new);
        if file.key_tag != public.key_tag || plan.as_ref().is_some_and(|p| *p != this) {
            return Err(Failure::input(format!(
                "{name}: an enrolment of holder {} with helpers {:?} for key tag {}, \
                 not the one of the other files (key tag {})",
                file.new, file.helpers, file.key_tag, public.key_tag
            )));
        }
        if all.contains_key(&file.helper) {
            return Err(Failure::input(format!(
                "{name}: a second commitments file from helper {}",
                file.helper
            )));
        }
        files.insert(file.helper, path.as_path());
        all.insert(file.helper, file.commitments);
        plan = Some(this);
    }
    let (helpers, new) = plan.ok_or_else(|| Failure::input("give every helper's --commitments"))?;
    if !all.keys().eq(sorted(&helpers).iter()) {
        return Err(Failure::input(format!(
            "commitments from helpers {:?}; the enrolment's helpers are {helpers:?}: give one from each",
            all.keys().collect::<Vec<_>>()
        )));
    }
    Ok(Enrolment {
        helpers,
        new,
        commitments: all,
        files,
    })
}

fn sorted(indices: &[u16]) -> Vec<u16> {
    let mut out = indices.to_vec();
    out.sort_unstable();
    out
}

/// `enrol deltas`, by each helper: its deltas, one to each helper, and their commitments.
fn deltas(
    args: &DeltasArgs,
    unlock: &Unlock,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let public = read_public(&args.public)?;
    let (_, new_share) = extended(&public, &args.public, args.new)?;
    let mut listed = sorted(&args.helpers);
    listed.dedup();
    if listed.len() != args.helpers.len() || listed.len() < usize::from(public.threshold) {
        return Err(Failure::input(format!(
            "--helpers {:?}: {} distinct helpers; an enrolment needs at least the threshold, {}",
            args.helpers,
            listed.len(),
            public.threshold
        )));
    }
    let known = public.group_key.holders();
    if let Some(h) = args.helpers.iter().find(|h| !known.contains(h)) {
        return Err(Failure::input(format!(
            "--helpers: {} has no holder {h} (its holders are {known:?})",
            args.public.display()
        )));
    }
    let count =
        u16::try_from(args.helpers.len()).map_err(|_| Failure::input("too many --helpers"))?;
    let sealers = crate::sealed::holder_recipients(
        &args.recipients,
        args.credential.passphrase_env.as_deref(),
        count,
    )?;
    let share = read_share(&args.share, unlock, &public)?;
    let me = share.index;
    if !args.helpers.contains(&me) {
        return Err(Failure::input(format!(
            "{}: holder {me} is not one of --helpers {:?}",
            args.share.display(),
            args.helpers
        )));
    }
    // The commitments first, then one delta per helper, in the order of --helpers.
    let paths: Vec<PathBuf> = iter::once(args.output.join(format!("enrol-commitments-{me}.json")))
        .chain(
            args.helpers
                .iter()
                .map(|k| args.output.join(format!("delta-{me}-to-{k}.age"))),
        )
        .collect();
    fresh(&paths)?;
    let mut record = open_reshare_ceremony(
        args.ceremony.as_deref(),
        env,
        (
            "ceremony threshold reshare enrol deltas",
            (public.key_tag, &dnskey(&public)?),
        ),
        &[args.public.as_path(), args.share.as_path()],
        &paths,
    )?;

    let deltas = repair::helper_deltas(
        &share.key_package,
        &args.helpers,
        args.new,
        &mut rand_core::OsRng,
    )
    .map_err(|e| Failure::input(format!("{}: {e}", args.share.display())))?;
    drop(share);
    let commitments = repair::commit_deltas(&deltas)
        .map_err(|e| Failure::environment(format!("cannot commit to the deltas: {e}")))?;
    let mut sealed = Vec::new();
    for (k, sealer) in args.helpers.iter().zip(&sealers) {
        let delta = *deltas
            .get(k)
            .ok_or_else(|| Failure::environment(format!("no delta for helper {k}")))?;
        let plain = DeltaFile {
            format: DELTA_FORMAT.to_owned(),
            key_tag: public.key_tag,
            helpers: args.helpers.clone(),
            new: args.new,
            from: me,
            to: *k,
            delta,
        };
        sealed.push(crate::sealed::seal_json(
            plain,
            sealer.as_ref(),
            &format!("the delta for {k}"),
        )?);
    }
    drop(deltas);
    let file = CommitmentsFile {
        format: COMMITMENTS_FORMAT.to_owned(),
        key_tag: public.key_tag,
        helpers: args.helpers.clone(),
        new: args.new,
        helper: me,
        commitments,
    };
    create_dir(&args.output)?;
    let text = serde_json::to_string_pretty(&file).unwrap_or_default() + "\n";
    let contents = iter::once(&text).chain(&sealed).map(String::as_bytes);
    let outputs: Vec<(&Path, &[u8])> = paths.iter().map(PathBuf::as_path).zip(contents).collect();
    let title = format!(
        "Helper {me} splits its part of holder {}'s share into one delta per helper {:?}: \
         commitments and deltas",
        args.new, args.helpers
    );
    let (written, files) = first_and_holders(
        record.write_act(env.now(), ("2", &title), &outputs)?,
        args.helpers.iter().copied(),
    )?;
    if global.json {
        emit_json(
            env,
            &json!({
                "helper": me,
                "new": args.new,
                "new_verifying_share": new_share,
                "commitments": render::file_json(&written.facts()),
                "deltas": files.iter().map(|(k, w)| json!({"helper": k, "file": render::file_json(&w.facts())})).collect::<Vec<_>>(),
            }),
        )?;
        record.finish(env)?;
        return Ok(0);
    }
    let mut out = format!(
        "\nHelper {me} split its part of holder {}'s share of FROST key tag {} into one \
         delta per helper {:?}.\nNew holder {}'s verifying share (compare): {new_share}\n\n",
        args.new, public.key_tag, args.helpers, args.new
    );
    out.push_str(&written_headings(
        (
            "Commitments (give to every helper and the new holder)",
            &written,
        ),
        "Delta for helper",
        &files,
    ));
    out.push_str(
        "\nEach helper then runs threshold reshare enrol sigma with the deltas sent to it.\n",
    );
    emit(env, &out)?;
    record.finish(env)?;
    Ok(0)
}

/// A secret enrolment message (a delta or a sigma), decrypted: it says which
/// enrolment it is of and which helper sent it.
trait Message: serde::de::DeserializeOwned {
    /// The format tag of its plaintext.
    const FORMAT: &'static str;
    /// What several of them are called.
    const PLURAL: &'static str;
    /// (key tag, helpers, new holder, the helper who sent it).
    fn header(&self) -> (u16, &[u16], u16, u16);
}

impl Message for DeltaFile {
    const FORMAT: &'static str = DELTA_FORMAT;
    const PLURAL: &'static str = "deltas";
    fn header(&self) -> (u16, &[u16], u16, u16) {
        (self.key_tag, &self.helpers, self.new, self.from)
    }
}

impl Message for SigmaFile {
    const FORMAT: &'static str = SIGMA_FORMAT;
    const PLURAL: &'static str = "sigmas";
    fn header(&self) -> (u16, &[u16], u16, u16) {
        (self.key_tag, &self.helpers, self.new, self.from)
    }
}

/// Decrypts a secret enrolment message and checks its format tag.
fn open<T: Message>(path: &Path, unlock: &Unlock) -> Result<T, Failure> {
    /// The format tag alone, read before the secret fields.
    #[derive(Deserialize)]
    struct Tag {
        format: String,
    }
    let (name, format) = (path.display(), T::FORMAT);
    let plain = crate::sealed::open(path, unlock, MAX_SHARE_FILE)?;
    match serde_json::from_slice::<Tag>(&plain) {
        Ok(tag) if tag.format == format => serde_json::from_slice(&plain)
            .map_err(|e| Failure::input(format!("{name}: not {format}: {e}"))),
        Ok(tag) => Err(Failure::input(format!(
            "{name}: format {:?}, not {format}",
            tag.format
        ))),
        Err(e) => Err(Failure::input(format!("{name}: not {format}: {e}"))),
    }
}

/// The messages sent to this step, decrypted: one from each helper of
/// `enrolment`, each of this enrolment. Their checks come once the
/// ceremony has opened, so that a refusal is recorded.
fn read_messages<'a, T: Message>(
    paths: &'a [PathBuf],
    unlock: &Unlock,
    public: &PublicFile,
    enrolment: &Enrolment<'_>,
) -> Result<Vec<(&'a Path, T)>, Failure> {
    let mut messages: Vec<(&Path, T)> = Vec::new();
    for path in paths {
        let file: T = open(path, unlock)?;
        let (key_tag, helpers, new, from) = file.header();
        if key_tag != public.key_tag || helpers != enrolment.helpers || new != enrolment.new {
            return Err(Failure::input(format!(
                "{}: from helper {from}, for an enrolment of holder {new} with helpers \
                 {helpers:?} (key tag {key_tag}), not the one the commitments are for",
                path.display()
            )));
        }
        if messages.iter().any(|(_, m)| m.header().3 == from) {
            return Err(Failure::input(format!(
                "{}: a second message from helper {from}",
                path.display()
            )));
        }
        messages.push((path, file));
    }
    let froms: Vec<u16> = messages.iter().map(|(_, m)| m.header().3).collect();
    if sorted(&froms) != sorted(&enrolment.helpers) {
        return Err(Failure::input(format!(
            "{} from helpers {froms:?}; the enrolment's helpers are {:?}: give one from each",
            T::PLURAL,
            enrolment.helpers
        )));
    }
    Ok(messages)
}

/// Opens the ceremony of enrolment step `step` when `ceremony` is given: it
/// declares the key (whose DNSKEY the enrolment keeps) and records act 1,
/// the files read: public.json, then each of `inputs`.
fn open_step(
    (ceremony, step): (Option<&Path>, &str),
    env: &mut dyn Env,
    (path, public): (&Path, &PublicFile),
    inputs: &[&[PathBuf]],
    outputs: &[PathBuf],
) -> Result<Recorder, Failure> {
    let inputs: Vec<&Path> = iter::once(path)
        .chain(inputs.iter().flat_map(|l| l.iter().map(PathBuf::as_path)))
        .collect();
    open_reshare_ceremony(
        ceremony,
        env,
        (
            &format!("ceremony threshold reshare enrol {step}"),
            (public.key_tag, &dnskey(public)?),
        ),
        &inputs,
        outputs,
    )
}

/// `enrol sigma`, by each helper: the sum of the deltas sent to it, to the new holder.
fn sigma(
    args: &SigmaArgs,
    unlock: &Unlock,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let public = read_public(&args.public)?;
    let enrolment = read_commitments(&args.commitments, &public)?;
    let (helpers, new) = (&enrolment.helpers, enrolment.new);
    let (_, new_share) = extended(&public, &args.public, new)?;
    let recipients: Vec<String> = args.recipient.iter().cloned().collect();
    let sealer = crate::sealed::holder_recipients(
        &recipients,
        args.credential.passphrase_env.as_deref(),
        1,
    )?
    .pop()
    .ok_or_else(|| Failure::input("give the new holder's --recipient"))?;
    let deltas: Vec<(&Path, DeltaFile)> = read_messages(&args.deltas, unlock, &public, &enrolment)?;
    let me = deltas
        .first()
        .map(|(_, d)| d.to)
        .ok_or_else(|| Failure::input("give the --delta files sent to you"))?;
    if let Some((path, d)) = deltas.iter().find(|(_, d)| d.to != me) {
        return Err(Failure::input(format!(
            "{}: a delta for helper {}; the others are for helper {me}: give only yours",
            path.display(),
            d.to
        )));
    }
    let out_path = args.output.join(format!("sigma-{me}-for-{new}.age"));
    fresh(std::slice::from_ref(&out_path))?;
    let mut record = open_step(
        (args.ceremony.as_deref(), "sigma"),
        env,
        (&args.public, &public),
        &[&args.commitments, &args.deltas],
        std::slice::from_ref(&out_path),
    )?;
    // A sender without commitments has committed to no delta: its delta fails.
    let uncommitted = repair::DeltaCommitments::new();
    let checked = enrolment.check(&public).and_then(|()| {
        deltas.iter().try_for_each(|(path, d)| {
            let from = enrolment.commitments.get(&d.from).unwrap_or(&uncommitted);
            repair::check_delta(d.from, d.to, &d.delta, from).map_err(|e| (*path, e))
        })
    });
    record_check(
        &mut record,
        env,
        (
            DELTAS_CHECK,
            &format!(
                "Helper {me} checks the deltas of helpers {helpers:?} against their commitments"
            ),
        ),
        checked,
    )?;
    let sum = repair::helper_sigma(&deltas.iter().map(|(_, d)| d.delta).collect::<Vec<_>>());
    drop(deltas);
    let plain = SigmaFile {
        format: SIGMA_FORMAT.to_owned(),
        key_tag: public.key_tag,
        helpers: helpers.clone(),
        new,
        from: me,
        sigma: sum,
    };
    let armored = crate::sealed::seal_json(plain, sealer.as_ref(), "the sigma")?;
    create_dir(&args.output)?;
    let at = env.now();
    record.act(
        at,
        "3",
        &format!("Helper {me}'s sigma is written, encrypted to new holder {new}"),
    );
    let written = record.write_file(at, &out_path, armored.as_bytes())?;
    if global.json {
        emit_json(
            env,
            &json!({"helper": me, "new": new, "new_verifying_share": new_share, "sigma": render::file_json(&written.facts())}),
        )?;
    } else {
        let mut out = format!(
            "\nHelper {me}: the deltas of helpers {helpers:?} match their commitments; their \
             sum is for new holder {new}.\nNew holder {new}'s verifying share (compare): \
             {new_share}\n\n"
        );
        out.push_str(&render::file_heading(
            &format!("Sigma for new holder {new}"),
            &written.facts(),
        ));
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}

/// `enrol combine`, by the new holder: its share, checked, and the extended public.json.
fn combine(
    args: &CombineArgs,
    unlock: &Unlock,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let public = read_public(&args.public)?;
    let enrolment = read_commitments(&args.commitments, &public)?;
    let (helpers, new) = (&enrolment.helpers, enrolment.new);
    let (group, new_share) = extended(&public, &args.public, new)?;
    let outputs = [
        args.output.join("public.json"),
        args.output.join(format!("share-{new}.age")),
    ];
    fresh(&outputs)?;
    let sigmas: Vec<(&Path, SigmaFile)> = read_messages(&args.sigmas, unlock, &public, &enrolment)?;
    let mut record = open_step(
        (args.ceremony.as_deref(), "combine"),
        env,
        (&args.public, &public),
        &[&args.commitments, &args.sigmas],
        &outputs,
    )?;
    // The library checks the share rebuilt against the group's verifying share for `new`.
    let checked = enrolment.check(&public).and_then(|()| {
        for (path, s) in &sigmas {
            repair::check_sigma(s.from, new, &s.sigma, &enrolment.commitments)
                .map_err(|e| (*path, e))?;
        }
        let all: Vec<repair::Sigma> = sigmas.iter().map(|(_, s)| s.sigma).collect();
        repair::recover(new, &all, &group).map_err(|e| (args.public.as_path(), e))
    });
    drop(sigmas);
    let holder = record_check(
        &mut record,
        env,
        (
            SIGMAS_CHECK,
            &format!(
                "New holder {new} checks the sigmas of helpers {helpers:?} against their \
                 commitments and the group"
            ),
        ),
        checked,
    )?;
    let holders =
        u16::try_from(group.holders().len()).map_err(|_| Failure::input("too many holders"))?;
    let new_public = PublicFile {
        format: PUBLIC_FORMAT.to_owned(),
        algorithm: ALGORITHM.to_owned(),
        threshold: public.threshold,
        holders,
        key_tag: public.key_tag,
        group_key: group,
    };
    let text = serde_json::to_string_pretty(&new_public).unwrap_or_default() + "\n";
    let armored = seal_own_share(unlock, &new_public, new, holder)?;
    create_dir(&args.output)?;
    let files: [(&Path, &[u8]); 2] = [
        (&outputs[0], text.as_bytes()),
        (&outputs[1], armored.as_bytes()),
    ];
    let title = format!("New holder {new} writes the new public key and its share");
    let [written, share] =
        <[_; 2]>::try_from(record.write_act(env.now(), ("3", &title), &files)?)
            .map_err(|_| Failure::environment("the new share was not written"))?;
    if global.json {
        emit_json(
            env,
            &json!({
                "holder": new,
                "key_tag": public.key_tag,
                "new_verifying_share": new_share,
                "public": render::file_json(&written.facts()),
                "share": render::file_json(&share.facts()),
            }),
        )?;
    } else {
        let mut out = format!(
            "\nNew holder {new}: the sigmas of helpers {helpers:?} match their commitments and \
             add up to a share of FROST key tag {} (unchanged) whose verifying share is \
             {new_share}. Any {} of holders {:?} sign.\n\n",
            public.key_tag,
            public.threshold,
            new_public.group_key.holders()
        );
        out.push_str(&render::file_heading(
            "New public key (every party computes the same verifying share)",
            &written.facts(),
        ));
        out.push_str(&render::file_heading(
            &format!("Share of new holder {new}"),
            &share.facts(),
        ));
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}

/// Holder `index`'s share file of `public`, age-encrypted to the holder's
/// own credential (its identity's recipient, or its passphrase).
pub(super) fn seal_own_share(
    unlock: &Unlock,
    public: &PublicFile,
    index: u16,
    holder: Holder,
) -> Result<String, Failure> {
    let sealer = crate::sealed::recipient_of(unlock);
    let file = ShareFile {
        format: SHARE_FORMAT.to_owned(),
        algorithm: ALGORITHM.to_owned(),
        threshold: public.threshold,
        holders: public.holders,
        index,
        key_tag: public.key_tag,
        key_package: holder,
    };
    crate::sealed::seal_json(file, sealer.as_ref(), "the new share")
}
