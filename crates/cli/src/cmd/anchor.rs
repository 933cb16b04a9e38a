//! `ceremony anchor verify`: each KeyDigest's key hashes to its digest and tag.

use std::path::Path;

use ceremony_formats::anchor::{DigestCheck, TrustAnchor};
use ceremony_formats::Fingerprint;
use ceremony_signer::backends;
use ceremony_signer::SignerConfig;
use serde_json::json;

use super::sign::sign_failure;
use super::{emit, emit_json};
use crate::args::{AnchorCommand, Global};
use crate::ceremony_log::{declared_ksk, Recorder};
use crate::{render, Env, Failure, EXIT_CHECKS_FAILED};

pub fn run(command: AnchorCommand, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    match command {
        AnchorCommand::Verify { file } => verify(&file, global, env),
        AnchorCommand::Write {
            output,
            config,
            zone,
            keys,
            ceremony,
        } => write(
            &output,
            &config,
            &zone,
            &keys,
            ceremony.as_deref(),
            global,
            env,
        ),
    }
}

/// Writes root-anchors.xml for the configured KSKs, with PublicKey and Flags
/// (RFC 9718); with `ceremony`, records it as a ceremony declaring those KSKs.
fn write(
    output: &Path,
    config_path: &Path,
    zone_text: &str,
    only: &[String],
    ceremony: Option<&Path>,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let config = SignerConfig::load(config_path).map_err(sign_failure)?;
    let dir = config_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let zone = ceremony_dnssec::parse_name(zone_text)
        .map_err(|err| Failure::input(format!("--zone {zone_text:?}: {err}")))?;
    let inventory = backends::inventory(&config, &dir).map_err(sign_failure)?;
    let mut keys = Vec::new();
    for (name, key) in &config.keys {
        if !only.is_empty() && !only.contains(name) {
            continue;
        }
        let dnskey = inventory
            .iter()
            .find(|e| e.label == key.label)
            .and_then(|e| e.dnskey.clone())
            .ok_or_else(|| {
                Failure::environment(format!(
                    "key {name} (label {:?}) is in no keystore or token",
                    key.label
                ))
            })?;
        keys.push((key.label.clone(), key.valid_from, key.valid_until, dnskey));
    }
    if keys.is_empty() {
        return Err(
            Failure::input("no keys to publish").hint("name keys with --key, or configure some")
        );
    }
    let anchor = TrustAnchor::for_keys(zone_text, &keys)
        .map_err(|e| Failure::input(format!("--zone {zone_text:?}: {e}")))?;
    let records: String = anchor
        .digests
        .iter()
        .map(|d| format!("{}\n", d.ds.to_zonefile(&zone, config.ksk_policy.ttl)))
        .collect();
    let declared = keys
        .iter()
        .map(|(label, _, _, dnskey)| declared_ksk(label, dnskey))
        .collect();
    let mut record = Recorder::for_command(
        ceremony,
        env,
        "ceremony anchor write",
        "anchor",
        declared,
        &[output],
        "write the trust anchors beside the transcript, e.g. -o DIR/root-anchors.xml",
    )?;
    let now = env.now();
    record.act(now, "1", "The configuration is read");
    record.read_file(now, config_path)?;
    record.commit()?;
    record.act(now, "2", "The trust anchors are written");
    let written = record.write_file(now, output, anchor.to_xml().as_bytes())?;
    let facts = written.facts();
    if global.json {
        emit_json(
            env,
            &json!({"output": render::file_json(&facts), "ds": records.lines().collect::<Vec<_>>()}),
        )?;
    } else {
        emit(
            env,
            &format!(
                "{}
{records}",
                render::file_heading("Trust anchor", &facts)
            ),
        )?;
    }
    record.finish(env)?;
    Ok(0)
}

fn verify(file: &Path, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    let name = file.display().to_string();
    let bytes = ceremony_formats::read_bounded(file)?;
    let fingerprint = Fingerprint::of(&bytes);
    let size = bytes.len();
    let text = ceremony_formats::text_from_bytes(bytes, &name)?;
    let anchor = TrustAnchor::parse(&text, &name)?;
    let zone = ceremony_dnssec::parse_name(&anchor.zone)
        .map_err(|err| Failure::input(format!("{name}: <Zone> {:?}: {err}", anchor.zone)))?;
    let facts = render::FileFacts {
        name: &name,
        size,
        fingerprint: &fingerprint,
    };
    let mut bad = 0;
    let mut lines = Vec::new();
    let mut items = Vec::new();
    for digest in &anchor.digests {
        let check = digest.check(&zone);
        let (status, text) = match &check {
            DigestCheck::Matches => (
                "matches",
                "PublicKey, Flags and Algorithm hash to Digest and KeyTag".to_owned(),
            ),
            DigestCheck::NoKey => (
                "no_key",
                "no PublicKey/Flags (RFC 7958 form): the digest cannot be checked".to_owned(),
            ),
            DigestCheck::WrongTag { computed } => (
                "wrong_tag",
                format!("the key's tag is {computed}, not {}", digest.ds.key_tag),
            ),
            DigestCheck::WrongDigest { computed } => (
                "wrong_digest",
                format!(
                    "the key hashes to {computed}, not {}",
                    digest.ds.digest_hex()
                ),
            ),
            DigestCheck::UnsupportedDigest => (
                "unsupported_digest",
                format!("digest type {} cannot be computed", digest.ds.digest_type),
            ),
        };
        let failed = !matches!(check, DigestCheck::Matches | DigestCheck::NoKey);
        bad += usize::from(failed);
        let mark = match check {
            DigestCheck::Matches => "✓",
            DigestCheck::NoKey => "-",
            _ => "✗",
        };
        let until = digest
            .valid_until
            .map(|t| t.to_string())
            .unwrap_or_else(|| "(open)".to_owned());
        lines.push(format!(
            "  {mark} {} tag {} alg {} digest type {}  valid {} to {until}\n      {text}",
            digest.id,
            digest.ds.key_tag,
            digest.ds.algorithm.to_int(),
            digest.ds.digest_type.to_int(),
            digest.valid_from
        ));
        items.push(json!({
            "id": digest.id,
            "key_tag": digest.ds.key_tag.0,
            "algorithm": digest.ds.algorithm.to_int(),
            "digest_type": digest.ds.digest_type.to_int(),
            "valid_from": digest.valid_from.to_string(),
            "valid_until": digest.valid_until.map(|t| t.to_string()),
            "status": status,
            "detail": text,
        }));
    }
    if global.json {
        emit_json(
            env,
            &json!({"file": render::file_json(&facts), "zone": anchor.zone, "ok": bad == 0, "digests": items}),
        )?;
    } else {
        let verdict = if bad == 0 {
            "Result: PASSED, every key present hashes to its digest".to_owned()
        } else {
            format!("Result: FAILED, {bad} key digest(s) do not match their keys")
        };
        emit(
            env,
            &format!(
                "{}  zone {}\n\n{}\n\n{verdict}\n",
                render::file_heading("Trust anchor", &facts),
                anchor.zone,
                lines.join("\n")
            ),
        )?;
    }
    Ok(if bad == 0 { 0 } else { EXIT_CHECKS_FAILED })
}
