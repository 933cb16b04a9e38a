//! `ceremony threshold reshare`: move a threshold RSA key to new holders or a
//! new threshold, offline, without anyone rebuilding it.
//!
//! * `deal` is run by each of k old holders (the dealers): from its own share
//!   file it writes public commitments (`commitments-<i>.json`) and one
//!   sub-share per new holder, age-encrypted to that holder
//!   (`sub-share-<i>-to-<j>.age`).
//! * `combine` is run by each new holder: it checks every sub-share it
//!   received against its dealer's commitments (naming a dealer whose
//!   sub-share is wrong), adds them into its new share, and writes the new
//!   `public.json` and its `share-<j>.age`, encrypted to itself. Every new
//!   holder computes the same `public.json`: compare its hash words aloud.
//!
//! The protocol is `ceremony_threshold::shoup::reshare` (integer resharing
//! with Feldman commitments); the DNSKEY, the DS and every signature stay the
//! same.
//!
//! FROST (Ed25519) keys are refreshed instead (`refresh`, then `apply` by
//! each holder; in `frost_refresh.rs`): new shares of the same key for the
//! holders listed, the threshold unchanged (frost-ed25519 3.0 cannot change
//! it).

use std::collections::BTreeSet;
use std::iter;
use std::path::{Path, PathBuf};

use ceremony_keys::keystore::Unlock;
use ceremony_signer::threshold::hex32;
use ceremony_threshold::shoup::reshare::{ReshareCommitments, ResharePlan, SubShare};
use ceremony_threshold::shoup::ThresholdPublicKey;
use clap::Subcommand;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{read_public, read_share, PublicFile, ShareFile, PUBLIC_FORMAT, SHARE_FORMAT};
use crate::args::Global;
use crate::ceremony_log::{check_event, Recorder};
use crate::cmd::{emit, emit_json};
use crate::render;
use crate::{Env, Failure, EXIT_CHECKS_FAILED};

/// The format tag of a dealer's commitments file.
const COMMITMENTS_FORMAT: &str = "ceremony-threshold-reshare-commitments/1";
/// The format tag of a sub-share file's plaintext.
const SUB_SHARE_FORMAT: &str = "ceremony-threshold-sub-share/1";
/// The transcript's ID for a new holder's check of its sub-shares: each
/// verifies against its dealer's commitments (the act's title names the
/// dealers, and the one at fault).
const SUB_SHARES_CHECK: &str = "RESHARE-SUB-SHARES";
/// The largest sub-share file read.
const MAX_SUB_SHARE_FILE: u64 = 64 * 1024;

/// `ceremony threshold reshare …`
#[derive(Debug, Subcommand)]
pub enum ReshareCommand {
    /// As one old holder: deal sub-shares of your share to the new holders.
    Deal {
        /// The old key's public.json.
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
        /// The old holders who deal, exactly the old threshold of them, e.g. 1,3,5.
        #[arg(long, value_name = "I,J,…", value_delimiter = ',', required = true)]
        dealers: Vec<u16>,
        /// K′: how many new holders must sign (2 or more).
        #[arg(long, value_name = "K")]
        threshold: u16,
        /// One age X25519 recipient (age1…) per new holder, new holder 1 first.
        #[arg(long = "recipient", value_name = "AGE_RECIPIENT", required = true)]
        recipients: Vec<String>,
        /// The directory to write commitments-<i>.json and sub-share-<i>-to-<j>.age into.
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: PathBuf,
        /// Record this as a ceremony in DIR/transcript; the output directory must be inside DIR.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
    },
    /// As one new holder: check your sub-shares and add them into your new share.
    Combine {
        /// The old key's public.json.
        #[arg(long, value_name = "FILE")]
        public: PathBuf,
        /// Every dealer's commitments file.
        #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
        commitments: Vec<PathBuf>,
        /// The sub-share files sent to you, one from each dealer.
        #[arg(long = "sub-share", value_name = "FILE", num_args = 1.., required = true)]
        sub_shares: Vec<PathBuf>,
        /// Your age identity file; your new share is encrypted to its recipient.
        #[arg(long, value_name = "FILE", required_unless_present = "passphrase_env")]
        identity: Option<PathBuf>,
        /// Your passphrase is in this variable (demonstrations only).
        #[arg(long, value_name = "VAR", conflicts_with = "identity")]
        passphrase_env: Option<String>,
        /// The directory to write the new public.json and share-<j>.age into.
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: PathBuf,
        /// Record this as a ceremony in DIR/transcript; the output directory must be inside DIR.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
    },
    /// FROST (ED25519): new shares of the same key for the holders listed; the threshold stays.
    Refresh(super::frost::RefreshArgs),
    /// FROST (ED25519), as one listed holder: add your zero-share to your share.
    Apply(super::frost::ApplyArgs),
    /// FROST (ED25519): enrol a new holder by repair, with t existing holders as helpers.
    #[command(subcommand)]
    Enrol(super::frost::EnrolCommand),
}

/// `commitments-<i>.json`: public; publish it to every new holder and the transcript.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommitmentsFile {
    format: String,
    key_tag: u16,
    dealers: Vec<u16>,
    threshold: u16,
    holders: u16,
    commitments: ReshareCommitments,
}

/// A sub-share file's plaintext.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubShareFile {
    format: String,
    key_tag: u16,
    sub_share: SubShare,
}

/// Runs `ceremony threshold reshare …`.
pub fn run(command: ReshareCommand, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    match command {
        ReshareCommand::Deal {
            public,
            share,
            identity,
            passphrase_env,
            dealers,
            threshold,
            recipients,
            output,
            ceremony,
        } => {
            let unlock = unlock(identity.as_deref(), passphrase_env.as_deref())?;
            deal(
                &DealArgs {
                    public,
                    share,
                    dealers,
                    threshold,
                    recipients,
                    output,
                    ceremony,
                },
                &unlock,
                global,
                env,
            )
        }
        ReshareCommand::Combine {
            public,
            commitments,
            sub_shares,
            identity,
            passphrase_env,
            output,
            ceremony,
        } => {
            let unlock = unlock(identity.as_deref(), passphrase_env.as_deref())?;
            combine(
                (&public, &commitments, &sub_shares),
                &unlock,
                (&output, ceremony.as_deref()),
                global,
                env,
            )
        }
        ReshareCommand::Refresh(args) => super::frost::refresh(&args, global, env),
        ReshareCommand::Apply(args) => {
            let unlock = unlock(args.identity.as_deref(), args.passphrase_env.as_deref())?;
            super::frost::apply(&args, &unlock, global, env)
        }
        ReshareCommand::Enrol(command) => {
            let (identity, passphrase_env) = command.credential();
            super::frost::enrol(&command, &unlock(identity, passphrase_env)?, global, env)
        }
    }
}

fn unlock(identity: Option<&Path>, passphrase_env: Option<&str>) -> Result<Unlock, Failure> {
    match (identity, passphrase_env) {
        (Some(path), _) => Unlock::identity_from_file(path),
        (None, Some(var)) => Unlock::passphrase_from_env(var),
        (None, None) => return Err(Failure::input("give --identity or --passphrase-env")),
    }
    .map_err(Failure::input)
}

/// The old key's public.json, refused unless it is a threshold RSA key.
fn read_old_public(path: &Path, threshold: Option<u16>) -> Result<PublicFile, Failure> {
    super::frost::refuse_for_rsa_reshare(path, threshold)?;
    let public = read_public(path)?;
    if public.algorithm != "RSASHA256" {
        return Err(Failure::input(format!(
            "{}: algorithm {}: only threshold RSA keys are reshared offline",
            path.display(),
            public.algorithm
        ))
        .hint(
            "FROST Ed25519 keys move to new holders by refresh and repair \
             (ceremony_threshold::frost::reshare) and cannot change their threshold",
        ));
    }
    Ok(public)
}

/// Maps a resharing error: a named dealer's fault is a failed check (exit 1).
fn reshare_failure(err: ceremony_threshold::Error) -> Failure {
    use ceremony_threshold::Error as E;
    match err {
        E::BadSubShare { dealer, .. } | E::BadCommitments { dealer, .. } => Failure {
            code: EXIT_CHECKS_FAILED,
            message: err.to_string(),
            hint: Some(format!(
                "no share was written; check that every file is from this resharing, \
                 or have old holder {dealer} deal again: its new commitments change the \
                 public key, so every new holder then combines again"
            )),
        },
        other => Failure::input(other.to_string()),
    }
}

struct DealArgs {
    public: PathBuf,
    share: PathBuf,
    dealers: Vec<u16>,
    threshold: u16,
    recipients: Vec<String>,
    output: PathBuf,
    ceremony: Option<PathBuf>,
}

fn deal(
    args: &DealArgs,
    unlock: &Unlock,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let public = read_old_public(&args.public, Some(args.threshold))?;
    let recipients = args
        .recipients
        .iter()
        .map(|r| {
            r.parse::<age::x25519::Recipient>().map_err(|e| {
                Failure::input(format!(
                    "--recipient {r:?} is not an age X25519 recipient: {e}"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let new_holders =
        u16::try_from(recipients.len()).map_err(|_| Failure::input("too many --recipient"))?;
    let plan = ResharePlan::new(
        &public.public_key,
        &args.dealers,
        args.threshold,
        new_holders,
    )
    .map_err(|e| Failure::input(format!("cannot reshare: {e}")))?;
    let share = read_share(&args.share, unlock)?;
    let name = args.share.display();
    if share.share.public_key() != &public.public_key {
        return Err(Failure::input(format!(
            "{name}: the share (holder {}) is of another key than {}",
            share.index,
            args.public.display()
        )));
    }
    let dealer = share.share.index();
    std::fs::create_dir_all(&args.output).map_err(|e| {
        Failure::environment(format!("{}: cannot create: {e}", args.output.display()))
    })?;
    let commitments_path = args.output.join(format!("commitments-{dealer}.json"));
    let sub_path = |j: u16| args.output.join(format!("sub-share-{dealer}-to-{j}.age"));
    let outputs: Vec<PathBuf> = iter::once(commitments_path.clone())
        .chain((1..=new_holders).map(sub_path))
        .collect();
    for path in &outputs {
        if path.exists() {
            return Err(Failure::input(format!(
                "{} exists: resharing output is never overwritten",
                path.display()
            )));
        }
    }
    let dnskey = public.dnskey()?;
    let mut record = open_reshare_ceremony(
        args.ceremony.as_deref(),
        env,
        ("ceremony threshold reshare deal", (public.key_tag, &dnskey)),
        &[args.public.as_path(), args.share.as_path()],
        &outputs,
    )?;

    let output = plan
        .deal(&share.share, &mut rand_core::OsRng)
        .map_err(|e| Failure::input(format!("{name}: {e}")))?;
    drop(share);
    let commitments = CommitmentsFile {
        format: COMMITMENTS_FORMAT.to_owned(),
        key_tag: public.key_tag,
        dealers: plan.dealers().to_vec(),
        threshold: plan.new_threshold(),
        holders: plan.new_holders(),
        commitments: output.commitments,
    };
    // Encrypt every sub-share before writing anything, so a failure leaves no partial output.
    let mut sealed = Vec::with_capacity(output.sub_shares.len());
    for (sub_share, recipient) in output.sub_shares.into_iter().zip(&recipients) {
        let j = sub_share.recipient();
        let plain = SubShareFile {
            format: SUB_SHARE_FORMAT.to_owned(),
            key_tag: public.key_tag,
            sub_share,
        };
        let armored =
            crate::sealed::seal_json(plain, recipient, &format!("the sub-share for {j}"))?;
        sealed.push((j, armored));
    }
    let text = serde_json::to_string_pretty(&commitments).unwrap_or_default() + "\n";
    let files: Vec<(&Path, &[u8])> = iter::once((commitments_path.as_path(), text.as_bytes()))
        .chain(
            outputs[1..]
                .iter()
                .zip(&sealed)
                .map(|(path, (_, armored))| (path.as_path(), armored.as_bytes())),
        )
        .collect();
    let title = format!(
        "Old holder {dealer} deals its share to {} new holders: commitments and sub-shares",
        plan.new_holders()
    );
    let (commitments_written, files) = super::first_and_holders(
        record.write_act(env.now(), ("2", &title), &files)?,
        sealed.iter().map(|(j, _)| *j),
    )?;

    if global.json {
        emit_json(
            env,
            &json!({
                "dealer": dealer,
                "plan": hex32(&plan.id()),
                "threshold": plan.new_threshold(),
                "holders": plan.new_holders(),
                "commitments": render::file_json(&commitments_written.facts()),
                "sub_shares": files.iter().map(|(j, w)| json!({"holder": j, "file": render::file_json(&w.facts())})).collect::<Vec<_>>(),
            }),
        )?;
    } else {
        let mut out = format!(
            "\nOld holder {dealer} dealt its share of key tag {} to {} new holders \
             (any {} will sign); resharing plan {}.\n\n",
            public.key_tag,
            plan.new_holders(),
            plan.new_threshold(),
            hex32(&plan.id())
        );
        out.push_str(&super::written_headings(
            ("Commitments (publish)", &commitments_written),
            "Sub-share for new holder",
            &files,
        ));
        out.push_str("\nDestroy your old share once every new holder has combined theirs.\n");
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}

/// Opens the ceremony of a resharing command when `ceremony` is given: it
/// declares the key (whose DNSKEY resharing keeps) and records act 1, the
/// files read. Every output must be inside the ceremony directory.
pub(super) fn open_reshare_ceremony(
    ceremony: Option<&Path>,
    env: &mut dyn Env,
    (script, key): (&str, (u16, &ceremony_dnssec::Dnskey)),
    inputs: &[&Path],
    outputs: &[PathBuf],
) -> Result<Recorder, Failure> {
    let outputs: Vec<&Path> = outputs.iter().map(PathBuf::as_path).collect();
    super::open_ceremony(
        ceremony,
        env,
        &super::Opening {
            script,
            key,
            title: "The key and the holder's files are read",
            ksr: None,
            inputs,
            outputs: &outputs,
        },
    )
}

fn combine(
    (public_path, commitments_paths, sub_share_paths): (&Path, &[PathBuf], &[PathBuf]),
    unlock: &Unlock,
    (output, ceremony): (&Path, Option<&Path>),
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let public = read_old_public(public_path, None)?;
    let mut commitments: Vec<CommitmentsFile> = Vec::new();
    for path in commitments_paths {
        let name = path.display();
        let bytes = ceremony_formats::read_bounded(path)?;
        let file: CommitmentsFile = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::input(format!("{name}: not a commitments file: {e}")))?;
        if file.format != COMMITMENTS_FORMAT {
            return Err(Failure::input(format!(
                "{name}: format {:?}, not {COMMITMENTS_FORMAT}",
                file.format
            )));
        }
        if let Some(first) = commitments.first() {
            if (&first.dealers, first.threshold, first.holders)
                != (&file.dealers, file.threshold, file.holders)
            {
                return Err(Failure::input(format!(
                    "{name}: another resharing than {}: dealers {:?}, {} of {}",
                    commitments_paths[0].display(),
                    file.dealers,
                    file.threshold,
                    file.holders
                )));
            }
        }
        commitments.push(file);
    }
    let first = commitments
        .first()
        .ok_or_else(|| Failure::input("give every dealer's --commitments"))?;
    let plan = ResharePlan::new(
        &public.public_key,
        &first.dealers,
        first.threshold,
        first.holders,
    )
    .map_err(|e| Failure::input(format!("cannot reshare: {e}")))?;

    let mut sub_shares = Vec::new();
    for path in sub_share_paths {
        let name = path.display();
        let plain = crate::sealed::open(path, unlock, MAX_SUB_SHARE_FILE)?;
        let file: SubShareFile = serde_json::from_slice(&plain)
            .map_err(|e| Failure::input(format!("{name}: not a sub-share: {e}")))?;
        if file.format != SUB_SHARE_FORMAT {
            return Err(Failure::input(format!(
                "{name}: format {:?}, not {SUB_SHARE_FORMAT}",
                file.format
            )));
        }
        sub_shares.push(file.sub_share);
    }
    let recipients: BTreeSet<u16> = sub_shares.iter().map(SubShare::recipient).collect();
    let index = match recipients.iter().copied().collect::<Vec<_>>()[..] {
        [index] => index,
        _ => {
            return Err(Failure::input(format!(
                "the sub-shares are for new holders {recipients:?}: give only yours"
            )))
        }
    };
    let share_path = output.join(format!("share-{index}.age"));
    let new_public_path = output.join("public.json");
    let dnskey = public.dnskey()?;
    let inputs: Vec<&Path> = iter::once(public_path)
        .chain(commitments_paths.iter().map(PathBuf::as_path))
        .chain(sub_share_paths.iter().map(PathBuf::as_path))
        .collect();
    let mut record = open_reshare_ceremony(
        ceremony,
        env,
        (
            "ceremony threshold reshare combine",
            (public.key_tag, &dnskey),
        ),
        &inputs,
        &[new_public_path.clone(), share_path.clone()],
    )?;
    let all: Vec<ReshareCommitments> = commitments.into_iter().map(|c| c.commitments).collect();
    let combined = plan.combine(index, &all, &sub_shares);
    drop(sub_shares);
    let verdict = match &combined {
        Ok(_) => String::new(),
        Err(err) => format!(": {err}"),
    };
    record.act_of(
        env.now(),
        (
            "2",
            &format!(
                "New holder {index} checks the sub-shares of old holders {:?} against their commitments{verdict}",
                plan.dealers()
            ),
        ),
        [check_event(SUB_SHARES_CHECK, combined.is_ok())],
    )?;
    let share = combined.map_err(reshare_failure)?;
    let new_key: &ThresholdPublicKey = share.public_key();
    let dnskey = new_key
        .dnskey()
        .map_err(|e| Failure::environment(e.to_string()))?;
    let new_public = PublicFile {
        format: PUBLIC_FORMAT.to_owned(),
        algorithm: public.algorithm.clone(),
        threshold: new_key.threshold(),
        holders: new_key.holders(),
        key_tag: dnskey.key_tag().0,
        public_key: new_key.clone(),
    };
    let public_text = serde_json::to_string_pretty(&new_public).unwrap_or_default() + "\n";
    let plain = ShareFile {
        format: SHARE_FORMAT.to_owned(),
        algorithm: public.algorithm.clone(),
        threshold: new_key.threshold(),
        holders: new_key.holders(),
        index,
        key_tag: new_public.key_tag,
        share,
    };
    let own = crate::sealed::recipient_of(unlock);
    let armored = crate::sealed::seal_json(plain, own.as_ref(), "the new share")?;
    std::fs::create_dir_all(output)
        .map_err(|e| Failure::environment(format!("{}: cannot create: {e}", output.display())))?;
    if share_path.exists() {
        return Err(Failure::input(format!(
            "{} exists: a share is never overwritten",
            share_path.display()
        )));
    }
    // Several new holders may write into one directory: the same key, or a refusal.
    if let Ok(existing) = std::fs::read(&new_public_path) {
        if existing != public_text.as_bytes() {
            return Err(Failure {
                code: EXIT_CHECKS_FAILED,
                message: format!(
                    "{}: another new holder derived a different public key",
                    new_public_path.display()
                ),
                hint: Some(
                    "the holders were given different commitments: compare the \
                     commitments files' hash words"
                        .to_owned(),
                ),
            });
        }
    }
    let files: [(&Path, &[u8]); 2] = [
        (&new_public_path, public_text.as_bytes()),
        (&share_path, armored.as_bytes()),
    ];
    let title = format!("New holder {index} writes the new public key and its share");
    let (public_written, mut share) =
        super::first_and_holders(record.write_act(env.now(), ("3", &title), &files)?, [index])?;
    let (_, share_written) = share
        .pop()
        .ok_or_else(|| Failure::environment("the new share was not written"))?;

    if global.json {
        emit_json(
            env,
            &json!({
                "holder": index,
                "plan": hex32(&plan.id()),
                "threshold": new_public.threshold,
                "holders": new_public.holders,
                "key_tag": new_public.key_tag,
                "public": render::file_json(&public_written.facts()),
                "share": render::file_json(&share_written.facts()),
            }),
        )?;
    } else {
        let mut out = format!(
            "\nNew holder {index}: the sub-shares of old holders {:?} verify against their \
             commitments. Key tag {} (unchanged), now any {} of {} holders sign.\n\n",
            plan.dealers(),
            new_public.key_tag,
            new_public.threshold,
            new_public.holders
        );
        out.push_str(&render::file_heading(
            "New public key (every new holder must read the same words)",
            &public_written.facts(),
        ));
        out.push_str(&render::file_heading(
            &format!("Share of new holder {index}"),
            &share_written.facts(),
        ));
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}
