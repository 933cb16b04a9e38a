//! How documents and reports look to the administrator reading them aloud, and as JSON.

use std::fmt::Write as _;

use ceremony_formats::{Bundle, Document};
use ceremony_policy::{Outcome, Report};
use serde_json::{json, Value};

use ceremony_formats::Fingerprint;

/// A file as read: its name, size and hash.
pub struct FileFacts<'a> {
    /// The name as given on the command line.
    pub name: &'a str,
    /// Its size in bytes.
    pub size: usize,
    /// Its SHA-256.
    pub fingerprint: &'a Fingerprint,
}

/// The heading of a file: name, size, SHA-256 hex and words.
pub fn file_heading(kind: &str, file: &FileFacts<'_>) -> String {
    format!(
        "{kind} {}  ({} bytes)\n  SHA-256  {}\n{}\n",
        file.name,
        file.size,
        file.fingerprint.hex(),
        file.fingerprint.words_block("  ")
    )
}

fn short_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

fn key_tags(bundle: &Bundle) -> String {
    let mut zsk = Vec::new();
    let mut ksk = Vec::new();
    for key in &bundle.keys {
        let tag = key.dnskey.key_tag().to_string();
        match (key.dnskey.is_sep(), key.dnskey.is_revoked()) {
            (false, _) => zsk.push(tag),
            (true, false) => ksk.push(tag),
            (true, true) => ksk.push(format!("{tag}(revoked)")),
        }
    }
    let mut out = zsk.join(" ");
    if !ksk.is_empty() {
        let _ = write!(out, " | KSK {}", ksk.join(" "));
    }
    out
}

fn signer_tags(bundle: &Bundle) -> String {
    let tags: Vec<String> = bundle
        .signatures
        .iter()
        .map(|s| s.key_tag.to_string())
        .collect();
    tags.join(" ")
}

/// The document's header and its bundle table.
pub fn document(doc: &Document) -> String {
    let header = doc.header();
    let mut out = format!(
        "  id {}  serial {}  domain {}\n\n   #  bundle    inception            expiration           keys (ZSK | KSK)            signed by\n",
        header.id, header.serial, header.domain
    );
    for (i, bundle) in doc.bundles().iter().enumerate() {
        let id: String = bundle.id.chars().take(8).collect();
        let _ = writeln!(
            out,
            "  {:>2}  {id:<8}  {}  {}  {:<26}  {}",
            i + 1,
            short_time(bundle.inception),
            short_time(bundle.expiration),
            key_tags(bundle),
            signer_tags(bundle)
        );
    }
    out
}

/// The checks, one line each, violations beneath, and the verdict.
pub fn report(report: &Report, context: &str) -> String {
    let mut out = format!("\nChecks ({context})\n");
    for result in &report.results {
        let (mark, text) = match &result.outcome {
            Outcome::Passed(text) => ("✓", text.clone()),
            Outcome::Failed(v) => (
                "✗",
                format!(
                    "{} violation{}",
                    v.len(),
                    if v.len() == 1 { "" } else { "s" }
                ),
            ),
            Outcome::Skipped(why) => ("-", format!("skipped: {why}")),
            Outcome::NotApplicable(why) => ("-", format!("not applicable: {why}")),
        };
        let _ = writeln!(out, "  {mark} {:<28} {text}", result.id.as_str());
        if let Outcome::Failed(violations) = &result.outcome {
            for violation in violations {
                let _ = writeln!(out, "      {}", violation.message);
            }
        }
    }
    let failed: Vec<&str> = report.failed().map(|id| id.as_str()).collect();
    let ran = report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Passed(_) | Outcome::Failed(_)))
        .count();
    if failed.is_empty() {
        let _ = writeln!(out, "\nResult: PASSED, all {ran} checks that ran passed");
    } else {
        let _ = writeln!(
            out,
            "\nResult: FAILED, {} of {ran} checks failed: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    out
}

/// A file's facts as JSON.
pub fn file_json(file: &FileFacts<'_>) -> Value {
    json!({
        "name": file.name,
        "size": file.size,
        "sha256": file.fingerprint.hex(),
        "words": file.fingerprint.words(),
    })
}

/// A document's header and bundles as JSON.
pub fn document_json(doc: &Document) -> Value {
    let header = doc.header();
    let bundles: Vec<Value> = doc
        .bundles()
        .iter()
        .map(|b| {
            json!({
                "id": b.id,
                "inception": b.inception.to_string(),
                "expiration": b.expiration.to_string(),
                "keys": b.keys.iter().map(|k| json!({
                    "key_identifier": k.key_identifier,
                    "key_tag": k.dnskey.key_tag().0,
                    "flags": k.dnskey.flags(),
                    "algorithm": k.dnskey.algorithm().to_int(),
                })).collect::<Vec<_>>(),
                "signers": b.signatures.iter().map(|s| s.key_tag.0).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "kind": match doc { Document::Ksr(_) => "ksr", Document::Skr(_) => "skr" },
        "id": header.id,
        "serial": header.serial,
        "domain": header.domain,
        "bundles": bundles,
    })
}

/// A report as JSON: each check with status, detail and violations.
pub fn report_json(report: &Report) -> Value {
    let checks: Vec<Value> = report
        .results
        .iter()
        .map(|r| {
            let (status, detail, violations) = match &r.outcome {
                Outcome::Passed(text) => ("passed", Some(text.as_str()), Vec::new()),
                Outcome::Failed(v) => ("failed", None, v.clone()),
                Outcome::Skipped(why) => ("skipped", Some(why.as_str()), Vec::new()),
                Outcome::NotApplicable(why) => ("not_applicable", Some(why.as_str()), Vec::new()),
            };
            json!({
                "id": r.id.as_str(),
                "description": r.id.description(),
                "status": status,
                "detail": detail,
                "violations": violations.iter().map(|v| json!({
                    "message": v.message,
                    "bundle": v.bundle,
                    "key_tag": v.key_tag.map(|t| t.0),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "ok": report.is_ok(), "checks": checks })
}
