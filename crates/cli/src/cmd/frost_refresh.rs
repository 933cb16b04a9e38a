//! `ceremony threshold reshare refresh|apply`: new shares of the same FROST
//! Ed25519 key for the holders listed, offline, with files only.
//!
//! * `refresh` needs no share (frost-ed25519 3.0's trusted-dealer refresh):
//!   from `public.json` it makes one zero-share per listed holder, each
//!   age-encrypted to that holder, and the refreshed `public.json` (same group
//!   key, so the same DNSKEY and DS; new verifying shares).
//! * `apply` is run by each listed holder: it adds its zero-share to its
//!   share, checks the result against the refreshed `public.json`, and writes
//!   its new share, encrypted to itself.
//!
//! Holders left out can no longer sign with the refreshed ones. A FROST key
//! keeps its threshold (frost-core 3.0 refreshes with a sharing of zero of the
//! group's own degree): another threshold is refused, as is a new holder (an
//! enrolment is the repair protocol: `reshare enrol`, in `frost_repair.rs`).

use std::iter;
use std::path::{Path, PathBuf};

use ceremony_keys::keystore::Unlock;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::reshare::open_reshare_ceremony;
use super::super::{first_and_holders, written_headings, MAX_SHARE_FILE};
use super::{
    create_dir, dnskey, is_frost, read_public, read_share, PublicFile, ALGORITHM, PUBLIC_FORMAT,
};
use crate::args::Global;

use crate::ceremony_log::check_event;
use crate::cmd::{emit, emit_json};
use crate::render;
use crate::{Env, Failure};
use ceremony_threshold::frost;

/// The transcript's ID for a holder's check of its refreshed share: the
/// zero-share added, the result matches the refreshed public.json.
const REFRESH_CHECK: &str = "FROST-REFRESH";
/// The format tag of a refresh's zero-share file's plaintext.
const ZERO_SHARE_FORMAT: &str = "ceremony-frost-zero-share/1";

/// `threshold reshare refresh`: new shares of the same FROST key, for the
/// holders listed; every other share stops combining with them.
#[derive(Debug, clap::Args)]
pub struct RefreshArgs {
    /// The FROST key's public.json.
    #[arg(long, value_name = "FILE")]
    public: PathBuf,
    /// The holders who keep signing, e.g. 1,3 (at least the threshold).
    #[arg(long, value_name = "I,J,…", value_delimiter = ',', required = true)]
    holders: Vec<u16>,
    /// The threshold after the refresh: a FROST key keeps its own.
    #[arg(long, value_name = "K")]
    threshold: Option<u16>,
    /// One age X25519 recipient (age1…) per listed holder, in the order of --holders.
    #[arg(
        long = "recipient",
        value_name = "AGE_RECIPIENT",
        required_unless_present = "passphrase_env"
    )]
    recipients: Vec<String>,
    /// Encrypt every zero-share with the one passphrase in this variable (demonstrations only).
    #[arg(long, value_name = "VAR", conflicts_with = "recipients")]
    passphrase_env: Option<String>,
    /// The directory to write the new public.json and zero-share-<j>.age into.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// Record this as a ceremony in DIR/transcript; the output directory must be inside DIR.
    #[arg(long, value_name = "DIR")]
    ceremony: Option<PathBuf>,
}

/// `threshold reshare apply`: a holder adds its zero-share to its share.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The FROST key's current public.json.
    #[arg(long, value_name = "FILE")]
    public: PathBuf,
    /// The refreshed public.json that `reshare refresh` wrote.
    #[arg(long, value_name = "FILE")]
    new_public: PathBuf,
    /// Your current share file (share-<j>.age).
    #[arg(long, value_name = "FILE")]
    share: PathBuf,
    /// Your zero-share file (zero-share-<j>.age).
    #[arg(long, value_name = "FILE")]
    zero_share: PathBuf,
    /// Your age identity file; your new share is encrypted to its recipient.
    #[arg(long, value_name = "FILE", required_unless_present = "passphrase_env")]
    pub(crate) identity: Option<PathBuf>,
    /// Your passphrase is in this variable (demonstrations only).
    #[arg(long, value_name = "VAR", conflicts_with = "identity")]
    pub(crate) passphrase_env: Option<String>,
    /// The directory to write your new share-<j>.age into.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// Record this as a ceremony in DIR/transcript; the output directory must be inside DIR.
    #[arg(long, value_name = "DIR")]
    ceremony: Option<PathBuf>,
}

/// A zero-share file's plaintext: secret; only its holder may read it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ZeroShareFile {
    format: String,
    key_tag: u16,
    holder: u16,
    zero_share: frost::SecretShare,
}

/// Refuses a FROST key where only threshold RSA keys are reshared.
///
/// # Errors
/// A usage failure naming the FROST commands, when `path` is a FROST key.
pub(crate) fn refuse_for_rsa_reshare(path: &Path, threshold: Option<u16>) -> Result<(), Failure> {
    if !is_frost(path)? {
        return Ok(());
    }
    let public = read_public(path)?;
    if let Some(k) = threshold {
        frost::reshare::check_threshold(&public.group_key, k)
            .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
    }
    Err(Failure::input(format!(
        "{}: a FROST (ED25519) key is not reshared by dealing sub-shares",
        path.display()
    ))
    .hint("use threshold reshare refresh and threshold reshare apply"))
}

/// `threshold reshare refresh`, by anyone (it needs no share): one
/// zero-share per listed holder and the refreshed public.json.
pub(crate) fn refresh(
    args: &RefreshArgs,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let public = read_public(&args.public)?;
    let name = args.public.display();
    if let Some(k) = args.threshold {
        frost::reshare::check_threshold(&public.group_key, k)
            .map_err(|e| Failure::input(format!("{name}: {e}")))?;
    }
    let known = public.group_key.holders();
    let mut listed = args.holders.clone();
    listed.sort_unstable();
    listed.dedup();
    if listed.len() != args.holders.len() {
        return Err(Failure::input(format!(
            "--holders {:?}: a holder is listed twice",
            args.holders
        )));
    }
    if let Some(h) = args.holders.iter().find(|h| !known.contains(h)) {
        return Err(Failure::input(format!(
            "--holders: {name} has no holder {h} (its holders are {known:?}); \
             a FROST refresh cannot enrol new holders"
        ))
        .hint("enrol a new holder first with threshold reshare enrol deltas|sigma|combine"));
    }
    let count =
        u16::try_from(args.holders.len()).map_err(|_| Failure::input("too many --holders"))?;
    let sealers =
        crate::sealed::holder_recipients(&args.recipients, args.passphrase_env.as_deref(), count)?;
    create_dir(&args.output)?;
    let zero_path = |j: u16| args.output.join(format!("zero-share-{j}.age"));
    let public_path = args.output.join("public.json");
    if let Some(path) = args
        .holders
        .iter()
        .map(|j| zero_path(*j))
        .chain([public_path.clone()])
        .find(|p| p.exists())
    {
        return Err(Failure::input(format!(
            "{} exists: refresh output is never overwritten",
            path.display()
        )));
    }
    let outputs: Vec<PathBuf> = iter::once(public_path.clone())
        .chain(args.holders.iter().map(|j| zero_path(*j)))
        .collect();
    let mut record = open_reshare_ceremony(
        args.ceremony.as_deref(),
        env,
        (
            "ceremony threshold reshare refresh",
            (public.key_tag, &dnskey(&public)?),
        ),
        &[args.public.as_path()],
        &outputs,
    )?;
    let (zero_shares, group) =
        frost::refresh::deal_refresh(&public.group_key, &args.holders, &mut rand_core::OsRng)
            .map_err(|e| Failure::input(format!("cannot refresh {name}: {e}")))?;
    let mut sealed = Vec::new();
    for ((zero_share, holder), sealer) in zero_shares.into_iter().zip(&args.holders).zip(&sealers) {
        let plain = ZeroShareFile {
            format: ZERO_SHARE_FORMAT.to_owned(),
            key_tag: public.key_tag,
            holder: *holder,
            zero_share,
        };
        let armored = crate::sealed::seal_json(
            plain,
            sealer.as_ref(),
            &format!("the zero-share of {holder}"),
        )?;
        sealed.push((*holder, armored));
    }
    let new_public = PublicFile {
        format: PUBLIC_FORMAT.to_owned(),
        algorithm: ALGORITHM.to_owned(),
        threshold: public.threshold,
        holders: count,
        key_tag: public.key_tag,
        group_key: group,
    };
    let text = serde_json::to_string_pretty(&new_public).unwrap_or_default() + "\n";
    let contents: Vec<&[u8]> = iter::once(text.as_bytes())
        .chain(sealed.iter().map(|(_, armored)| armored.as_bytes()))
        .collect();
    let files: Vec<(&Path, &[u8])> = outputs.iter().map(PathBuf::as_path).zip(contents).collect();
    let title = format!(
        "Holders {:?} get zero-shares; the refreshed public key is written",
        args.holders
    );
    let (public_written, files) = first_and_holders(
        record.write_act(env.now(), ("2", &title), &files)?,
        sealed.iter().map(|(j, _)| *j),
    )?;
    if global.json {
        emit_json(
            env,
            &json!({
                "key_tag": public.key_tag,
                "holders": args.holders,
                "public": render::file_json(&public_written.facts()),
                "zero_shares": files.iter().map(|(j, w)| json!({"holder": j, "file": render::file_json(&w.facts())})).collect::<Vec<_>>(),
            }),
        )?;
        record.finish(env)?;
        return Ok(0);
    }
    let mut out = format!(
        "\nRefresh of FROST key tag {} (same DNSKEY and DS): holders {:?} get new shares, \
         any {} of them sign; every other share stops working with theirs.\n\n",
        public.key_tag, args.holders, public.threshold
    );
    out.push_str(&written_headings(
        ("New public key", &public_written),
        "Zero-share for holder",
        &files,
    ));
    out.push_str(
        "\nEach listed holder runs threshold reshare apply, then destroys the old share.\n",
    );
    emit(env, &out)?;
    record.finish(env)?;
    Ok(0)
}

/// `threshold reshare apply`, by each listed holder: the new share, encrypted to itself.
pub(crate) fn apply(
    args: &ApplyArgs,
    unlock: &Unlock,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let old = read_public(&args.public)?;
    let new = read_public(&args.new_public)?;
    if new.group_key.package().verifying_key() != old.group_key.package().verifying_key() {
        return Err(Failure::input(format!(
            "{}: another group key than {} (key tag {} vs {}): a refresh keeps the key",
            args.new_public.display(),
            args.public.display(),
            new.key_tag,
            old.key_tag
        )));
    }
    let share = read_share(&args.share, unlock, &old)?;
    let zname = args.zero_share.display();
    let plain = crate::sealed::open(&args.zero_share, unlock, MAX_SHARE_FILE)?;
    let zero: ZeroShareFile = serde_json::from_slice(&plain)
        .map_err(|e| Failure::input(format!("{zname}: not a FROST zero-share: {e}")))?;
    drop(plain);
    if zero.format != ZERO_SHARE_FORMAT || zero.holder != share.index || zero.key_tag != old.key_tag
    {
        return Err(Failure::input(format!(
            "{zname}: a zero-share ({:?}) for holder {} of key tag {}, not for holder {} of key tag {}",
            zero.format, zero.holder, zero.key_tag, share.index, old.key_tag
        )));
    }
    let index = share.index;
    let out_path = args.output.join(format!("share-{index}.age"));
    let inputs = [
        &args.public,
        &args.new_public,
        &args.share,
        &args.zero_share,
    ]
    .map(PathBuf::as_path);
    let mut record = open_reshare_ceremony(
        args.ceremony.as_deref(),
        env,
        (
            "ceremony threshold reshare apply",
            (old.key_tag, &dnskey(&old)?),
        ),
        &inputs,
        std::slice::from_ref(&out_path),
    )?;
    // The library derives the new verifying share and checks it against new_public.
    let refreshed = share
        .key_package
        .refresh(zero.zero_share, &new.group_key)
        .map_err(|e| Failure::input(format!("{zname} with {}: {e}", args.new_public.display())));
    drop(share);
    record.act_of(
        env.now(),
        (
            "2",
            &format!("Holder {index} adds its zero-share and checks the refreshed share"),
        ),
        [check_event(REFRESH_CHECK, refreshed.is_ok())],
    )?;
    let holder = refreshed?;
    if out_path.exists() {
        return Err(Failure::input(format!(
            "{} exists: a share is never overwritten",
            out_path.display()
        )));
    }
    let armored = super::repair::seal_own_share(unlock, &new, index, holder)?;
    create_dir(&args.output)?;
    let at = env.now();
    record.act(
        at,
        "3",
        &format!("Holder {index}'s new share is written, encrypted to itself"),
    );
    let written = record.write_file(at, &out_path, armored.as_bytes())?;
    if global.json {
        emit_json(
            env,
            &json!({"holder": index, "key_tag": new.key_tag, "share": render::file_json(&written.facts())}),
        )?;
    } else {
        let mut out = format!(
            "\nHolder {index} refreshed its share of FROST key tag {}; use it with {}.\n\n",
            new.key_tag,
            args.new_public.display()
        );
        out.push_str(&render::file_heading("New share", &written.facts()));
        out.push_str("\nDestroy the old share: it no longer signs with the new ones.\n");
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}
