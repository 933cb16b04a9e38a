//! `ceremony sign`: the act every ceremony exists for.
//!
//! Shows the KSR's hash words and bundles, runs every check, asks for the
//! word `Yes`, signs, re-verifies, writes the SKR atomically, and shows the
//! SKR's hash words for the room to compare.

use std::path::{Path, PathBuf};

use ceremony_formats::{icann, Document};
use ceremony_keys::pkcs11::Pin;
use ceremony_keys::KeyError;
use ceremony_quorum::{activate_unlock, EncryptedShare, QuorumError, QuorumInfo, Unlock};
use ceremony_signer::backends::{load_keys_unlocked, LoadedKeys, Prompt};
use ceremony_signer::textsign::Peer;
use ceremony_signer::{check, sign_ksr, SignError, SignRequest, SignerConfig};
use serde_json::json;

use super::quorum::{credential, quorum_failure};
use super::{confirm, emit, emit_json, expect_ksr, expect_skr, now, read_document};
use crate::args::{Format, Global, QuorumUnlockArgs, TextSignArgs};
use crate::ceremony_log::Recorder;
use crate::render;
use crate::{Env, Failure, EXIT_CHECKS_FAILED};

pub struct SignArgs {
    pub ksr: PathBuf,
    pub config: PathBuf,
    pub schema: String,
    pub previous_skr: Option<PathBuf>,
    pub output: PathBuf,
    pub yes: bool,
    pub text: TextSignArgs,
    pub ceremony: Option<PathBuf>,
    pub quorum: QuorumUnlockArgs,
}

/// The keystore's unlock that M holders' quorum shares rebuilt, and who gave them.
struct Activated {
    unlock: Unlock,
    quorum_id: String,
    holders: Vec<u8>,
    m: u8,
    n: u8,
}

impl Activated {
    fn describe(&self) -> String {
        let holders: Vec<String> = self.holders.iter().map(u8::to_string).collect();
        format!(
            "\nThe keystore was unlocked by quorum {}: the shares of holders {} ({} of {} needed)\nrebuilt its key-encryption key, in memory only.\n",
            self.quorum_id,
            holders.join(", "),
            self.m,
            self.n
        )
    }

    fn json(&self) -> serde_json::Value {
        json!({"quorum_id": self.quorum_id, "shares": self.holders, "m": self.m, "n": self.n})
    }
}

/// `--quorum`: decrypts each present holder's share with their credential and
/// rebuilds the key-encryption key; fewer than M shares is refused by count.
fn quorum_unlock(args: &QuorumUnlockArgs) -> Result<Option<Activated>, Failure> {
    let Some(path) = &args.quorum else {
        return Ok(None);
    };
    if args.quorum_shares.len() != args.quorum_identities.len() {
        return Err(Failure::input(format!(
            "{} --quorum-share but {} --quorum-identity: give one credential per share, in order",
            args.quorum_shares.len(),
            args.quorum_identities.len()
        )));
    }
    let info = QuorumInfo::read(path).map_err(quorum_failure)?;
    let mut shares = Vec::with_capacity(args.quorum_shares.len());
    for (share, identity) in args.quorum_shares.iter().zip(&args.quorum_identities) {
        let share = EncryptedShare::read(share).map_err(quorum_failure)?;
        let credential = credential(&share, identity)?;
        shares.push(share.decrypt(&credential).map_err(quorum_failure)?);
    }
    let unlock = activate_unlock(&info, &shares).map_err(|err| match err {
        QuorumError::Insufficient { have, need } => Failure {
            code: EXIT_CHECKS_FAILED,
            message: format!(
                "{}: quorum {} needs the shares of {need} of its {} holders, and {have} were given: the keystore stays locked and nothing is signed",
                path.display(),
                info.quorum_id,
                info.n
            ),
            hint: Some(format!(
                "bring {} more holder(s) with their share and credential (--quorum-share FILE --quorum-identity FILE)",
                need - have
            )),
        },
        other => quorum_failure(other),
    })?;
    Ok(Some(Activated {
        unlock,
        holders: shares.iter().map(|s| s.index).collect(),
        quorum_id: info.quorum_id,
        m: info.m,
        n: info.n,
    }))
}

/// Loads the KSKs `names`: keystore keys opened by the quorum when `--quorum`
/// is given, else by the configured passphrase or the prompt.
fn load_signing_keys(
    args: &SignArgs,
    config: &SignerConfig,
    config_dir: &Path,
    names: &[String],
) -> Result<(LoadedKeys, Option<Activated>), Failure> {
    let activated = quorum_unlock(&args.quorum)?;
    let keys = load_keys_unlocked(
        config,
        config_dir,
        names,
        &TerminalPrompt,
        activated.as_ref().map(|a| &a.unlock),
    )
    .map_err(sign_failure)?;
    Ok((keys, activated))
}

/// Secrets asked on the terminal, without echo.
pub struct TerminalPrompt;

impl Prompt for TerminalPrompt {
    fn secret(&self, what: &str) -> Result<secrecy::SecretString, KeyError> {
        Pin::Prompt.read(what)
    }
}

/// Maps a signer error to the exit code DESIGN §6 gives it.
pub fn sign_failure(err: SignError) -> Failure {
    match err {
        SignError::Config { .. } | SignError::SchemaSlot { .. } => Failure::input(err),
        SignError::Policy(_) => Failure {
            code: EXIT_CHECKS_FAILED,
            message: err.to_string(),
            hint: Some("no SKR was written; the report above names each failed check".to_owned()),
        },
        // Refusals of `key generate`/`key import`: the request, not the HSM, is at fault.
        SignError::Key(
            KeyError::Exists { .. }
            | KeyError::KeyExists { .. }
            | KeyError::TagCollision { .. }
            | KeyError::BadLabel { .. },
        ) => Failure::input(err).hint("see `ceremony key list` for the labels and key tags in use"),
        SignError::MissingKey { .. } | SignError::Key(_) => Failure::environment(err)
            .hint("check the HSM or keystore: module path, token label, PIN, key labels"),
        _ => Failure::environment(err),
    }
}

pub fn run(args: &SignArgs, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    let now = now(global, env)?;
    let config = SignerConfig::load(&args.config).map_err(sign_failure)?;
    let config_dir = args
        .config
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let input = read_document(&args.ksr, Format::Auto)?;
    if let Some(peer) = Peer::of_format(input.format) {
        return run_text(args, global, env, now, &config, &config_dir, input, peer);
    }
    refuse_text_options(&args.text)?;
    let (input, ksr) = expect_ksr(input)?;
    let previous = args
        .previous_skr
        .as_ref()
        .map(|path| read_document(path, Format::Auto).and_then(expect_skr))
        .transpose()?;
    let schema = config
        .schema(&args.schema, ksr.bundles.len())
        .map_err(sign_failure)?;

    let mut out = render::file_heading("KSR", &input.facts());
    out.push_str(&render::document(&input.document));
    if let Some((prev, _)) = &previous {
        out.push('\n');
        out.push_str(&render::file_heading("Previous SKR", &prev.facts()));
    }
    if !global.json {
        emit(env, &out)?;
    }

    let mut names: Vec<String> = schema
        .slots
        .values()
        .flat_map(|a| a.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    let (keys, activated) = load_signing_keys(args, &config, &config_dir, &names)?;
    if let (Some(activated), false) = (&activated, global.json) {
        emit(env, &activated.describe())?;
    }
    let ring = keys.ring();
    let mut record = open_record(args, env, &ring, &input, previous.as_ref().map(|(p, _)| p))?;
    let request = SignRequest {
        ksr: &ksr,
        schema: &schema,
        config: &config,
        keys: &ring,
        previous: previous.as_ref().map(|(_, skr)| skr),
        now,
    };
    let context = format!(
        "{}, schema {}, as of {now}",
        args.config.display(),
        schema.name
    );
    let report = check(&request);
    record.checks(env, &report)?;
    if !report.is_ok() {
        if global.json {
            emit_json(
                env,
                &json!({"file": render::file_json(&input.facts()), "report": render::report_json(&report), "output": null}),
            )?;
        } else {
            emit(env, &render::report(&report, &context))?;
        }
        return Err(sign_failure(SignError::Policy(Box::new(report))));
    }
    if !global.json {
        emit(env, &render::report(&report, &context))?;
    }
    if !args.yes {
        confirm(env, "\nSign every bundle of this KSR?", "not signed")?;
    }
    let signed = match sign_ksr(&request) {
        Ok(signed) => signed,
        Err(SignError::Policy(report)) => {
            // Checks that run only on the signed bundles (KSR-POLICY-SAFETY, SKR-VERIFY…)
            // failed: show the report naming them, as for the checks before signing.
            if global.json {
                emit_json(
                    env,
                    &json!({"file": render::file_json(&input.facts()), "report": render::report_json(&report), "output": null}),
                )?;
            } else {
                emit(
                    env,
                    &render::report(&report, &format!("after signing: {context}")),
                )?;
            }
            return Err(sign_failure(SignError::Policy(report)));
        }
        Err(err) => return Err(sign_failure(err)),
    };
    let skr_text = icann::write_skr(&signed.skr);
    let written = record.write_skr(env, &args.output, &skr_text, &signed.skr, &signed.report)?;
    let facts = written.facts();
    if global.json {
        emit_json(
            env,
            &json!({
                "file": render::file_json(&input.facts()),
                "report": render::report_json(&signed.report),
                "output": render::file_json(&facts),
                "keys": keys.sources.iter().map(|(n, s)| json!({"name": n, "source": s})).collect::<Vec<_>>(),
                "quorum": activated.as_ref().map(Activated::json),
            }),
        )?;
    } else {
        let mut out = format!(
            "\nSigned {} bundles. Wrote the SKR:\n\n",
            signed.skr.bundles.len()
        );
        out.push_str(&render::file_heading("SKR", &facts));
        out.push_str(&render::document(&Document::Skr(signed.skr)));
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}

/// An ICANN KSR is signed by the root's rules: the text signing options do not apply.
/// Opens the ceremony record of a signing (off without `--ceremony`), with the files read.
fn open_record(
    args: &SignArgs,
    env: &mut dyn Env,
    keys: &ceremony_signer::KeyRing<'_>,
    input: &super::Input,
    previous: Option<&super::Input>,
) -> Result<Recorder, Failure> {
    let read = [Some(input.facts()), previous.map(super::Input::facts)];
    let quorum: Vec<&Path> = args
        .quorum
        .quorum
        .iter()
        .chain(&args.quorum.quorum_shares)
        .map(PathBuf::as_path)
        .collect();
    Recorder::for_sign(
        args.ceremony.as_deref(),
        env,
        keys,
        &args.config,
        &read,
        &quorum,
        &args.output,
    )
}

fn refuse_text_options(text: &TextSignArgs) -> Result<(), Failure> {
    let given: Vec<&str> = [
        ("--preset", text.preset.is_some()),
        ("--end", text.end.is_some()),
        ("--validity", text.validity.is_some()),
        ("--refresh", text.refresh.is_some()),
        ("--inception-offset", text.inception_offset.is_some()),
        ("--cdnskey", text.cdnskey.is_some()),
        ("--cds", text.cds.is_some()),
        ("--dnskey-ttl", text.dnskey_ttl.is_some()),
        (
            "--to",
            text.to
                .is_some_and(|f| f != Format::Icann && f != Format::Auto),
        ),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(name, _)| name)
    .collect();
    if given.is_empty() {
        Ok(())
    } else {
        Err(Failure::input(format!(
            "{} only apply to Knot DNS and BIND 9 KSRs; this KSR is ICANN XML, signed by its schema and the config's ksk_policy",
            given.join(", ")
        ))
        .hint("to sign it by Knot's or BIND's rules, convert it first: ceremony convert KSR --to knot"))
    }
}

// ---------------------------------------------------------------------------
// Knot DNS and BIND 9 KSRs.

/// Signs a Knot DNS or BIND 9 KSR: the KSR checks with the text preset, the
/// signing-time checks, signing by the preset's rules, the text SKR checks,
/// and the SKR in the KSR's format or `--to`.
#[allow(clippy::too_many_arguments)]
fn run_text(
    args: &SignArgs,
    global: &Global,
    env: &mut dyn Env,
    now: jiff::Timestamp,
    config: &SignerConfig,
    config_dir: &Path,
    input: super::Input,
    format_peer: Peer,
) -> Result<u8, Failure> {
    use ceremony_formats::model::TextKsr;
    use ceremony_policy::{CheckId, Outcome};
    use ceremony_signer::textsign::{
        assemble_response, overlay_request_policy, plan_response, request_policy, verify_text_skr,
        TextPolicy,
    };
    use ceremony_signer::Schema;

    let text = &args.text;
    let peer = match text.preset {
        None => format_peer,
        Some(crate::args::Peer::Knot) => Peer::Knot,
        Some(crate::args::Peer::Bind) => Peer::Bind,
    };
    let target = match text.to {
        None | Some(Format::Auto) => format_peer.format(),
        Some(Format::Knot) => ceremony_formats::Format::Knot,
        Some(Format::Bind) => ceremony_formats::Format::Bind,
        Some(Format::Icann) => {
            return Err(Failure::input(
                "an SKR for a Knot DNS or BIND 9 KSR is written as knot or bind: the ICANN format has no place for CDS/CDNSKEY and ties each signature to its bundle's times",
            )
            .hint("--to knot or --to bind; `ceremony convert` translates documents and says what is lost"))
        }
    };
    let (input, ksr) = expect_ksr(input)?;
    let previous = args
        .previous_skr
        .as_ref()
        .map(|path| {
            read_document(path, Format::Auto).and_then(|doc| {
                let text_format = doc.format != ceremony_formats::Format::Icann;
                let (doc, mut skr) = expect_skr(doc)?;
                if text_format {
                    // Knot DNS and BIND start the next KSR at the last instant of the
                    // previous one: that shared bundle is the hand-over, not a replay
                    // (KSR-BUNDLE-UNIQUE still refuses any other repeated instant).
                    let first = ksr.bundles.first().map(|b| b.inception);
                    if let Some(last) = skr.bundles.last_mut() {
                        if Some(last.inception) == first {
                            last.id = format!("{} (hand-over)", last.id);
                        }
                    }
                    // A text SKR's bundle starts after its signatures do: for the
                    // chain checks, each bundle spans its signatures' validity.
                    for bundle in &mut skr.bundles {
                        if let Some(first) = bundle.signatures.first() {
                            bundle.inception = first.inception;
                            bundle.expiration = first.expiration;
                        }
                    }
                }
                Ok((doc, skr))
            })
        })
        .transpose()?;

    // The KSKs: the same keys sign every bundle in these formats.
    let schema = config
        .schema(&args.schema, ksr.bundles.len())
        .map_err(sign_failure)?;
    let mut actions = schema.slots.values();
    let Some(action) = actions.next().cloned() else {
        return Err(Failure::input(format!(
            "schema {:?} has no slots",
            schema.name
        )));
    };
    let uniform = actions.all(|a| *a == action)
        && action.revoke.is_empty()
        && action.publish.iter().all(|k| action.sign.contains(k));
    if !uniform {
        return Err(Failure::input(format!(
            "schema {:?} changes the KSKs between slots or revokes one; a Knot DNS or BIND 9 SKR is signed by the same KSKs throughout",
            schema.name
        ))
        .hint("use a schema in which the same keys publish and sign every slot"));
    }
    let schema = Schema {
        name: schema.name.clone(),
        slots: (1..=ksr.bundles.len())
            .map(|slot| (slot, action.clone()))
            .collect(),
    };

    let mut out = render::file_heading("KSR", &input.facts());
    out.push_str(&render::document(&input.document));
    if let Some((prev, _)) = &previous {
        out.push('\n');
        out.push_str(&render::file_heading("Previous SKR", &prev.facts()));
    }
    if !global.json {
        emit(env, &out)?;
    }

    let names = action.sign.clone();
    let load_started = std::time::Instant::now();
    let (keys, activated) = load_signing_keys(args, config, config_dir, &names)?;
    let load_time = load_started.elapsed();
    if let (Some(activated), false) = (&activated, global.json) {
        emit(env, &activated.describe())?;
    }
    let ring = keys.ring();
    let mut record = open_record(args, env, &ring, &input, previous.as_ref().map(|(p, _)| p))?;

    let mut policy = TextPolicy::preset(peer, now, parse_end(text.end.as_deref())?);
    apply_knobs(&mut policy, text)?;
    if text.dnskey_ttl.is_none() {
        policy.dnskey_ttl = config.ksk_policy.ttl;
    }
    policy.generator = match target {
        ceremony_formats::Format::Bind => ceremony_formats::bind::BIND_VERSION.to_owned(),
        _ => ceremony_formats::knot::KNOT_VERSION.to_owned(),
    };
    // The TTL the KSK operator expects: --dnskey-ttl, or the config's ksk_policy.ttl.
    let checked_ttl = text.dnskey_ttl.unwrap_or(config.ksk_policy.ttl);
    let mut text_config = config.clone();
    text_config.request_policy = overlay_request_policy(
        request_policy(peer, &ksr.header.domain, checked_ttl),
        &config.request_policy,
    );
    let request = SignRequest {
        ksr: &ksr,
        schema: &schema,
        config: &text_config,
        keys: &ring,
        previous: previous.as_ref().map(|(_, skr)| skr),
        now,
    };
    let context = format!(
        "{}, preset {} (the config's request_policy knobs override it), schema {}, as of {now}",
        args.config.display(),
        peer.name(),
        schema.name
    );
    let mut report = check(&request);
    report.replace(
        CheckId::KsrPolicySafety,
        Outcome::NotApplicable(
            "the same KSKs sign every bundle of a Knot DNS or BIND 9 SKR: no KSK is published or retired".to_owned(),
        ),
    );
    let fail = |env: &mut dyn Env,
                report: ceremony_policy::Report,
                when: &str|
     -> Result<u8, Failure> {
        if global.json {
            emit_json(
                env,
                &json!({"file": render::file_json(&input.facts()), "report": render::report_json(&report), "output": null}),
            )?;
        } else {
            emit(env, &render::report(&report, &format!("{when}{context}")))?;
        }
        Err(sign_failure(SignError::Policy(Box::new(report))))
    };
    record.checks(env, &report)?;
    if !report.is_ok() {
        return fail(env, report, "");
    }
    if !global.json {
        emit(env, &render::report(&report, &context))?;
    }
    if !args.yes {
        confirm(env, "\nSign every bundle of this KSR?", "not signed")?;
    }
    let ksks: Vec<&dyn ceremony_keys::KeySigner> = names
        .iter()
        .filter_map(|name| ring.get(name).copied())
        .collect();
    let request_text = TextKsr {
        ksr: ksr.clone(),
        generator: String::new(),
    };
    let slots = plan_response(peer, &request_text, &policy).map_err(sign_failure)?;
    let signed = sign_in_parallel(
        &Signing {
            peer,
            request: &request_text,
            policy: &policy,
            config,
            config_dir,
            names: &names,
            load_time,
            unlock: activated.as_ref().map(|a| &a.unlock),
        },
        &ksks,
        &slots,
    )?;
    let mut skr = assemble_response(&request_text, &policy, signed);
    if target != ceremony_formats::Format::Bind {
        // BIND's handover pairs (two bundles at one instant) have no place in
        // Knot's format; the first of each pair is never in force.
        skr.drop_handovers();
    }
    let after = verify_text_skr(&skr, Some(&ksr), config.response_policy.validate_signatures);
    for id in [CheckId::SkrVerify, CheckId::SkrMatch, CheckId::SkrPair] {
        if let Some(outcome) = after.outcome(id) {
            report.replace(id, outcome.clone());
        }
    }
    if !report.is_ok() {
        return fail(env, report, "after signing: ");
    }
    let written_text = match target {
        ceremony_formats::Format::Bind => ceremony_formats::bind::write_skr(&skr),
        _ => ceremony_formats::knot::write_skr(&skr),
    };
    let written = record.write_skr(env, &args.output, &written_text, &skr.skr, &report)?;
    let facts = written.facts();
    let signatures: usize = skr
        .skr
        .bundles
        .iter()
        .zip(&skr.extra)
        .map(|(b, e)| b.signatures.len() + e.signatures.len())
        .sum();
    if global.json {
        emit_json(
            env,
            &json!({
                "file": render::file_json(&input.facts()),
                "format": input.format.name(),
                "preset": peer.name(),
                "to": target.name(),
                "report": render::report_json(&report),
                "output": render::file_json(&facts),
                "bundles": skr.skr.bundles.len(),
                "signatures": signatures,
                "keys": keys.sources.iter().map(|(n, s)| json!({"name": n, "source": s})).collect::<Vec<_>>(),
                "quorum": activated.as_ref().map(Activated::json),
            }),
        )?;
    } else {
        let mut out = render::report(&report, &format!("after signing: {context}"));
        out.push_str(&format!(
            "\nSigned {} KSR bundles by {}'s rules: {} response bundles, {signatures} signatures. Wrote the SKR ({}):\n\n",
            ksr.bundles.len(),
            match peer {
                Peer::Knot => "Knot DNS",
                Peer::Bind => "BIND 9",
            },
            skr.skr.bundles.len(),
            target.name()
        ));
        out.push_str(&render::file_heading("SKR", &facts));
        out.push_str(&render::document(&Document::Skr(skr.skr)));
        emit(env, &out)?;
    }
    record.finish(env)?;
    Ok(0)
}

fn parse_end(text: Option<&str>) -> Result<Option<jiff::Timestamp>, Failure> {
    text.map(|t| {
        t.parse::<jiff::Timestamp>().map_err(|e| {
            Failure::input(format!("--end {t:?} is not an RFC 3339 instant: {e}"))
                .hint("write it like 2027-11-29T00:00:00Z")
        })
    })
    .transpose()
}

/// Reads `21d`, `90m`, `3600s`, `3600` or an xsd:duration such as `P21D`, in seconds.
pub(crate) fn parse_seconds(flag: &str, text: &str) -> Result<i64, Failure> {
    let bad = || {
        Failure::input(format!("{flag} {text:?} is not a duration"))
            .hint("write it like 21d, 90m, 1h, 3600 (seconds) or P21D")
    };
    if text.starts_with('P') {
        return ceremony_formats::Duration::parse_xsd(text)
            .map(|d| d.as_seconds())
            .map_err(|_| bad());
    }
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let number: i64 = number.parse().map_err(|_| bad())?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        "w" => 7 * 86400,
        _ => return Err(bad()),
    };
    number.checked_mul(scale).ok_or_else(bad)
}

fn apply_knobs(
    policy: &mut ceremony_signer::textsign::TextPolicy,
    text: &TextSignArgs,
) -> Result<(), Failure> {
    use ceremony_dnssec::DigestAlgorithm;
    if let Some(v) = &text.validity {
        policy.validity_seconds = parse_seconds("--validity", v)?;
    }
    if let Some(v) = &text.refresh {
        policy.refresh_seconds = parse_seconds("--refresh", v)?;
    }
    if let Some(v) = &text.inception_offset {
        policy.inception_offset_seconds = parse_seconds("--inception-offset", v)?;
    }
    if let Some(v) = text.cdnskey {
        policy.cdnskey = v == crate::args::OnOff::On;
    }
    if let Some(ttl) = text.dnskey_ttl {
        policy.dnskey_ttl = ttl;
    }
    if let Some(list) = &text.cds {
        policy.cds_digests = if list == "none" {
            Vec::new()
        } else {
            list.split(',')
                .map(|name| match name.trim().to_ascii_lowercase().as_str() {
                    "sha256" | "sha-256" | "2" => Ok(DigestAlgorithm::SHA256),
                    "sha384" | "sha-384" | "4" => Ok(DigestAlgorithm::SHA384),
                    other => Err(
                        Failure::input(format!("--cds: unknown digest type {other:?}"))
                            .hint("use sha256, sha384, a list of them, or none"),
                    ),
                })
                .collect::<Result<_, _>>()?
        };
    }
    Ok(())
}

/// What every signing thread shares.
struct Signing<'a> {
    peer: Peer,
    request: &'a ceremony_formats::model::TextKsr,
    policy: &'a ceremony_signer::textsign::TextPolicy,
    config: &'a SignerConfig,
    config_dir: &'a Path,
    names: &'a [String],
    /// How long loading the keys took on the main thread.
    load_time: std::time::Duration,
    /// The quorum's unlock of the keystore, which every thread opens its keys with.
    unlock: Option<&'a Unlock>,
}

/// A prompt for worker threads, which never ask: they run only when no secret needs asking.
struct NoPrompt;

impl Prompt for NoPrompt {
    fn secret(&self, what: &str) -> Result<secrecy::SecretString, KeyError> {
        Err(KeyError::PinUnavailable {
            token: what.to_owned(),
            from: "a signing thread".to_owned(),
            reason: "a signing thread does not ask".to_owned(),
        })
    }
}

/// Whether keys can be loaded again without asking anyone: every PIN and
/// passphrase is configured, or the quorum already unlocked the keystore.
fn secrets_unattended(config: &SignerConfig, unlocked: bool) -> bool {
    let keystore = unlocked
        || config
            .keystore
            .as_ref()
            .is_none_or(|k| k.passphrase_env.is_some() || k.passphrase_file.is_some());
    let hsms = config
        .hsm
        .values()
        .all(|h| h.pin.is_some() || h.pin_env.is_some() || h.pin_file.is_some());
    keystore && hsms
}

/// Signs the response bundles, on several threads when that pays.
///
/// A text SKR has dozens to hundreds of RSA signatures, each a
/// millisecond. When the secrets need no one to type them and one bundle's
/// signing shows that the rest outweighs loading the keys again (a second
/// HSM session or keystore unlock per thread), the remaining bundles are
/// split over the machine's cores, each thread with its own key handles.
/// The result is the same, in the same order.
fn sign_in_parallel(
    job: &Signing<'_>,
    ksks: &[&dyn ceremony_keys::KeySigner],
    slots: &[ceremony_signer::textsign::ResponseSlot],
) -> Result<Vec<(ceremony_formats::Bundle, ceremony_formats::ExtraRecords)>, Failure> {
    use ceremony_signer::textsign::sign_slots;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(4);
    let sequential =
        |slots| sign_slots(job.peer, job.request, ksks, job.policy, slots).map_err(sign_failure);
    if threads < 2 || slots.len() < 8 || !secrets_unattended(job.config, job.unlock.is_some()) {
        return sequential(slots);
    }
    let started = std::time::Instant::now();
    let mut out = sequential(&slots[..1])?;
    let rest = &slots[1..];
    let remaining = started.elapsed() * rest.len() as u32;
    if job.load_time * 4 > remaining {
        out.extend(sequential(rest)?);
        return Ok(out);
    }
    let parts: Vec<&[ceremony_signer::textsign::ResponseSlot]> =
        rest.chunks(rest.len().div_ceil(threads)).collect();
    let results = std::thread::scope(|scope| {
        let workers: Vec<_> = parts[1..]
            .iter()
            .map(|part| {
                scope.spawn(move || {
                    let keys = load_keys_unlocked(
                        job.config,
                        job.config_dir,
                        job.names,
                        &NoPrompt,
                        job.unlock,
                    )?;
                    let ring = keys.ring();
                    let ksks: Vec<&dyn ceremony_keys::KeySigner> = job
                        .names
                        .iter()
                        .filter_map(|name| ring.get(name).copied())
                        .collect();
                    sign_slots(job.peer, job.request, &ksks, job.policy, part)
                })
            })
            .collect();
        let mut results = vec![sign_slots(
            job.peer,
            job.request,
            ksks,
            job.policy,
            parts[0],
        )];
        for worker in workers {
            results.push(worker.join().unwrap_or_else(|_| {
                Err(SignError::Config {
                    file: "signing thread".to_owned(),
                    message: "a signing thread panicked".to_owned(),
                })
            }));
        }
        results
    });
    for part in results {
        out.extend(part.map_err(sign_failure)?);
    }
    Ok(out)
}
