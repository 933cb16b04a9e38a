//! The output files beside a transcript, against the SHA-256 each
//! `file_written` entry logged.
//!
//! A ceremony writes its outputs into the ceremony directory, beside
//! `transcript/`, and logs each one (name relative to that directory, and
//! SHA-256) before renaming it into place. [`check_outputs`] reads each
//! logged file back and says how it compares; `ceremony transcript verify`
//! turns every [`OutputCheck::problem`] into a failure.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::entry::Digest;
use crate::error::Error;
use crate::log::TRANSCRIPT_DIR;
use crate::verify::Timeline;

/// How an output file compares with its `file_written` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputStatus {
    /// In place, with the logged hash.
    Matches,
    /// A later entry wrote the same name again; that one is checked.
    Superseded {
        /// The later entry.
        by: u64,
    },
    /// Logged after the last checkpoint of a ceremony that did not close:
    /// the write was interrupted between its entry and its rename.
    Interrupted,
    /// Not there.
    Missing,
    /// There, with another hash.
    Differs {
        /// The file's SHA-256.
        actual: Digest,
    },
    /// The logged name is not a path inside the ceremony directory.
    BadName,
}

impl OutputStatus {
    /// Its name in machine-readable reports.
    pub fn name(&self) -> &'static str {
        match self {
            OutputStatus::Matches => "ok",
            OutputStatus::Superseded { .. } => "rewritten",
            OutputStatus::Interrupted => "interrupted",
            OutputStatus::Missing => "missing",
            OutputStatus::Differs { .. } => "changed",
            OutputStatus::BadName => "bad_name",
        }
    }
}

/// One logged output file, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputCheck {
    /// The `file_written` entry's index.
    pub entry: u64,
    /// The logged name, relative to the ceremony directory.
    pub name: String,
    /// The logged SHA-256.
    pub sha256: Digest,
    /// How the file compares.
    pub status: OutputStatus,
}

impl OutputCheck {
    /// What is wrong, naming the file, for a status that is tampering
    /// (missing, changed, a bad name); `None` otherwise.
    pub fn problem(&self) -> Option<String> {
        match &self.status {
            OutputStatus::Missing => Some(format!(
                "{} is missing: the transcript says it was written, with SHA-256 {}",
                self.name, self.sha256
            )),
            OutputStatus::Differs { actual } => Some(format!(
                "{} has SHA-256 {actual}, but the transcript logged {}",
                self.name, self.sha256
            )),
            OutputStatus::BadName => Some(format!(
                "the file name {:?} is not a path inside the ceremony directory",
                self.name
            )),
            OutputStatus::Matches | OutputStatus::Superseded { .. } | OutputStatus::Interrupted => {
                None
            }
        }
    }
}

/// The path a logged name stands for inside `ceremony_dir`, if it is one:
/// relative, `/`-separated, no `.`/`..`/empty parts, not in `transcript/`.
pub fn logged_path(ceremony_dir: &Path, name: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = name.split('/').collect();
    let plain = parts
        .iter()
        .all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains(['\\', '\0']));
    (plain && parts[0] != TRANSCRIPT_DIR)
        .then(|| parts.iter().fold(ceremony_dir.to_owned(), |d, p| d.join(p)))
}

/// The SHA-256 of a file, read in blocks.
fn sha256_file(path: &Path) -> std::io::Result<Digest> {
    let mut file = std::fs::File::open(path)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    Ok(Digest(out))
}

/// Compares every output file of the ceremony in `ceremony_dir` with its
/// latest `file_written` entry in `timeline`.
///
/// # Errors
/// [`Error::Io`] when a file is there but cannot be read.
pub fn check_outputs(ceremony_dir: &Path, timeline: &Timeline) -> Result<Vec<OutputCheck>, Error> {
    let interruptible = |entry: u64| !timeline.is_closed() && entry >= timeline.signed_size();
    let mut latest = std::collections::BTreeMap::new();
    for (i, f) in timeline.files_written() {
        latest.insert(f.name.as_str(), i);
    }
    let mut checks = Vec::new();
    for (i, f) in timeline.files_written() {
        let status = if let Some(&by) = latest.get(f.name.as_str()).filter(|&&by| by != i) {
            OutputStatus::Superseded { by }
        } else if let Some(path) = logged_path(ceremony_dir, &f.name) {
            match sha256_file(&path) {
                Ok(actual) if actual == f.sha256 => OutputStatus::Matches,
                Ok(actual) => OutputStatus::Differs { actual },
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    if interruptible(i) {
                        OutputStatus::Interrupted
                    } else {
                        OutputStatus::Missing
                    }
                }
                Err(err) => return Err(Error::io(path)(err)),
            }
        } else {
            OutputStatus::BadName
        };
        checks.push(OutputCheck {
            entry: i,
            name: f.name.clone(),
            sha256: f.sha256,
            status,
        });
    }
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_names_stay_inside_the_ceremony() {
        let dir = Path::new("/c");
        assert_eq!(
            logged_path(dir, "skr.xml"),
            Some(PathBuf::from("/c/skr.xml"))
        );
        assert_eq!(
            logged_path(dir, "out/skr.xml"),
            Some(PathBuf::from("/c/out/skr.xml"))
        );
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "./a",
            "a//b",
            "transcript/entries",
            "a\\b",
        ] {
            assert_eq!(logged_path(dir, bad), None, "{bad:?}");
        }
    }
}
