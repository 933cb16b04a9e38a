//! `ceremony hash`: SHA-256 hex and PGP words of files, streamed, any size.

use std::io::Read;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::{emit, emit_json};
use crate::args::Global;
use crate::{Env, Failure};
use ceremony_formats::Fingerprint;

pub fn run(files: &[PathBuf], global: &Global, env: &mut dyn Env) -> Result<u8, Failure> {
    let mut results = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let (fingerprint, size) = if name == "-" {
            digest(env.stdin(), "standard input")?
        } else {
            let file = std::fs::File::open(path)
                .map_err(|err| Failure::input(format!("{name}: cannot read: {err}")))?;
            digest(file, &name)?
        };
        results.push((name, size, fingerprint));
    }
    if global.json {
        let items: Vec<_> = results
            .iter()
            .map(|(name, size, fp)| serde_json::json!({"name": name, "size": size, "sha256": fp.hex(), "words": fp.words()}))
            .collect();
        emit_json(env, &serde_json::Value::Array(items))?;
    } else {
        let mut out = String::new();
        for (name, size, fp) in &results {
            out.push_str(&format!(
                "{name}  ({size} bytes)\n  SHA-256  {}\n{}\n",
                fp.hex(),
                fp.words_block("  ")
            ));
        }
        emit(env, &out)?;
    }
    Ok(0)
}

fn digest(mut reader: impl Read, name: &str) -> Result<(Fingerprint, u64), Failure> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(Failure::input(format!("{name}: cannot read: {err}"))),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((
        Fingerprint {
            sha256: hasher.finalize().into(),
        },
        size,
    ))
}
