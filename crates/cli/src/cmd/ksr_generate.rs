//! `ceremony ksr generate`: the zone operator's side, a KSR from a set of ZSKs and a schedule.
//!
//! The ZSKs come from the configuration's keystore or HSM (`--zsk NAME`),
//! or from key files (`--zsk-file`): a PEM private key (Knot DNS keeps its
//! keys so, in the KASP database's `keys/`), or a BIND `K*.key` public key
//! file, which serves the text formats only, since the ICANN format's proof
//! of possession needs each ZSK to sign. Each may be limited to some
//! bundles with `@FIRST-LAST` (1-based, inclusive). The bundles start at
//! `--start` and every `--interval` after; in the ICANN format each is
//! valid for `--validity` and signed by each of its ZSKs.

use std::path::Path;

use ceremony_dnssec::{parse_name, Dnskey, SecurityAlgorithm};
use ceremony_formats::model::{ProofOfPossession, TextKsr};
use ceremony_formats::{bind, icann, knot, Bundle, Duration, Header, Key, Ksr, SignaturePolicy};
use ceremony_keys::soft::SoftKey;
use ceremony_keys::{KeyError, KeyIdentity, KeySigner};
use ceremony_signer::backends::load_keys;
use ceremony_signer::request::{generate_ksr, Schedule, ZskSlots};
use ceremony_signer::SignerConfig;
use jiff::Timestamp;
use serde_json::json;

use super::sign::{parse_seconds, sign_failure, TerminalPrompt};
use super::{emit, emit_json, write_output};
use crate::args::{Format, Global, KsrGenerateArgs};
use crate::{render, Env, Failure};

/// A ZSK as the KSR shows it: flags 256, whatever its backend calls it.
struct Zsk<'a> {
    identity: KeyIdentity,
    dnskey: Dnskey,
    /// The key that signs, if it can (a BIND `.key` file cannot).
    signer: Option<Box<dyn KeySigner + 'a>>,
    /// Its name in the KSR (ICANN keyIdentifier).
    name: String,
    first: usize,
    last: usize,
}

/// A key loaded from the keystore or an HSM, lent to a [`Zsk`].
struct Lent<'a>(&'a dyn KeySigner);

impl KeySigner for Lent<'_> {
    fn identity(&self) -> &KeyIdentity {
        self.0.identity()
    }

    fn dnskey(&self) -> &Dnskey {
        self.0.dnskey()
    }

    fn sign(&self, signed_data: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.0.sign(signed_data)
    }
}

impl KeySigner for Zsk<'_> {
    fn identity(&self) -> &KeyIdentity {
        &self.identity
    }

    fn dnskey(&self) -> &Dnskey {
        &self.dnskey
    }

    fn sign(&self, signed_data: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.signer {
            Some(signer) => signer.sign(signed_data),
            None => Err(KeyError::BadKey {
                what: self.identity.label.clone(),
                reason: "a public key file cannot sign".to_owned(),
            }),
        }
    }
}

/// `SOURCE[@FIRST-LAST]` into the source and the slot range.
fn slots(spec: &str, bundles: usize) -> Result<(&str, usize, usize), Failure> {
    let Some((source, range)) = spec.rsplit_once('@') else {
        return Ok((spec, 1, bundles));
    };
    let bad = || {
        Failure::input(format!(
            "{spec:?}: bundles are given as @FIRST-LAST, 1 to {bundles}"
        ))
    };
    let (first, last) = match range.split_once('-') {
        Some((a, b)) => (a, b),
        None => (range, range),
    };
    let first: usize = first.parse().map_err(|_| bad())?;
    let last: usize = last.parse().map_err(|_| bad())?;
    if first < 1 || first > last || last > bundles {
        return Err(bad());
    }
    Ok((source, first, last))
}

fn zsk_flags(dnskey: &Dnskey) -> Result<Dnskey, Failure> {
    Dnskey::new(256, 3, dnskey.algorithm(), dnskey.public_key().to_vec())
        .map_err(|e| Failure::input(format!("ZSK: {e}")))
}

/// Reads a key file: a PEM private key, or a BIND `K*.key` DNSKEY record.
fn key_file(path: &Path, first: usize, last: usize) -> Result<Zsk<'static>, Failure> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let text = ceremony_formats::read_text_file(path)?;
    if text.contains("-----BEGIN") {
        let key = SoftKey::from_pem(&name, &text)
            .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
        let dnskey = zsk_flags(key.dnskey())?;
        return Ok(Zsk {
            identity: key.identity().clone(),
            dnskey,
            signer: Some(Box::new(key)),
            name,
            first,
            last,
        });
    }
    let dnskey = bind_key_record(&text).map_err(|why| {
        Failure::input(format!(
            "{}: neither a PEM private key nor a BIND K*.key DNSKEY record: {why}",
            path.display()
        ))
    })?;
    Ok(Zsk {
        identity: KeyIdentity {
            label: name.clone(),
            algorithm: dnskey.algorithm(),
            bits: dnskey.params().map_or(0, |p| p.bits()),
        },
        dnskey: zsk_flags(&dnskey)?,
        signer: None,
        name,
        first,
        last,
    })
}

/// The DNSKEY of a BIND `.key` file: `owner [ttl] [IN] DNSKEY flags 3 alg base64…`.
fn bind_key_record(text: &str) -> Result<Dnskey, String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(';'))
        .ok_or("no record")?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let at = fields
        .iter()
        .position(|f| f.eq_ignore_ascii_case("DNSKEY"))
        .ok_or("no DNSKEY record")?;
    let number = |i: usize| -> Result<u64, String> {
        fields
            .get(at + i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| format!("field {i} after DNSKEY is not a number"))
    };
    let (flags, protocol, algorithm) = (number(1)?, number(2)?, number(3)?);
    let key = base64_decode(&fields[at + 4..].concat()).ok_or("the public key is not base64")?;
    Dnskey::new(
        u16::try_from(flags).map_err(|_| "flags out of range")?,
        u8::try_from(protocol).map_err(|_| "protocol out of range")?,
        SecurityAlgorithm::from_int(u8::try_from(algorithm).map_err(|_| "algorithm out of range")?),
        key,
    )
    .map_err(|e| e.to_string())
}

/// Standard base64 (RFC 4648 §4) with padding, as DNSKEY records write it.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let last = i == bytes.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | value(c)?;
        }
        n <<= 6 * pad as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - pad]);
    }
    Some(out)
}

pub fn run(args: KsrGenerateArgs, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    let now = super::now(global, env)?;
    let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
    let format = match args.format {
        Format::Auto | Format::Icann => ceremony_formats::Format::Icann,
        Format::Knot => ceremony_formats::Format::Knot,
        Format::Bind => ceremony_formats::Format::Bind,
    };
    parse_name(&args.zone).map_err(|e| Failure::input(format!("--zone {:?}: {e}", args.zone)))?;
    let start = match &args.start {
        None => now,
        Some(text) => text.parse::<Timestamp>().map_err(|e| {
            Failure::input(format!("--start {text:?} is not an RFC 3339 instant: {e}"))
        })?,
    };
    if args.bundles == 0 {
        return Err(Failure::input("--bundles must be at least 1"));
    }
    let interval = parse_seconds("--interval", &args.interval)?;
    let validity = parse_seconds("--validity", &args.validity)?;
    if interval <= 0 || validity <= 0 {
        return Err(Failure::input("--interval and --validity must be positive"));
    }
    if args.zsk.is_empty() && args.zsk_file.is_empty() {
        return Err(Failure::input(
            "no ZSK: give --zsk NAME (with --config) or --zsk-file FILE",
        ));
    }

    let mut names = Vec::new();
    let mut ranges = Vec::new();
    for spec in &args.zsk {
        let (name, first, last) = slots(spec, args.bundles)?;
        names.push(name.to_owned());
        ranges.push((first, last));
    }
    let loaded = match &args.config {
        _ if names.is_empty() => None,
        None => {
            return Err(Failure::input(
                "--zsk names keys of a configuration: add --config CFG",
            ))
        }
        Some(config_path) => {
            let config = SignerConfig::load(config_path).map_err(sign_failure)?;
            let config_dir = config_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            Some(load_keys(&config, &config_dir, &names, &TerminalPrompt).map_err(sign_failure)?)
        }
    };
    let mut zsks: Vec<Zsk<'_>> = Vec::new();
    for spec in &args.zsk_file {
        let (path, first, last) = slots(spec, args.bundles)?;
        zsks.push(key_file(Path::new(path), first, last)?);
    }
    if let Some(loaded) = &loaded {
        for (name, (first, last)) in names.iter().zip(ranges) {
            let key = loaded
                .get(name)
                .ok_or_else(|| Failure::input(format!("key {name:?} was not loaded")))?;
            zsks.push(Zsk {
                identity: key.identity().clone(),
                dnskey: zsk_flags(key.dnskey())?,
                signer: Some(Box::new(Lent(key))),
                name: name.clone(),
                first,
                last,
            });
        }
    }
    for (slot, bundle_zsks) in (1..=args.bundles).map(|s| {
        (
            s,
            zsks.iter()
                .filter(|z| (z.first..=z.last).contains(&s))
                .count(),
        )
    }) {
        if bundle_zsks == 0 {
            return Err(Failure::input(format!("bundle {slot} would hold no ZSK")));
        }
    }

    let schedule = Schedule {
        start,
        bundles: args.bundles,
        interval: Duration::from_seconds(interval),
        validity: Duration::from_seconds(validity),
    };
    let id = args.id.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            args.zone.trim_end_matches('.').replace('.', "-"),
            start.strftime("%Y%m%dT%H%M%SZ")
        )
        .trim_start_matches('-')
        .to_owned()
    });
    let text = match format {
        ceremony_formats::Format::Icann => {
            if let Some(zsk) = zsks.iter().find(|z| z.signer.is_none()) {
                return Err(Failure::input(format!(
                    "{}: the ICANN format needs each ZSK to sign its bundles (proof of possession), and a public key file cannot",
                    zsk.name
                ))
                .hint("give the private key (a PEM file, or --zsk from the keystore or HSM), or write --format knot|bind"));
            }
            let slots: Vec<ZskSlots<'_>> = zsks
                .iter()
                .map(|z| ZskSlots {
                    key: z,
                    key_identifier: z.name.clone(),
                    first: z.first,
                    last: z.last,
                })
                .collect();
            let mut ksr =
                generate_ksr(&args.zone, &id, &slots, &schedule, args.ttl).map_err(sign_failure)?;
            ksr.timestamp = Some(now);
            icann::write_ksr(&ksr)
        }
        text_format => {
            let ksr = text_ksr(&args.zone, &zsks, &schedule, args.ttl, now)?;
            let text = TextKsr {
                ksr,
                generator: match text_format {
                    ceremony_formats::Format::Bind => bind::BIND_VERSION.to_owned(),
                    _ => knot::KNOT_VERSION.to_owned(),
                },
            };
            match text_format {
                ceremony_formats::Format::Bind => bind::write_ksr(&text),
                _ => knot::write_ksr(&text),
            }
        }
    };
    // What we wrote must read back as a KSR of its format.
    let document = format
        .parse(&text, &args.output.display().to_string())
        .map_err(|e| Failure::input(format!("the generated KSR does not read back: {e}")))?;
    let written = write_output(&args.output, &text)?;
    if global.json {
        emit_json(
            env,
            &json!({
                "format": format.name(),
                "zone": args.zone,
                "bundles": document.bundles().len(),
                "zsks": zsks.iter().map(|z| json!({"name": z.name, "key_tag": z.dnskey.key_tag().0, "first": z.first, "last": z.last})).collect::<Vec<_>>(),
                "output": render::file_json(&written.facts()),
            }),
        )?;
    } else {
        let mut out = format!(
            "Wrote a {} KSR for {} with {} bundles{}:\n\n",
            format.name(),
            args.zone,
            document.bundles().len(),
            if format == ceremony_formats::Format::Icann {
                ", each signed by its ZSKs (proof of possession)"
            } else {
                ""
            }
        );
        out.push_str(&render::file_heading("KSR", &written.facts()));
        out.push_str(&render::document(&document));
        emit(env, &out)?;
    }
    Ok(0)
}

/// A Knot DNS or BIND 9 request: per bundle its instant and ZSKs; it lasts until the next.
fn text_ksr(
    zone: &str,
    zsks: &[Zsk<'_>],
    schedule: &Schedule,
    ttl: u32,
    now: Timestamp,
) -> Result<Ksr, Failure> {
    let mut bundles = Vec::with_capacity(schedule.bundles);
    for slot in 1..=schedule.bundles {
        let offset = schedule.interval.as_seconds() * (slot as i64 - 1);
        let inception = Timestamp::from_second(schedule.start.as_second() + offset)
            .map_err(|e| Failure::input(format!("bundle {slot}: {e}")))?;
        let keys: Vec<Key> = zsks
            .iter()
            .filter(|z| (z.first..=z.last).contains(&slot))
            .map(|z| Key {
                key_identifier: z.dnskey.key_tag().to_string(),
                key_tag: z.dnskey.key_tag(),
                ttl,
                dnskey: z.dnskey.clone(),
            })
            .collect();
        bundles.push(Bundle {
            id: inception.as_second().to_string(),
            inception,
            expiration: inception,
            signers: Vec::new(),
            keys,
            signatures: Vec::new(),
        });
    }
    for i in 0..bundles.len().saturating_sub(1) {
        bundles[i].expiration = bundles[i + 1].inception;
    }
    let zero = Duration::from_seconds(0);
    Ok(Ksr {
        header: Header {
            id: bundles.first().map(|b| b.id.clone()).unwrap_or_default(),
            serial: 0,
            domain: zone.to_owned(),
        },
        timestamp: Some(now),
        zsk_policy: SignaturePolicy {
            publish_safety: zero,
            retire_safety: zero,
            max_signature_validity: zero,
            min_signature_validity: zero,
            max_validity_overlap: zero,
            min_validity_overlap: zero,
            algorithms: Vec::new(),
        },
        bundles,
        proof_of_possession: ProofOfPossession::NotInFormat,
    })
}
