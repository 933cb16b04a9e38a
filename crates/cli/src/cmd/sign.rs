//! `ceremony sign`: the act every ceremony exists for.
//!
//! Shows the KSR's hash words and bundles, runs every check, asks for the
//! word `Yes`, signs, re-verifies, writes the SKR atomically, and shows the
//! SKR's hash words for the room to compare.

use std::path::{Path, PathBuf};

use ceremony_formats::{icann, Document};
use ceremony_keys::pkcs11::Pin;
use ceremony_keys::KeyError;
use ceremony_signer::backends::{load_keys, Prompt};
use ceremony_signer::{check, sign_ksr, SignError, SignRequest, SignerConfig};
use serde_json::json;

use super::{confirm, emit, emit_json, expect_ksr, expect_skr, now, read_document, write_output};
use crate::args::{Format, Global};
use crate::render;
use crate::{Env, Failure, EXIT_CHECKS_FAILED};

pub struct SignArgs {
    pub ksr: PathBuf,
    pub config: PathBuf,
    pub schema: String,
    pub previous_skr: Option<PathBuf>,
    pub output: PathBuf,
    pub yes: bool,
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
    let (input, ksr) = expect_ksr(read_document(&args.ksr, Format::Auto)?)?;
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
    let keys = load_keys(&config, &config_dir, &names, &TerminalPrompt).map_err(sign_failure)?;
    let ring = keys.ring();
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
    let written = write_output(&args.output, &icann::write_skr(&signed.skr))?;
    let facts = written.facts();
    if global.json {
        emit_json(
            env,
            &json!({
                "file": render::file_json(&input.facts()),
                "report": render::report_json(&signed.report),
                "output": render::file_json(&facts),
                "keys": keys.sources.iter().map(|(n, s)| json!({"name": n, "source": s})).collect::<Vec<_>>(),
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
    Ok(0)
}
