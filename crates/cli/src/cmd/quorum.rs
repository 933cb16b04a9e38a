//! `ceremony quorum …`: classic M-of-N credentials in front of the keystore.
//!
//! `split` makes a random key-encryption key (KEK), splits it M-of-N with
//! shares age-encrypted to the holders, writes `quorum.json` and
//! `share-<i>.age`, and optionally puts a keystore key (or a sealed PIN) under
//! the KEK's age recipient. `activate` rebuilds the KEK in memory from M
//! holders' shares and proves it (the recipient, a key that opens and signs).
//! `transfer` re-encrypts one share to a ceremony's one-time key.
//! The KEK is never printed nor written.

use std::iter;
use std::path::{Path, PathBuf};

use ceremony_dnssec::Dnskey;
use ceremony_keys::keystore::{Keystore, Protection, KEY_SUFFIX, META_SUFFIX};
use ceremony_keys::KeySigner as _;
use ceremony_quorum::{
    activate_with, kek_recipient, kek_unlock, new_kek, seal_pin, split, transfer, unseal_pin,
    write_new_file, write_split, EncryptedShare, HolderRecipient, QuorumError, QuorumInfo, Unlock,
};
use ceremony_signer::backends::resolve;
use ceremony_signer::SignerConfig;
use ceremony_transcript::entry::{CheckStatus, ShareTransferred};
use ceremony_transcript::Event;
use clap::Subcommand;
use serde_json::json;

use super::emit;
use super::emit_json;
use super::sign::{sign_failure, TerminalPrompt};
use crate::args::Global;
use crate::ceremony_log::{checks_event, key_event, Recorder};
use crate::failure::EXIT_CHECKS_FAILED;
use crate::{Env, Failure};

/// `ceremony quorum …`
#[derive(Debug, Subcommand)]
pub enum QuorumCommand {
    /// Make a random key-encryption key, split it M-of-N to the holders, write the shares.
    Split {
        /// The threshold: how many holders activate.
        #[arg(long)]
        m: u8,
        /// The number of shares (= holders).
        #[arg(long)]
        n: u8,
        /// A holder's age recipient (age1…), one per holder, in share order.
        #[arg(long = "recipient", value_name = "AGE1…")]
        recipients: Vec<String>,
        /// A passphrase holder: the file holding their passphrase (shares after the recipients').
        #[arg(long = "passphrase-file", value_name = "FILE")]
        passphrase_files: Vec<PathBuf>,
        /// The scrypt work factor (log2 N) for passphrase holders; age's default otherwise.
        #[arg(long, value_name = "LOG_N")]
        work_factor: Option<u8>,
        /// The directory for quorum.json and share-<i>.age (created; files never replaced).
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: PathBuf,
        /// Re-encrypt this existing keystore key (passphrase-protected) to the KEK's recipient.
        #[arg(long, value_name = "LABEL", requires = "config")]
        keystore_key: Option<String>,
        /// Generate a new keystore key under the KEK's recipient.
        #[arg(long, value_name = "LABEL", requires = "config")]
        generate_key: Option<String>,
        /// The algorithm of --generate-key.
        #[arg(long, default_value = "ECDSAP256SHA256")]
        algorithm: String,
        /// The size of --generate-key (RSA 2048/3072/4096; 256 otherwise).
        #[arg(long, default_value_t = 256)]
        bits: u32,
        /// Seal the PKCS#11 PIN in this file to the KEK, as DIR/sealed-pin.age.
        #[arg(long, value_name = "FILE")]
        seal_pin_file: Option<PathBuf>,
        /// The signer configuration naming the keystore.
        #[arg(long, value_name = "CFG")]
        config: Option<PathBuf>,
        /// Record this as a ceremony in DIR/transcript; the output directory must be inside DIR.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
    },
    /// Rebuild the KEK in memory from M holders' shares, and show that it is the quorum's.
    Activate {
        /// The public quorum file.
        #[arg(long, value_name = "FILE")]
        quorum: PathBuf,
        /// A present holder's share file; pair each with an --identity, in order.
        #[arg(long = "share", value_name = "FILE", required = true)]
        shares: Vec<PathBuf>,
        /// The holder's credential: an age identity file, or for a passphrase holder
        /// the passphrase file (as the share's header says).
        #[arg(long = "identity", visible_alias = "credential", value_name = "FILE")]
        identities: Vec<PathBuf>,
        /// Open this keystore key with the KEK and sign and verify a test message.
        #[arg(long, value_name = "LABEL", requires = "config")]
        load_key: Option<String>,
        /// Unseal this PIN file (sealed-pin.age) to show the KEK opens it (the PIN is not shown).
        #[arg(long, value_name = "FILE")]
        sealed_pin: Option<PathBuf>,
        /// The signer configuration naming the keystore.
        #[arg(long, value_name = "CFG")]
        config: Option<PathBuf>,
        /// Record this as a ceremony in DIR/transcript.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
    },
    /// Re-encrypt one share to a ceremony's one-time recipient (an absent holder sends it).
    Transfer {
        /// The holder's share file.
        #[arg(long, value_name = "FILE")]
        share: PathBuf,
        /// The holder's credential (age identity file, or passphrase file).
        #[arg(long, value_name = "FILE")]
        identity: PathBuf,
        /// The ceremony's one-time age recipient.
        #[arg(long, value_name = "AGE1…")]
        to: String,
        /// The new share file (never replaced).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// Record the transfer as a ceremony in DIR/transcript; the new share must be inside DIR.
        #[arg(long, value_name = "DIR")]
        ceremony: Option<PathBuf>,
    },
}

/// Runs `ceremony quorum …`.
pub fn run(command: QuorumCommand, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    match command {
        QuorumCommand::Split {
            m,
            n,
            recipients,
            passphrase_files,
            work_factor,
            output,
            keystore_key,
            generate_key,
            algorithm,
            bits,
            seal_pin_file,
            config,
            ceremony,
        } => {
            let mut record = Recorder::for_command(
                ceremony.as_deref(),
                env,
                "ceremony quorum split",
                "quorum",
                vec![],
                &[&output.join(ceremony_quorum::QUORUM_FILE)],
                "write the quorum beside the transcript, e.g. -o DIR/quorum",
            )?;
            let now = env.now();
            record.act(now, "1", "The configuration is read");
            if let Some(config) = &config {
                record.read_file(now, config)?;
            }
            record.commit()?;
            let mut holders = recipients
                .iter()
                .map(|r| HolderRecipient::parse(r).map_err(quorum_failure))
                .collect::<Result<Vec<_>, _>>()?;
            for file in &passphrase_files {
                let Unlock::Passphrase(passphrase) =
                    Unlock::passphrase_from_file(file).map_err(Failure::input)?
                else {
                    return Err(Failure::input("not a passphrase"));
                };
                holders.push(HolderRecipient::Passphrase {
                    passphrase,
                    work_factor,
                });
            }
            if holders.len() != usize::from(n) {
                return Err(
                    Failure::input(format!("--n {n} but {} holders given", holders.len()))
                        .hint("give one --recipient age1… (or --passphrase-file) per share"),
                );
            }
            let keystore = match &config {
                Some(config) => Some(open_keystore(config, generate_key.is_some())?),
                None => None,
            };
            let kek = new_kek().map_err(quorum_failure)?;
            let done = split(&kek, m, n, &holders).map_err(quorum_failure)?;
            let recipient = done.info.kek_recipient.clone();
            let mut keys = Vec::new();
            let sealed = match &seal_pin_file {
                None => None,
                Some(path) => {
                    let pin = Unlock::passphrase_from_file(path).map_err(Failure::input)?;
                    let Unlock::Passphrase(pin) = pin else {
                        return Err(Failure::input("not a PIN"));
                    };
                    Some(seal_pin(&recipient, &pin).map_err(quorum_failure)?)
                }
            };
            let written = if ceremony.is_some() {
                record.act(
                    now,
                    "2",
                    &format!("A key-encryption key is split {m} of {n} to the holders"),
                );
                let mut files: Vec<(PathBuf, String)> = done
                    .shares
                    .iter()
                    .map(|s| (output.join(s.file_name()), s.to_text()))
                    .collect();
                files.push((
                    output.join(ceremony_quorum::QUORUM_FILE),
                    done.info.to_json(),
                ));
                if let Some(sealed) = &sealed {
                    files.push((
                        output.join(ceremony_quorum::SEALED_PIN_FILE),
                        sealed.clone(),
                    ));
                }
                let refs: Vec<(&Path, &[u8])> = files
                    .iter()
                    .map(|(p, t)| (p.as_path(), t.as_bytes()))
                    .collect();
                record.write_files(now, &refs)?;
                files.into_iter().map(|(p, _)| p).collect()
            } else {
                let written = write_split(&output, &done).map_err(quorum_failure)?;
                if let Some(sealed) = &sealed {
                    write_new_file(
                        &output.join(ceremony_quorum::SEALED_PIN_FILE),
                        sealed.as_bytes(),
                    )
                    .map_err(quorum_failure)?;
                }
                written
            };
            if let (Some(label), Some((store, config, dir))) = (&keystore_key, &keystore) {
                let dnskey = reencrypt(
                    store,
                    config,
                    dir,
                    label,
                    &kek_unlock(&kek).map_err(quorum_failure)?,
                )?;
                keys.push(json!({"label": label, "action": "re-encrypted to the KEK"}));
                record.act(
                    env.now(),
                    "3",
                    &format!("Key {label} is re-encrypted to the key-encryption key"),
                );
                record.record(
                    env.now(),
                    Event::KeyReencrypted(key_event(label, "keystore", Some(&dnskey))),
                );
                record.commit()?;
            }
            if let (Some(label), Some((store, _, _))) = (&generate_key, &keystore) {
                let algorithm = ceremony_policy::parse_algorithm(&algorithm)
                    .ok_or_else(|| Failure::input(format!("unknown algorithm {algorithm:?}")))?;
                let info = store
                    .generate(
                        label,
                        algorithm,
                        bits,
                        &kek_unlock(&kek).map_err(quorum_failure)?,
                    )
                    .map_err(key_failure)?;
                keys.push(json!({"label": label, "action": "generated under the KEK",
                    "key_tag": info.key_tag.0}));
                record.act(
                    env.now(),
                    if keystore_key.is_some() { "4" } else { "3" },
                    &format!("Key {label} is generated under the key-encryption key"),
                );
                record.record(
                    env.now(),
                    Event::KeyGenerated(key_event(label, "keystore", Some(&info.dnskey))),
                );
                record.commit()?;
            }
            drop(kek);
            if global.json {
                emit_json(
                    env,
                    &json!({
                        "quorum_id": done.info.quorum_id,
                        "m": m, "n": n,
                        "kek_recipient": recipient,
                        "commitment": done.info.commitment,
                        "files": written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                        "keys": keys,
                    }),
                )?;
            } else {
                let mut text = format!(
                    "quorum {} ({m} of {n}) written to {}\n",
                    done.info.quorum_id,
                    output.display()
                );
                for entry in &done.info.shares {
                    text.push_str(&format!(
                        "  share {} -> {} ({})\n",
                        entry.index, entry.holder, entry.file
                    ));
                }
                text.push_str(&format!("KEK recipient: {recipient}\n"));
                for key in &keys {
                    text.push_str(&format!(
                        "key {}: {}\n",
                        key["label"].as_str().unwrap_or_default(),
                        key["action"].as_str().unwrap_or_default()
                    ));
                }
                emit(env, &text)?;
            }
            record.finish(env)?;
            Ok(0)
        }
        QuorumCommand::Activate {
            quorum,
            shares,
            identities,
            load_key,
            sealed_pin,
            config,
            ceremony,
        } => {
            let mut record = Recorder::for_command(
                ceremony.as_deref(),
                env,
                "ceremony quorum activate",
                "quorum",
                vec![],
                &[],
                "",
            )?;
            let now = env.now();
            record.act(
                now,
                "1",
                "The quorum, the shares and the configuration are read",
            );
            for path in iter::once(&quorum).chain(&shares).chain(&config) {
                record.read_file(now, path)?;
            }
            record.commit()?;
            // The outcome is recorded either way: a wrong share is part of the story.
            let outcome = activate(
                &quorum,
                &shares,
                &identities,
                load_key.as_deref(),
                sealed_pin.as_deref(),
                config.as_deref(),
            );
            let now = env.now();
            record.act(
                now,
                "2",
                "The holders' shares activate the key-encryption key",
            );
            let mut checks = vec![(
                "QUORUM-ACTIVATE",
                outcome
                    .as_ref()
                    .map_or(CheckStatus::Failed, |_| CheckStatus::Passed),
            )];
            if let Ok((report, _)) = &outcome {
                if report.get("key").is_some() {
                    checks.push(("QUORUM-KEY-TEST", CheckStatus::Passed));
                }
                if report.get("sealed_pin").is_some() {
                    checks.push(("QUORUM-SEALED-PIN", CheckStatus::Passed));
                }
            }
            record.record(now, checks_event(&checks));
            record.commit()?;
            let (report, text) = outcome?;
            if global.json {
                emit_json(env, &report)?;
            } else {
                emit(env, &text)?;
            }
            record.finish(env)?;
            Ok(0)
        }
        QuorumCommand::Transfer {
            share,
            identity,
            to,
            output,
            ceremony,
        } => transfer_command(
            &share,
            &identity,
            &to,
            &output,
            ceremony.as_deref(),
            global,
            env,
        ),
    }
}

/// Activates the quorum from the shares, with the checks asked for: the
/// JSON report and the text for people.
fn activate(
    quorum: &Path,
    shares: &[PathBuf],
    identities: &[PathBuf],
    load_key: Option<&str>,
    sealed_pin: Option<&Path>,
    config: Option<&Path>,
) -> Result<(serde_json::Value, String), Failure> {
    {
        if shares.len() != identities.len() {
            return Err(Failure::input(format!(
                "{} --share but {} --identity: give one credential per share, in order",
                shares.len(),
                identities.len()
            )));
        }
        let info = QuorumInfo::read(quorum).map_err(quorum_failure)?;
        let mut pairs = Vec::with_capacity(shares.len());
        for (share, identity) in shares.iter().zip(identities) {
            let share = EncryptedShare::read(share).map_err(quorum_failure)?;
            let credential = credential(&share, identity)?;
            pairs.push((share, credential));
        }
        let kek = activate_with(&info, &pairs).map_err(quorum_failure)?;
        let recipient = kek_recipient(&kek).map_err(quorum_failure)?;
        if recipient != info.kek_recipient {
            return Err(Failure {
                code: EXIT_CHECKS_FAILED,
                message: "the KEK's recipient is not the one quorum.json publishes".to_owned(),
                hint: None,
            });
        }
        let mut report = json!({
            "quorum_id": info.quorum_id,
            "shares": pairs.iter().map(|(s, _)| s.index).collect::<Vec<_>>(),
            "kek_recipient": recipient,
            "matches_quorum": true,
        });
        if let Some(label) = load_key {
            let Some(config) = config else {
                return Err(Failure::input("--load-key needs --config"));
            };
            let (store, _, _) = open_keystore(config, false)?;
            let key = store
                .load(label, &kek_unlock(&kek).map_err(quorum_failure)?)
                .map_err(key_failure)?;
            let message = format!("ceremony quorum activation check {}", info.quorum_id);
            let signature = key.sign(message.as_bytes()).map_err(key_failure)?;
            ceremony_dnssec::verify(key.dnskey(), message.as_bytes(), &signature).map_err(|e| {
                Failure {
                    code: EXIT_CHECKS_FAILED,
                    message: format!("key {label}: the test signature does not verify: {e}"),
                    hint: None,
                }
            })?;
            report["key"] = json!({
                "label": label,
                "key_tag": key.dnskey().key_tag().0,
                "test_signature": "verified",
            });
        }
        if let Some(path) = sealed_pin {
            let bytes = ceremony_formats::read_bounded(path)?;
            let text = String::from_utf8(bytes).map_err(|_| {
                Failure::input(format!("{}: not a sealed PIN (not text)", path.display()))
            })?;
            let pin = unseal_pin(&kek, &text).map_err(quorum_failure)?;
            drop(pin);
            report["sealed_pin"] = json!("unsealed");
        }
        drop(kek);
        let mut text = format!(
                "quorum {}: activated with shares {} ({} of {} needed)\nKEK recipient: {recipient} (matches quorum.json)\n",
                info.quorum_id,
                pairs
                    .iter()
                    .map(|(s, _)| s.index.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                info.m,
                info.n
            );
        if let Some(label) = load_key {
            text.push_str(&format!(
                "key {label} (tag {}): opened with the KEK; test signature verified\n",
                report["key"]["key_tag"]
            ));
        }
        if sealed_pin.is_some() {
            text.push_str("sealed PIN: unsealed (not shown)\n");
        }
        Ok((report, text))
    }
}

/// `quorum transfer`: re-encrypts a share to the ceremony's one-time key,
/// recorded when `ceremony` is given.
fn transfer_command(
    share_path: &Path,
    identity: &Path,
    to: &str,
    output: &Path,
    ceremony: Option<&Path>,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let share = EncryptedShare::read(share_path).map_err(quorum_failure)?;
    let credential = credential(&share, identity)?;
    let to = to
        .trim()
        .parse::<ceremony_quorum::AgeRecipient>()
        .map_err(|e| Failure::input(format!("--to {to:?}: not an age recipient: {e}")))?;
    let (moved, event) = transfer(&share, &credential, &to).map_err(quorum_failure)?;
    let text = moved.to_text();
    if output.exists() {
        return Err(Failure::input(format!(
            "{}: exists; a share file is never replaced",
            output.display()
        )));
    }
    let mut record = Recorder::for_command(
        ceremony,
        env,
        "ceremony quorum transfer",
        "quorum",
        vec![],
        &[output],
        "write the transferred share beside the transcript",
    )?;
    if ceremony.is_none() {
        write_new_file(output, text.as_bytes()).map_err(quorum_failure)?;
    } else {
        let now = env.now();
        record.act(
            now,
            "1",
            "Transfer a quorum share to the ceremony's one-time key",
        );
        record.read_file(now, share_path)?;
        record.record(
            now,
            Event::ShareTransferred(ShareTransferred {
                holder: format!(
                    "share {} of quorum {} (holder {}, share hash {})",
                    event.index, event.quorum_id, event.holder, event.share_hash
                ),
                to: format!("{} (the ceremony's one-time key)", event.to),
            }),
        );
        record.write_file(now, output, text.as_bytes())?;
    }
    let event = serde_json::to_value(&event).unwrap_or_default();
    if global.json {
        emit_json(env, &event)?;
    } else {
        emit(
            env,
            &format!(
                "share {} of quorum {} re-encrypted to {} in {}\nrecord this transfer in the transcript:\n{}\n",
                share.index,
                share.quorum_id,
                to,
                output.display(),
                serde_json::to_string(&event).unwrap_or_default()
            ),
        )?;
    }
    record.finish(env)?;
    Ok(0)
}

/// The credential for `share`: a passphrase file for a passphrase holder, else an age identity file.
pub(crate) fn credential(share: &EncryptedShare, path: &Path) -> Result<Unlock, Failure> {
    let result = if share.holder == "passphrase" && share.transferred_to.is_none() {
        Unlock::passphrase_from_file(path)
    } else {
        Unlock::identity_from_file(path)
    };
    result.map_err(|e| Failure::input(format!("{}: {e}", share.who())))
}

/// The keystore the configuration names; created only when `create` (to generate a key).
fn open_keystore(
    config: &Path,
    create: bool,
) -> Result<(Keystore, SignerConfig, PathBuf), Failure> {
    let parsed = SignerConfig::load(config).map_err(sign_failure)?;
    let dir = config.parent().map(Path::to_path_buf).unwrap_or_default();
    let Some(store) = &parsed.keystore else {
        return Err(Failure::input(format!(
            "{}: no keystore section",
            config.display()
        )));
    };
    let path = resolve(&dir, &store.dir);
    let keystore = if path.exists() || !create {
        Keystore::open(&path)
    } else {
        Keystore::create(&path)
    }
    .map_err(key_failure)?;
    Ok((keystore, parsed, dir))
}

/// Re-encrypts a passphrase-protected keystore key to `kek`: load, move the old
/// files aside, store under the KEK, delete the old files (restored on failure).
fn reencrypt(
    store: &Keystore,
    config: &SignerConfig,
    config_dir: &Path,
    label: &str,
    kek: &Unlock,
) -> Result<Dnskey, Failure> {
    let info = store.info(label).map_err(key_failure)?;
    if info.protection != Protection::Passphrase {
        return Err(Failure::input(format!(
            "key {label} is encrypted to {}, not a passphrase",
            info.protection
        ))
        .hint("only passphrase-protected keys are re-encrypted to a quorum"));
    }
    let old = match config.keystore.as_ref() {
        Some(s) if s.passphrase_env.is_some() => {
            Unlock::passphrase_from_env(s.passphrase_env.as_deref().unwrap_or_default())
        }
        Some(s) if s.passphrase_file.is_some() => Unlock::passphrase_from_file(&resolve(
            config_dir,
            s.passphrase_file.as_deref().unwrap_or(Path::new("")),
        )),
        _ => {
            use ceremony_signer::backends::Prompt as _;
            TerminalPrompt
                .secret(&format!("passphrase of keystore {}", store.dir().display()))
                .map(Unlock::Passphrase)
        }
    }
    .map_err(key_failure)?;
    let key = store.load(label, &old).map_err(key_failure)?;
    let dir = store.dir();
    let moves = [
        (
            dir.join(format!("{label}{META_SUFFIX}")),
            dir.join(format!(".{label}{META_SUFFIX}.pre-quorum")),
        ),
        (
            dir.join(format!("{label}{KEY_SUFFIX}")),
            dir.join(format!(".{label}{KEY_SUFFIX}.pre-quorum")),
        ),
    ];
    for (from, to) in &moves {
        std::fs::rename(from, to).map_err(|e| {
            Failure::environment(format!("{}: cannot move aside: {e}", from.display()))
        })?;
    }
    match store.import(&key, kek, &[]) {
        Ok(_) => {
            for (_, aside) in &moves {
                let _ = std::fs::remove_file(aside);
            }
            Ok(info.dnskey)
        }
        Err(e) => {
            for (from, to) in &moves {
                let _ = std::fs::rename(to, from);
            }
            Err(key_failure(e))
        }
    }
}

fn key_failure(err: ceremony_keys::KeyError) -> Failure {
    sign_failure(ceremony_signer::SignError::from(err))
}

/// Exit 1 for a share that fails a check, 2 for bad input, 3 for the environment.
pub(crate) fn quorum_failure(err: QuorumError) -> Failure {
    match err {
        QuorumError::Parameters(_)
        | QuorumError::BadQuorumFile { .. }
        | QuorumError::TooLarge { .. } => Failure::input(err),
        QuorumError::Io { .. } | QuorumError::Crypto(_) => Failure::environment(err),
        other => Failure {
            code: EXIT_CHECKS_FAILED,
            message: other.to_string(),
            hint: None,
        },
    }
}
