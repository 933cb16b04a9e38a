//! Durable file writes.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;

use crate::error::Error;

/// Writes `bytes` to `path` atomically and durably: a temporary file beside
/// it, fsync, rename over `path`, fsync of the directory. A crash leaves
/// either the old file or the new one, never a mix.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(Error::io(&tmp))?;
    file.write_all(bytes).map_err(Error::io(&tmp))?;
    file.sync_all().map_err(Error::io(&tmp))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(Error::io(path))?;
    sync_dir(dir)
}

/// Fsyncs a directory, so that the names created or renamed in it survive
/// a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io(dir))
}
