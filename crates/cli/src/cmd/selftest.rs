//! `ceremony selftest`: known-answer tests before the ceremony machine is used.

use std::path::Path;

use ceremony_signer::backends::load_keys;
use ceremony_signer::{selftest, SignerConfig};
use serde_json::json;

use super::sign::{sign_failure, TerminalPrompt};
use super::{emit, emit_json};
use crate::args::Global;
use crate::{Env, Failure, EXIT_CHECKS_FAILED};

pub fn run(config: Option<&Path>, global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    let mut results = selftest::run(None);
    if let Some(path) = config {
        let config = SignerConfig::load(path).map_err(sign_failure)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let keys = load_keys(&config, &dir, &[], &TerminalPrompt).map_err(sign_failure)?;
        for name in config.keys.keys() {
            if let Some(key) = keys.get(name) {
                results.extend(
                    selftest::run(Some(key))
                        .into_iter()
                        .filter(|t| t.name.starts_with("HSM")),
                );
            }
        }
    }
    let failed = results.iter().filter(|t| t.result.is_err()).count();
    if global.json {
        let items: Vec<_> = results
            .iter()
            .map(|t| json!({"name": t.name, "passed": t.result.is_ok(), "error": t.result.as_ref().err()}))
            .collect();
        emit_json(env, &json!({"ok": failed == 0, "tests": items}))?;
    } else {
        let mut out = String::from("Self-test\n");
        for t in &results {
            match &t.result {
                Ok(()) => out.push_str(&format!("  ✓ {}\n", t.name)),
                Err(why) => out.push_str(&format!("  ✗ {}\n      {why}\n", t.name)),
            }
        }
        out.push_str(&if failed == 0 {
            format!("\nResult: PASSED, all {} tests\n", results.len())
        } else {
            format!(
                "\nResult: FAILED, {failed} of {} tests; do not use this machine for a ceremony\n",
                results.len()
            )
        });
        emit(env, &out)?;
    }
    Ok(if failed == 0 { 0 } else { EXIT_CHECKS_FAILED })
}
