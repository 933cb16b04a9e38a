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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ceremony_keys::keystore::Unlock;
use ceremony_signer::threshold::hex32;
use ceremony_threshold::frost::{self, repair, GroupKey, Holder};
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

use super::super::reshare::decrypt;
use super::super::{encrypt, MAX_SHARE_FILE};
use super::{
    create_dir, read_json, read_public, read_share, refused, sealers, PublicFile, ShareFile,
    ALGORITHM, PUBLIC_FORMAT, SHARE_FORMAT,
};
use crate::args::Global;
use crate::cmd::{emit, emit_json, write_output};
use crate::render;
use crate::{Env, Failure};

/// The format tag of a helper's public commitments file.
const COMMITMENTS_FORMAT: &str = "ceremony-frost-enrol-commitments/1";
/// The format tag of a delta file's plaintext.
const DELTA_FORMAT: &str = "ceremony-frost-enrol-delta/1";
/// The format tag of a sigma file's plaintext.
const SIGMA_FORMAT: &str = "ceremony-frost-enrol-sigma/1";

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

/// A refused check (exit 1) naming the helper at fault and its file, with nothing written.
fn bad_message(what: &Path, err: &ceremony_threshold::Error) -> Failure {
    use ceremony_threshold::Error as E;
    let who = match err {
        E::BadSubShare { dealer, .. } | E::BadCommitments { dealer, .. } => {
            format!("helper {dealer}'s ")
        }
        _ => String::new(),
    };
    refused(
        "enrolment",
        &[format!("{who}{}: {err}", what.display())],
        "nothing was written; check that every file is from this enrolment, or have the \
         helper named run its step again (a helper who runs deltas again makes every \
         later step run again)",
    )
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

/// Encodes a secret plaintext and encrypts it to `sealer`.
fn seal<T: Serialize>(
    plain: T,
    sealer: &dyn age::Recipient,
    what: &str,
) -> Result<String, Failure> {
    let text = Zeroizing::new(
        serde_json::to_vec(&plain)
            .map_err(|e| Failure::environment(format!("cannot encode {what}: {e}")))?,
    );
    drop(plain);
    encrypt(sealer, &text).map_err(|e| Failure::environment(format!("cannot encrypt {what}: {e}")))
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
struct Enrolment {
    /// The helpers, in the order the files list them.
    helpers: Vec<u16>,
    /// The new holder's index.
    new: u16,
    /// Each helper's commitments to its deltas, keyed by helper.
    commitments: BTreeMap<u16, repair::DeltaCommitments>,
}

/// Every helper's commitments, checked against the group and each other.
fn read_commitments(paths: &[PathBuf], public: &PublicFile) -> Result<Enrolment, Failure> {
    let mut plan: Option<(Vec<u16>, u16)> = None;
    let mut all = BTreeMap::new();
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
        frost::repair::check_commitments(
            &public.group_key,
            &file.helpers,
            file.new,
            file.helper,
            &file.commitments,
        )
        .map_err(|e| bad_message(path, &e))?;
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
    let sealers = sealers(
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
    let commitments_path = args.output.join(format!("enrol-commitments-{me}.json"));
    let delta_path = |k: u16| args.output.join(format!("delta-{me}-to-{k}.age"));
    let mut paths: Vec<PathBuf> = args.helpers.iter().map(|k| delta_path(*k)).collect();
    paths.push(commitments_path.clone());
    fresh(&paths)?;

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
        sealed.push((
            *k,
            seal(plain, sealer.as_ref(), &format!("the delta for {k}"))?,
        ));
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
    let written = write_output(&commitments_path, &text)?;
    let mut files = Vec::new();
    for (k, armored) in &sealed {
        files.push((*k, write_output(&delta_path(*k), armored)?));
    }
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
        return Ok(0);
    }
    let mut out = format!(
        "\nHelper {me} split its part of holder {}'s share of FROST key tag {} into one \
         delta per helper {:?}.\nNew holder {}'s verifying share (compare): {new_share}\n\n",
        args.new, public.key_tag, args.helpers, args.new
    );
    out.push_str(&render::file_heading(
        "Commitments (give to every helper and the new holder)",
        &written.facts(),
    ));
    for (k, w) in &files {
        out.push_str(&render::file_heading(
            &format!("Delta for helper {k}"),
            &w.facts(),
        ));
    }
    out.push_str(
        "\nEach helper then runs threshold reshare enrol sigma with the deltas sent to it.\n",
    );
    emit(env, &out)?;
    Ok(0)
}

/// Decrypts a secret enrolment message and checks its format tag.
fn open<T: serde::de::DeserializeOwned>(
    path: &Path,
    unlock: &Unlock,
    format: &str,
) -> Result<T, Failure> {
    /// The format tag alone, read before the secret fields.
    #[derive(Deserialize)]
    struct Tag {
        format: String,
    }
    let name = path.display();
    let plain = decrypt(path, unlock, MAX_SHARE_FILE)?;
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

/// Refuses a message of another enrolment, or a second one from the same helper.
fn same_enrolment(
    path: &Path,
    (key_tag, helpers, new, from): (u16, &[u16], u16, u16),
    public: &PublicFile,
    plan: (&[u16], u16),
    seen: &[u16],
) -> Result<(), Failure> {
    if key_tag != public.key_tag || helpers != plan.0 || new != plan.1 {
        return Err(Failure::input(format!(
            "{}: from helper {from}, for an enrolment of holder {new} with helpers {helpers:?} \
             (key tag {key_tag}), not the one the commitments are for",
            path.display()
        )));
    }
    if seen.contains(&from) {
        return Err(Failure::input(format!(
            "{}: a second message from helper {from}",
            path.display()
        )));
    }
    Ok(())
}

/// `enrol sigma`, by each helper: the sum of the deltas sent to it, to the new holder.
fn sigma(
    args: &SigmaArgs,
    unlock: &Unlock,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let public = read_public(&args.public)?;
    let Enrolment {
        helpers,
        new,
        commitments,
    } = read_commitments(&args.commitments, &public)?;
    let (_, new_share) = extended(&public, &args.public, new)?;
    let recipients: Vec<String> = args.recipient.iter().cloned().collect();
    let sealer = sealers(&recipients, args.credential.passphrase_env.as_deref(), 1)?
        .pop()
        .ok_or_else(|| Failure::input("give the new holder's --recipient"))?;
    let mut me = None;
    let mut froms = Vec::new();
    let mut deltas = Vec::new();
    for path in &args.deltas {
        let file: DeltaFile = open(path, unlock, DELTA_FORMAT)?;
        same_enrolment(
            path,
            (file.key_tag, &file.helpers, file.new, file.from),
            &public,
            (&helpers, new),
            &froms,
        )?;
        if me.is_some_and(|k| k != file.to) {
            return Err(Failure::input(format!(
                "{}: a delta for helper {}; the others are for helper {}: give only yours",
                path.display(),
                file.to,
                me.unwrap_or_default()
            )));
        }
        let from_commitments = commitments.get(&file.from).ok_or_else(|| {
            Failure::input(format!(
                "{}: from helper {}, not a helper",
                path.display(),
                file.from
            ))
        })?;
        repair::check_delta(file.from, file.to, &file.delta, from_commitments)
            .map_err(|e| bad_message(path, &e))?;
        me = Some(file.to);
        froms.push(file.from);
        deltas.push(file.delta);
    }
    let me = me.ok_or_else(|| Failure::input("give the --delta files sent to you"))?;
    if sorted(&froms) != sorted(&helpers) {
        return Err(Failure::input(format!(
            "deltas from helpers {froms:?}; the enrolment's helpers are {helpers:?}: give one from each"
        )));
    }
    let out_path = args.output.join(format!("sigma-{me}-for-{new}.age"));
    fresh(std::slice::from_ref(&out_path))?;
    let plain = SigmaFile {
        format: SIGMA_FORMAT.to_owned(),
        key_tag: public.key_tag,
        helpers: helpers.clone(),
        new,
        from: me,
        sigma: repair::helper_sigma(&deltas),
    };
    drop(deltas);
    let armored = seal(plain, sealer.as_ref(), "the sigma")?;
    create_dir(&args.output)?;
    let written = write_output(&out_path, &armored)?;
    if global.json {
        emit_json(
            env,
            &json!({"helper": me, "new": new, "new_verifying_share": new_share, "sigma": render::file_json(&written.facts())}),
        )?;
        return Ok(0);
    }
    let mut out = format!(
        "\nHelper {me}: the deltas of helpers {helpers:?} match their commitments; their sum \
         is for new holder {new}.\nNew holder {new}'s verifying share (compare): {new_share}\n\n"
    );
    out.push_str(&render::file_heading(
        &format!("Sigma for new holder {new}"),
        &written.facts(),
    ));
    emit(env, &out)?;
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
    let Enrolment {
        helpers,
        new,
        commitments,
    } = read_commitments(&args.commitments, &public)?;
    let (group, new_share) = extended(&public, &args.public, new)?;
    let share_path = args.output.join(format!("share-{new}.age"));
    let public_path = args.output.join("public.json");
    fresh(&[share_path.clone(), public_path.clone()])?;
    let mut froms = Vec::new();
    let mut sigmas = Vec::new();
    for path in &args.sigmas {
        let file: SigmaFile = open(path, unlock, SIGMA_FORMAT)?;
        same_enrolment(
            path,
            (file.key_tag, &file.helpers, file.new, file.from),
            &public,
            (&helpers, new),
            &froms,
        )?;
        repair::check_sigma(file.from, new, &file.sigma, &commitments)
            .map_err(|e| bad_message(path, &e))?;
        froms.push(file.from);
        sigmas.push(file.sigma);
    }
    if sorted(&froms) != sorted(&helpers) {
        return Err(Failure::input(format!(
            "sigmas from helpers {froms:?}; the enrolment's helpers are {helpers:?}: give one from each"
        )));
    }
    let holder =
        repair::recover(new, &sigmas, &group).map_err(|e| bad_message(&args.public, &e))?;
    drop(sigmas);
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
    let share = write_output(&share_path, &armored)?;
    let written = write_output(&public_path, &text)?;
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
        return Ok(0);
    }
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
    let sealer: Box<dyn age::Recipient> = match unlock {
        Unlock::Identity(id) => Box::new(id.to_public()),
        Unlock::Passphrase(p) => Box::new(age::scrypt::Recipient::new(p.clone())),
    };
    let file = ShareFile {
        format: SHARE_FORMAT.to_owned(),
        algorithm: ALGORITHM.to_owned(),
        threshold: public.threshold,
        holders: public.holders,
        index,
        key_tag: public.key_tag,
        key_package: holder,
    };
    seal(file, sealer.as_ref(), "the new share")
}
