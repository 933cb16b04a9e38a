//! `ceremony ksr validate`: every KSR check, as the KSK operator runs them before signing.

use ceremony_policy::{validate_ksr, KsrContext};
use serde_json::json;

use super::{emit, emit_json, expect_ksr, expect_skr, load_config, now, read_document, verdict};
use crate::args::{Format, Global, KsrCommand};
use crate::{render, Env, Failure};

pub fn run(command: KsrCommand, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    match command {
        KsrCommand::Generate(args) => super::ksr_generate::run(args, global, env),
        KsrCommand::Validate {
            ksr,
            previous_skr,
            config,
            format,
        } => {
            let now = now(global, env)?;
            let (mut config, mut policy_name) = load_config(config.as_deref())?;
            let (input, ksr) = expect_ksr(read_document(&ksr, format)?)?;
            if let Some(peer) = ceremony_signer::textsign::Peer::of_format(input.format) {
                // Knot DNS and BIND 9 KSRs are held to the text preset, as `ceremony sign`
                // holds them; knobs the configuration sets override it.
                config.request_policy = ceremony_signer::textsign::overlay_request_policy(
                    ceremony_signer::textsign::request_policy(
                        peer,
                        &ksr.header.domain,
                        ksr.bundles
                            .first()
                            .and_then(|b| b.keys.first())
                            .map_or(172_800, |k| k.ttl),
                    ),
                    &config.request_policy,
                );
                policy_name = if policy_name == "root defaults" {
                    format!("the {} preset", peer.name())
                } else {
                    format!("the {} preset with the knobs of {policy_name}", peer.name())
                };
            }
            let previous = previous_skr
                .map(|path| read_document(&path, Format::Auto).and_then(expect_skr))
                .transpose()?;
            let report = validate_ksr(
                &ksr,
                &KsrContext {
                    policy: &config.request_policy,
                    previous: previous.as_ref().map(|(_, skr)| skr),
                    now,
                    ksk_tags: &[],
                },
            );
            if global.json {
                emit_json(
                    env,
                    &json!({
                        "file": render::file_json(&input.facts()),
                        "previous_skr": previous.as_ref().map(|(p, _)| render::file_json(&p.facts())),
                        "policy": policy_name,
                        "now": now.to_string(),
                        "document": render::document_json(&input.document),
                        "report": render::report_json(&report),
                    }),
                )?;
            } else {
                let mut out = render::file_heading("KSR", &input.facts());
                out.push_str(&render::document(&input.document));
                if let Some((prev, _)) = &previous {
                    out.push('\n');
                    out.push_str(&render::file_heading("Previous SKR", &prev.facts()));
                }
                out.push_str(&render::report(
                    &report,
                    &format!("{policy_name}, as of {now}"),
                ));
                emit(env, &out)?;
            }
            Ok(verdict(&report))
        }
    }
}
