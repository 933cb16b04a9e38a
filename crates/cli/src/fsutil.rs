//! Writing output files so that a failure never leaves a partial one.

use std::io::Write;
use std::path::Path;

use crate::Failure;

/// Writes `bytes` to `path` through a temporary file in the same directory, then renames.
///
/// The data is synced before the rename, so after a crash the file is
/// either the old one or the complete new one.
///
/// # Errors
/// [`Failure`] with exit code 3, naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fail = |what: &str, err: std::io::Error| {
        Failure::environment(format!("{}: cannot {what}: {err}", path.display()))
    };
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| fail("create", e))?;
        file.write_all(bytes).map_err(|e| fail("write", e))?;
        file.sync_all().map_err(|e| fail("sync", e))?;
        std::fs::rename(&tmp, path).map_err(|e| fail("rename into place", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
