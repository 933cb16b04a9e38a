//! `ceremony convert`: a KSR or SKR from one format to another, saying what is lost.
//!
//! The three formats hold different things. The ICANN XML has a request id
//! and serial, key identifiers, bundle expirations, stated policies and,
//! in a KSR, proof of possession; the Knot DNS and BIND 9 text formats have
//! none of these but carry CDNSKEY and CDS records with their signatures in
//! an SKR, and a bundle there is an instant, lasting until the next. Every
//! conversion keeps the zone, the bundle instants, the DNSKEY RRsets with
//! their TTLs and every signature over them, and lists what the target
//! cannot hold; nothing is dropped silently.

use std::path::Path;

use ceremony_formats::model::{ExtraRecords, ProofOfPossession, TextDocument, TextKsr, TextSkr};
use ceremony_formats::{bind, icann, knot, Bundle, Document, Skr};
use serde_json::json;

use super::{emit, emit_json, read_document, write_output};
use crate::args::{Format, Global};
use crate::{render, Env, Failure};

/// What a conversion gives: the text to write and what the target could not hold.
struct Converted {
    text: String,
    lost: Vec<String>,
    kind: &'static str,
}

pub fn run(
    input: &Path,
    to: Format,
    format: Format,
    output: &Path,
    global: &Global,
    env: &mut dyn Env,
) -> Result<u8, Failure> {
    let target = match to {
        Format::Icann => ceremony_formats::Format::Icann,
        Format::Knot => ceremony_formats::Format::Knot,
        Format::Bind => ceremony_formats::Format::Bind,
        Format::Auto => return Err(Failure::input("--to names a format: icann, knot or bind")),
    };
    let source = read_document(input, format)?;
    let converted = match source.format {
        ceremony_formats::Format::Icann => from_icann(&source.document, target),
        text_format => {
            let text = ceremony_formats::read_text_file(input)?;
            let parsed = match text_format {
                ceremony_formats::Format::Bind => bind::parse(&text, &source.name)?,
                _ => knot::parse(&text, &source.name)?,
            };
            let restored = if target == ceremony_formats::Format::Icann {
                to_icann(&text, &parsed, &source.name)?
            } else {
                None
            };
            match restored {
                Some(converted) => converted,
                None if embedded_original(&text).is_some() => {
                    let mut converted = from_text(parsed, text_format, target)?;
                    converted.lost.push(
                        "the ICANN original carried in comments: BIND's dnssec-ksr reads no comment lines, so converting back to ICANN needs the Knot file"
                            .to_owned(),
                    );
                    converted
                }
                None => from_text(parsed, text_format, target)?,
            }
        }
    };
    let written = write_output(output, &converted.text)?;
    if global.json {
        emit_json(
            env,
            &json!({
                "input": render::file_json(&source.facts()),
                "from": source.format.name(),
                "to": target.name(),
                "kind": converted.kind,
                "lost": converted.lost,
                "output": render::file_json(&written.facts()),
            }),
        )?;
    } else {
        let mut out = render::file_heading(converted.kind, &source.facts());
        out.push_str(&format!(
            "\nConverted the {} from {} to {}.\n",
            converted.kind,
            source.format.name(),
            target.name()
        ));
        if converted.lost.is_empty() {
            out.push_str("Nothing is lost: the target holds everything the source has.\n");
        } else {
            out.push_str(&format!(
                "Not carried over ({} cannot hold it):\n",
                target.name()
            ));
            for item in &converted.lost {
                out.push_str(&format!("  - {item}\n"));
            }
        }
        out.push('\n');
        out.push_str(&render::file_heading("Wrote", &written.facts()));
        emit(env, &out)?;
    }
    Ok(0)
}

/// Drops BIND's handover bundles, which no other format can hold, saying how many.
fn dropped_handovers(skr: &mut TextSkr) -> Option<String> {
    let dropped = skr.drop_handovers();
    (dropped > 0).then(|| {
        format!(
            "{dropped} BIND handover bundles: a last re-signing at the instant the next KSR bundle's answer starts, which is never in force (two bundles at one instant)"
        )
    })
}

fn generator(target: ceremony_formats::Format) -> String {
    match target {
        ceremony_formats::Format::Bind => bind::BIND_VERSION.to_owned(),
        _ => knot::KNOT_VERSION.to_owned(),
    }
}

fn write_text_ksr(ksr: &TextKsr, target: ceremony_formats::Format) -> String {
    match target {
        ceremony_formats::Format::Bind => bind::write_ksr(ksr),
        _ => knot::write_ksr(ksr),
    }
}

fn write_text_skr(skr: &TextSkr, target: ceremony_formats::Format) -> String {
    match target {
        ceremony_formats::Format::Bind => bind::write_skr(skr),
        _ => knot::write_skr(skr),
    }
}

/// A text bundle is named by its instant, as the target writes it.
fn text_bundle_id(bundle: &Bundle, target: ceremony_formats::Format) -> String {
    match target {
        ceremony_formats::Format::Bind => bundle.inception.strftime("%Y%m%d%H%M%S").to_string(),
        _ => bundle.inception.as_second().to_string(),
    }
}

/// Knot DNS writes its RRSIG RRset in canonical order (RFC 4034 §6.3): by
/// type covered, then the rest of the RDATA. BIND writes each RRSIG after
/// the RRset it covers, so a conversion to Knot's layout puts them back.
fn canonical_signatures(bundle: &mut Bundle, extra: &mut ExtraRecords) {
    fn key(sig: &ceremony_formats::Signature) -> Vec<u8> {
        let mut rdata = sig.type_covered.to_be_bytes().to_vec();
        rdata.push(sig.algorithm.to_int());
        rdata.push(sig.labels);
        rdata.extend_from_slice(&sig.original_ttl.to_be_bytes());
        rdata.extend_from_slice(&(sig.expiration.as_second() as u32).to_be_bytes());
        rdata.extend_from_slice(&(sig.inception.as_second() as u32).to_be_bytes());
        rdata.extend_from_slice(&sig.key_tag.0.to_be_bytes());
        rdata.extend_from_slice(&sig.signature_data);
        rdata
    }
    bundle.signatures.sort_by_key(key);
    extra.signatures.sort_by_key(key);
}

/// The prefix of the comment lines that carry an ICANN original through a text format.
const ORIGINAL: &str = "; icann| ";

/// Adds the ICANN original as comment lines before the closing line, which
/// Knot DNS ignores (BIND's `dnssec-ksr` refuses any comment), so that
/// converting back restores what the text format cannot hold.
fn embed_original(text: String, original: &str) -> String {
    let body_end = text.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
    let (body, closing) = text.split_at(body_end);
    let mut out = String::with_capacity(text.len() + original.len() * 2);
    out.push_str(body);
    out.push_str(
        "; The ICANN document this was converted from, for `ceremony convert --to icann`;\n",
    );
    out.push_str("; comments, which Knot DNS ignores.\n");
    for line in original.lines() {
        out.push_str(ORIGINAL);
        out.push_str(line.trim_end_matches('\r'));
        out.push('\n');
    }
    out.push_str(closing);
    out
}

/// The ICANN original carried as comments, if any.
fn embedded_original(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(ORIGINAL))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n") + "\n")
}

/// The zone, the bundle instants and the DNSKEY RRsets with their TTLs: what every format holds.
/// Per bundle: its start, and its DNSKEY RRset as (TTL, RDATA), sorted.
type Bundles = Vec<(i64, Vec<(u32, Vec<u8>)>)>;

fn substance(document: &Document) -> (String, Bundles) {
    let bundles = document
        .bundles()
        .iter()
        .map(|b| {
            let mut keys: Vec<(u32, Vec<u8>)> =
                b.keys.iter().map(|k| (k.ttl, k.dnskey.rdata())).collect();
            keys.sort();
            // An ICANN SKR bundle starts when its signatures do; a text one at its instant.
            (b.inception.as_second(), keys)
        })
        .collect();
    (document.header().domain.to_ascii_lowercase(), bundles)
}

fn from_icann(document: &Document, target: ceremony_formats::Format) -> Converted {
    let mut converted = from_icann_lossy(document, target);
    // Knot DNS reads comment lines in a KSR or SKR; BIND's dnssec-ksr does not.
    if target == ceremony_formats::Format::Knot {
        let original = match document {
            Document::Ksr(ksr) => icann::write_ksr(ksr),
            Document::Skr(skr) => icann::write_skr(skr),
        };
        converted.text = embed_original(converted.text, &original);
        for item in &mut converted.lost {
            item.push_str(" (kept in comments for converting back)");
        }
    }
    converted
}

fn from_icann_lossy(document: &Document, target: ceremony_formats::Format) -> Converted {
    match document {
        Document::Ksr(ksr) => {
            if target == ceremony_formats::Format::Icann {
                return Converted {
                    text: icann::write_ksr(ksr),
                    lost: Vec::new(),
                    kind: "KSR",
                };
            }
            let mut lost = icann_header_losses(&ksr.header.id, ksr.header.serial);
            lost.push(
                "each bundle's expiration: a text bundle lasts until the next starts, and the KSK side sets the signature validity"
                    .to_owned(),
            );
            let pop: usize = ksr.bundles.iter().map(|b| b.signatures.len()).sum();
            if pop > 0 {
                lost.push(format!(
                    "the proof of possession: {pop} ZSK self-signatures (KSR-BUNDLE-POP does not apply to the text formats)"
                ));
            }
            lost.push("the stated ZSK policy (safety periods, validity and overlap ranges); key identifiers".to_owned());
            if ksr.bundles.iter().any(|b| !b.signers.is_empty()) {
                lost.push("the <Signer> elements naming the KSKs to sign".to_owned());
            }
            let mut converted = ksr.clone();
            for bundle in &mut converted.bundles {
                bundle.signatures.clear();
                bundle.signers.clear();
                bundle.id = text_bundle_id(bundle, target);
            }
            converted.proof_of_possession = ProofOfPossession::NotInFormat;
            let text = TextKsr {
                ksr: converted,
                generator: generator(target),
            };
            Converted {
                text: write_text_ksr(&text, target),
                lost,
                kind: "KSR",
            }
        }
        Document::Skr(skr) => {
            if target == ceremony_formats::Format::Icann {
                return Converted {
                    text: icann::write_skr(skr),
                    lost: Vec::new(),
                    kind: "SKR",
                };
            }
            let mut lost = icann_header_losses(&skr.header.id, skr.header.serial);
            lost.push(
                "each bundle's stated expiration (the signatures keep theirs) and the stated KSK and ZSK policies; key identifiers"
                    .to_owned(),
            );
            let mut converted = skr.clone();
            let mut extra = Vec::with_capacity(converted.bundles.len());
            for bundle in &mut converted.bundles {
                bundle.id = text_bundle_id(bundle, target);
                let mut records = ExtraRecords::default();
                if target == ceremony_formats::Format::Knot {
                    canonical_signatures(bundle, &mut records);
                }
                extra.push(records);
            }
            let text = TextSkr {
                skr: converted,
                generator: generator(target),
                extra,
            };
            Converted {
                text: write_text_skr(&text, target),
                lost,
                kind: "SKR",
            }
        }
    }
}

fn icann_header_losses(id: &str, serial: u64) -> Vec<String> {
    vec![format!(
        "the request id {id:?} and serial {serial}: a text file is named by its first bundle's instant"
    )]
}

/// A text document back to ICANN: the embedded original when the text still
/// holds the same zone, instants and keys; else what the text holds.
fn to_icann(raw: &str, parsed: &TextDocument, name: &str) -> Result<Option<Converted>, Failure> {
    let (document, kind) = match parsed.clone().into_document() {
        doc @ Document::Ksr(_) => (doc, "KSR"),
        doc @ Document::Skr(_) => (doc, "SKR"),
    };
    let Some(original) = embedded_original(raw) else {
        return Ok(None);
    };
    let embedded = icann::parse(&original, &format!("{name} (its embedded ICANN original)"))?;
    let mut same = substance(&embedded) == substance(&document);
    if let (Document::Skr(a), Document::Skr(b)) = (&embedded, &document) {
        // Signatures are the substance of an SKR, and an ICANN bundle starts with them.
        let sigs = |skr: &Skr| -> Vec<Vec<u8>> {
            skr.bundles
                .iter()
                .flat_map(|b| b.signatures.iter().map(|s| s.signature_data.clone()))
                .collect()
        };
        same = same && sigs(a) == sigs(b);
    }
    if !same {
        return Err(Failure::input(format!(
            "{name}: its embedded ICANN original no longer matches its records (zone, instants, keys or signatures changed)"
        ))
        .hint("convert the changed document from its source again"));
    }
    Ok(Some(Converted {
        text: original,
        lost: Vec::new(),
        kind,
    }))
}

fn from_text(
    parsed: TextDocument,
    source: ceremony_formats::Format,
    target: ceremony_formats::Format,
) -> Result<Converted, Failure> {
    Ok(match parsed {
        TextDocument::Ksr(mut text) => {
            if target == ceremony_formats::Format::Icann {
                return Err(Failure::input(
                    "a Knot DNS or BIND 9 KSR has no proof of possession, and every bundle of an ICANN KSR must carry one (a signature by each ZSK)",
                )
                .hint("write the KSR with the ZSKs themselves: ceremony ksr generate --format icann"));
            }
            let mut lost = Vec::new();
            if source != target {
                lost.push(format!(
                    "the closing line's program name ({}): written as {}",
                    text.generator,
                    generator(target)
                ));
                text.generator = generator(target);
            }
            for bundle in &mut text.ksr.bundles {
                bundle.id = text_bundle_id(bundle, target);
            }
            Converted {
                text: write_text_ksr(&text, target),
                lost,
                kind: "KSR",
            }
        }
        TextDocument::Skr(mut text) => {
            if target == ceremony_formats::Format::Icann {
                let extras: usize = text
                    .extra
                    .iter()
                    .map(|e| e.cdnskeys.len() + e.cds.len() + e.signatures.len())
                    .sum();
                let mut lost = vec![format!(
                    "the closing line's program name ({})",
                    text.generator
                )];
                if extras > 0 {
                    lost.push(format!(
                        "the CDNSKEY and CDS records and their signatures ({extras} records): the ICANN format signs the DNSKEY RRset only"
                    ));
                }
                lost.push("each bundle's instant: an ICANN bundle runs from its signatures' inception to their expiration".to_owned());
                lost.extend(dropped_handovers(&mut text));
                let mut skr: Skr = text.skr;
                for bundle in &mut skr.bundles {
                    if let Some(sig) = bundle.signatures.first() {
                        bundle.inception = sig.inception;
                        bundle.expiration = sig.expiration;
                    }
                }
                return Ok(Converted {
                    text: icann::write_skr(&skr),
                    lost,
                    kind: "SKR",
                });
            }
            let mut lost = Vec::new();
            if source != target {
                lost.push(format!(
                    "the closing line's program name ({}): written as {}",
                    text.generator,
                    generator(target)
                ));
                text.generator = generator(target);
                if source == ceremony_formats::Format::Bind {
                    lost.extend(dropped_handovers(&mut text));
                    lost.push("which response bundles begin the answer to a KSR bundle (BIND's blank lines)".to_owned());
                    for extra in &mut text.extra {
                        extra.starts_request_bundle = false;
                    }
                }
            }
            let count = text.skr.bundles.len();
            text.extra.resize(count, ExtraRecords::default());
            for (bundle, extra) in text.skr.bundles.iter_mut().zip(&mut text.extra) {
                bundle.id = text_bundle_id(bundle, target);
                if target == ceremony_formats::Format::Knot {
                    canonical_signatures(bundle, extra);
                }
            }
            Converted {
                text: write_text_skr(&text, target),
                lost,
                kind: "SKR",
            }
        }
    })
}
