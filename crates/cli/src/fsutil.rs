//! Writing output files so that a failure never leaves a partial one.

use std::path::Path;

use crate::Failure;

/// Writes `bytes` to `path` through a synced temporary file in the same
/// directory, then renames: after a crash the file is either the old one or
/// the complete new one.
///
/// # Errors
/// [`Failure`] with exit code 3, naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    ceremony_durable::replace(path, bytes, ceremony_durable::Access::Public)
        .map_err(|e| Failure::environment(format!("{}: {e}", path.display())))
}
