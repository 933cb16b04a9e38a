//! `ceremony key …`: the KSK inventory in the keystore and the HSM tokens.

use std::path::{Path, PathBuf};

use ceremony_dnssec::{algorithm_name, parse_name, DigestAlgorithm, Dnskey, Ds};
use ceremony_policy::parse_algorithm;
use ceremony_signer::backends::{self, Place};
use ceremony_signer::SignerConfig;
use ceremony_transcript::Event;
use serde_json::json;

use super::sign::{sign_failure, TerminalPrompt};
use super::{confirm, emit, emit_json};
use crate::args::{Global, KeyCommand};
use crate::ceremony_log::{key_event, Recorder};
use crate::{Env, Failure};

/// The largest PEM file imported (an RSA-4096 PKCS#8 key is about 3.3 KB).
const MAX_PEM_FILE: usize = 64 * 1024;

fn load(config: &Path) -> Result<(SignerConfig, std::path::PathBuf), Failure> {
    let parsed = SignerConfig::load(config).map_err(sign_failure)?;
    Ok((
        parsed,
        config.parent().map(Path::to_path_buf).unwrap_or_default(),
    ))
}

fn zone(text: &str) -> Result<ceremony_dnssec::Name, Failure> {
    parse_name(text).map_err(|err| Failure::input(format!("--zone {text:?}: {err}")))
}

/// The public key of `label`, from whichever store has it.
fn find(config: &SignerConfig, dir: &Path, label: &str) -> Result<Dnskey, Failure> {
    backends::inventory(config, dir)
        .map_err(sign_failure)?
        .into_iter()
        .find(|e| e.label == label)
        .and_then(|e| e.dnskey)
        .ok_or_else(|| {
            Failure::input(format!(
                "no usable key labelled {label:?} in the keystore or tokens"
            ))
            .hint("see `ceremony key list`")
        })
}

pub fn run(command: KeyCommand, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    match command {
        KeyCommand::Generate {
            label,
            config: config_path,
            algorithm,
            bits,
            place,
            ceremony,
        } => {
            let (config, dir) = load(&config_path)?;
            let algorithm = parse_algorithm(&algorithm).ok_or_else(|| {
                Failure::input(format!(
                    "unknown algorithm {algorithm:?}; use RSASHA256, ECDSAP256SHA256 or ED25519"
                ))
            })?;
            let place_name = place.clone();
            let place = if place == "keystore" {
                Place::Keystore
            } else {
                Place::Hsm(place)
            };
            let (mut record, public_file) = open_key_ceremony(
                ceremony.as_deref(),
                env,
                "ceremony key generate",
                &label,
                &config_path,
            )?;
            let key = backends::generate(
                &config,
                &dir,
                &place,
                &label,
                algorithm,
                bits,
                &TerminalPrompt,
            )
            .map_err(sign_failure)?;
            let event = Event::KeyGenerated(key_event(&label, &place_name, Some(&key)));
            let act = format!("Key {label} is generated in {place_name}");
            let text = dnskey_file(&label, &key, config.ksk_policy.ttl)?;
            let file = public_file.as_deref().map(|p| (p, text.as_str()));
            record_new_key(&mut record, env, &act, event, file)?;
            let code = describe(env, global, &label, &key, "generated")?;
            record.finish(env)?;
            Ok(code)
        }
        KeyCommand::Import {
            label,
            pem,
            config: config_path,
            ceremony,
        } => {
            let (config, dir) = load(&config_path)?;
            // The PEM is the private key in the clear: wiped from memory once imported.
            let text = crate::sealed::read_clear_secret(&pem, MAX_PEM_FILE)?;
            let (mut record, public_file) = open_key_ceremony(
                ceremony.as_deref(),
                env,
                "ceremony key import",
                &label,
                &config_path,
            )?;
            let key = backends::import_pem(&config, &dir, &label, &text, &TerminalPrompt)
                .map_err(sign_failure)?;
            drop(text);
            // The PEM file itself is not logged: its hash is a fingerprint of the secret.
            let event = Event::KeyImported(key_event(&label, "keystore", Some(&key)));
            let act = format!("Key {label} is imported into the keystore");
            let text = dnskey_file(&label, &key, config.ksk_policy.ttl)?;
            let file = public_file.as_deref().map(|p| (p, text.as_str()));
            record_new_key(&mut record, env, &act, event, file)?;
            let code = describe(env, global, &label, &key, "imported")?;
            record.finish(env)?;
            Ok(code)
        }
        KeyCommand::List { config } => {
            let (config, dir) = load(&config)?;
            let root = parse_name(".").map_err(|e| Failure::input(e.to_string()))?;
            let entries = backends::inventory(&config, &dir).map_err(sign_failure)?;
            let mut items = Vec::new();
            let mut out = String::from(
                "label             tag    revoked  algorithm            place / config\n",
            );
            for entry in &entries {
                let configured = entry
                    .config_name
                    .as_ref()
                    .and_then(|n| config.keys.get(n).map(|k| (n, k)));
                let matches = match (&entry.dnskey, configured) {
                    (Some(key), Some((_, k))) => Some(
                        k.key_tag.is_none_or(|t| t == key.key_tag().0)
                            && k.algorithm == key.algorithm(),
                    ),
                    _ => None,
                };
                let ds = entry
                    .dnskey
                    .as_ref()
                    .and_then(|k| Ds::compute(&root, k, DigestAlgorithm::SHA256).ok());
                let (tag, revoked, alg) = match &entry.dnskey {
                    Some(k) => (
                        k.key_tag().to_string(),
                        k.revoked().key_tag().to_string(),
                        algorithm_name(k.algorithm()),
                    ),
                    None => (
                        "-".to_owned(),
                        "-".to_owned(),
                        "(incomplete pair)".to_owned(),
                    ),
                };
                let config_text = match (configured, matches) {
                    (Some((n, _)), Some(true)) => format!("config {n}: matches"),
                    (Some((n, _)), Some(false)) => format!("config {n}: DOES NOT MATCH"),
                    (Some((n, _)), None) => format!("config {n}"),
                    (None, _) => "not configured".to_owned(),
                };
                out.push_str(&format!(
                    "{:<17} {tag:<6} {revoked:<8} {alg:<20} {}; {config_text}\n",
                    entry.label, entry.place
                ));
                if let Some(ds) = &ds {
                    out.push_str(&format!("{:<17} DS SHA-256 {}\n", "", ds.digest_hex()));
                }
                items.push(json!({
                    "label": entry.label, "place": entry.place, "key_tag": entry.dnskey.as_ref().map(|k| k.key_tag().0),
                    "revoked_key_tag": entry.dnskey.as_ref().map(|k| k.revoked().key_tag().0),
                    "algorithm": entry.dnskey.as_ref().map(|k| k.algorithm().to_int()),
                    "has_private": entry.has_private, "has_public": entry.has_public,
                    "ds_sha256": ds.as_ref().map(Ds::digest_hex), "config": entry.config_name, "matches_config": matches,
                }));
            }
            if global.json {
                emit_json(env, &json!(items))?;
            } else {
                emit(env, &out)?;
            }
            Ok(0)
        }
        KeyCommand::Delete {
            label,
            config: config_path,
            yes,
            ceremony,
        } => {
            let (config, dir) = load(&config_path)?;
            let mut record = Recorder::for_command(
                ceremony.as_deref(),
                env,
                "ceremony key delete",
                "key",
                vec![],
                &[],
                "",
            )?;
            read_config_act(&mut record, env, &config_path)?;
            // The key as it was, for the record: a half pair has no public key.
            let dnskey = backends::inventory(&config, &dir)
                .map_err(sign_failure)?
                .into_iter()
                .find(|e| e.label == label)
                .and_then(|e| e.dnskey);
            if !yes {
                confirm(
                    env,
                    &format!("Delete key {label:?} for ever?"),
                    "not deleted",
                )?;
            }
            let place = backends::delete(&config, &dir, &label).map_err(sign_failure)?;
            let now = env.now();
            record.act(now, "2", &format!("Key {label} is deleted from {place}"));
            record.record(
                now,
                Event::KeyDeleted(key_event(&label, &place, dnskey.as_ref())),
            );
            record.commit()?;
            emit(env, &format!("Deleted {label:?} from {place}.\n"))?;
            record.finish(env)?;
            Ok(0)
        }
        KeyCommand::Dnskey {
            label,
            config,
            zone: zone_text,
        } => {
            let (config, dir) = load(&config)?;
            let owner = zone(&zone_text)?;
            let key = find(&config, &dir, &label)?;
            let ttl = config.ksk_policy.ttl;
            emit(
                env,
                &format!(
                    "{}\n{}\n",
                    key.to_zonefile(&owner, ttl),
                    key.revoked().to_zonefile(&owner, ttl)
                ),
            )?;
            Ok(0)
        }
        KeyCommand::Ds {
            label,
            config,
            zone: zone_text,
        } => {
            let (config, dir) = load(&config)?;
            let owner = zone(&zone_text)?;
            let key = find(&config, &dir, &label)?;
            let mut out = String::new();
            for digest in [DigestAlgorithm::SHA256, DigestAlgorithm::SHA384] {
                let ds =
                    Ds::compute(&owner, &key, digest).map_err(|e| Failure::input(e.to_string()))?;
                out.push_str(&ds.to_zonefile(&owner, config.ksk_policy.ttl));
                out.push('\n');
            }
            emit(env, &out)?;
            Ok(0)
        }
    }
}

/// Act 1 of a recorded key command: the configuration is read.
/// Opens the ceremony of a command that makes a key (off without `ceremony`),
/// with act 1, the configuration read; returns where the key's public file goes.
fn open_key_ceremony(
    ceremony: Option<&Path>,
    env: &mut dyn Env,
    script: &str,
    label: &str,
    config: &Path,
) -> Result<(Recorder, Option<PathBuf>), Failure> {
    let public_file = ceremony.map(|d| d.join(format!("{label}.dnskey")));
    let mut record = Recorder::for_command(
        ceremony,
        env,
        script,
        "key",
        vec![],
        &public_file.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
        "the key's DNSKEY file is written inside the ceremony directory",
    )?;
    read_config_act(&mut record, env, config)?;
    Ok((record, public_file))
}

/// Act 2 of a command that made a key: the event, then the key's public
/// `file` (path and text), when the command is recorded.
fn record_new_key(
    record: &mut Recorder,
    env: &dyn Env,
    act: &str,
    event: Event,
    file: Option<(&Path, &str)>,
) -> Result<(), Failure> {
    let Some((path, text)) = file else {
        return Ok(());
    };
    let now = env.now();
    record.act(now, "2", act);
    record.record(now, event);
    record.write_file(now, path, text.as_bytes()).map(drop)
}

fn read_config_act(record: &mut Recorder, env: &dyn Env, config: &Path) -> Result<(), Failure> {
    let now = env.now();
    record.act(now, "1", "The configuration is read");
    record.read_file(now, config)?;
    record.commit()
}

/// A generated key's public file: its DNSKEY and DS records for the root.
fn dnskey_file(label: &str, key: &Dnskey, ttl: u32) -> Result<String, Failure> {
    let root = parse_name(".").map_err(|e| Failure::input(e.to_string()))?;
    let ds = Ds::compute(&root, key, DigestAlgorithm::SHA256)
        .map_err(|e| Failure::input(e.to_string()))?;
    Ok(format!(
        "; {label}, made in this ceremony: its DNSKEY and DS records\n{}\n{}\n",
        key.to_zonefile(&root, ttl),
        ds.to_zonefile(&root, ttl)
    ))
}

fn describe(
    env: &mut dyn Env,
    global: &Global,
    label: &str,
    key: &Dnskey,
    verb: &str,
) -> Result<u8, Failure> {
    let root = parse_name(".").map_err(|e| Failure::input(e.to_string()))?;
    let ds = Ds::compute(&root, key, DigestAlgorithm::SHA256)
        .map_err(|e| Failure::input(e.to_string()))?;
    if global.json {
        emit_json(
            env,
            &json!({"label": label, "key_tag": key.key_tag().0, "revoked_key_tag": key.revoked().key_tag().0, "algorithm": key.algorithm().to_int(), "ds_sha256": ds.digest_hex()}),
        )?;
    } else {
        emit(
            env,
            &format!(
                "{verb} {label}: {} tag {} (revoked {})\n  DS SHA-256 {}\n",
                algorithm_name(key.algorithm()),
                key.key_tag(),
                key.revoked().key_tag(),
                ds.digest_hex()
            ),
        )?;
    }
    Ok(0)
}
