//! `ceremony skr verify`: the SKR's signatures, and with `--ksr` its answer to the KSR.

use ceremony_formats::anchor::TrustAnchor;
use ceremony_policy::{verify_skr, SkrContext, ROOT_ANCHORS_XML};
use serde_json::json;

use super::{emit, emit_json, expect_ksr, expect_skr, load_config, read_document};
use crate::args::{Format, Global, SkrCommand};
use crate::{render, Env, Failure};

pub fn run(command: SkrCommand, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    let SkrCommand::Verify {
        skr,
        ksr,
        previous_skr,
        trust_anchor,
        config,
    } = command;
    let (config, policy_name) = load_config(config.as_deref())?;
    let skr_path = skr;
    let (input, skr) = expect_skr(read_document(&skr_path, Format::Auto)?)?;
    let ksr = ksr
        .map(|path| read_document(&path, Format::Auto).and_then(expect_ksr))
        .transpose()?;
    let previous = previous_skr
        .map(|path| read_document(&path, Format::Auto).and_then(expect_skr))
        .transpose()?;
    let (anchors, anchor_source) = match trust_anchor {
        Some(path) => {
            let name = path.display().to_string();
            let text = ceremony_formats::read_text_file(&path)?;
            (Some(TrustAnchor::parse(&text, &name)?), name)
        }
        None if skr.header.domain == "." => (
            Some(TrustAnchor::parse(
                ROOT_ANCHORS_XML,
                "built-in root anchors",
            )?),
            "built-in IANA root anchors (KSK-2010, KSK-2017)".to_owned(),
        ),
        None => (None, "none".to_owned()),
    };
    let text_skr = match input.format {
        ceremony_formats::Format::Knot => Some(ceremony_formats::knot::parse_skr(
            &ceremony_formats::read_text_file(&skr_path)?,
            &input.name,
        )?),
        ceremony_formats::Format::Bind => Some(ceremony_formats::bind::parse_skr(
            &ceremony_formats::read_text_file(&skr_path)?,
            &input.name,
        )?),
        ceremony_formats::Format::Icann => None,
    };
    let mut report = verify_skr(
        &skr,
        &SkrContext {
            policy: &config.response_policy,
            ksr: ksr.as_ref().map(|(_, k)| k),
            anchors: anchors.as_ref(),
            previous: previous.as_ref().map(|(_, p)| (p, &config.request_policy)),
        },
    );
    if let Some(text) = &text_skr {
        // Knot DNS and BIND 9 SKRs answer by their own rules (textsign::verify_text_skr).
        report.merge(ceremony_signer::textsign::verify_text_skr(
            text,
            ksr.as_ref().map(|(_, k)| k),
            config.response_policy.validate_signatures,
        ));
    }
    if global.json {
        emit_json(
            env,
            &json!({
                "file": render::file_json(&input.facts()),
                "ksr": ksr.as_ref().map(|(k, _)| render::file_json(&k.facts())),
                "previous_skr": previous.as_ref().map(|(p, _)| render::file_json(&p.facts())),
                "trust_anchors": anchor_source,
                "policy": policy_name,
                "document": render::document_json(&input.document),
                "report": render::report_json(&report),
            }),
        )?;
    } else {
        let mut out = render::file_heading("SKR", &input.facts());
        out.push_str(&render::document(&input.document));
        for (label, other) in [
            ("KSR", &ksr.as_ref().map(|(i, _)| i)),
            ("Previous SKR", &previous.as_ref().map(|(i, _)| i)),
        ] {
            if let Some(other) = other {
                out.push('\n');
                out.push_str(&render::file_heading(label, &other.facts()));
            }
        }
        out.push_str(&render::report(
            &report,
            &format!("{policy_name}; trust anchors: {anchor_source}"),
        ));
        emit(env, &out)?;
    }
    Ok(super::verdict(&report))
}
