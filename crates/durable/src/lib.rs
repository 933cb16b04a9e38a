//! All-or-nothing, durable file writes.
//!
//! Every file Ceremony writes (an SKR, a keystore entry, a share, a witness's
//! state) goes through here, so that a crash, a full disk or a refused write
//! never leaves a partial file where a reader expects a complete one. The
//! bytes go to a temporary file beside the target (same directory, so the
//! rename cannot cross file systems), the file is synced, it is renamed into
//! place, and the directory is synced so the new name survives a crash. On
//! any failure the temporary file is removed.
//!
//! [`create_new`] never replaces an existing file (a key or a share must
//! never be overwritten); [`replace`] does. [`Staged`] splits the two halves
//! for callers that must record a file's hash durably before it appears.
//! The temporary files come from `tempfile`, which names them unpredictably
//! and removes them on drop.

use std::fs::{File, Permissions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// The step of a write that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Creating the temporary file beside the target.
    Create,
    /// Writing the bytes.
    Write,
    /// Syncing the file to the disk.
    Sync,
    /// Renaming the file into place (or finding the target taken, for a new file).
    Rename,
    /// Syncing the directory, so that the new name survives a crash.
    SyncDir,
}

/// A write that failed, and at which step; the target is unchanged.
#[derive(Debug, thiserror::Error)]
#[error("cannot {}: {source}", step_text(*.step, .source))]
pub struct Error {
    /// The step that failed.
    pub step: Step,
    /// What the operating system said.
    #[source]
    pub source: io::Error,
}

impl Error {
    /// The kind of the I/O error: [`io::ErrorKind::AlreadyExists`] for a new file whose name is taken.
    pub fn kind(&self) -> io::ErrorKind {
        self.source.kind()
    }
}

fn step_text(step: Step, source: &io::Error) -> &'static str {
    match step {
        Step::Create => "create",
        Step::Write => "write",
        Step::Sync => "sync",
        Step::Rename if source.kind() == io::ErrorKind::AlreadyExists => "create (it exists)",
        Step::Rename => "rename into place",
        Step::SyncDir => "sync the directory",
    }
}

fn at(step: Step) -> impl FnOnce(io::Error) -> Error {
    move |source| Error { step, source }
}

/// Who may read the file written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Readable as the umask allows (mode 0666 before the umask): outputs such as an SKR.
    Public,
    /// The owner only (mode 0600): keys, shares, anything secret even when encrypted.
    Private,
}

/// A complete, synced temporary file waiting to be renamed to its target.
///
/// Dropping it without [`commit`](Staged::commit) removes the temporary file.
#[derive(Debug)]
pub struct Staged {
    file: NamedTempFile,
    target: PathBuf,
}

impl Staged {
    /// Writes `bytes` to a synced temporary file in `target`'s directory.
    ///
    /// # Errors
    /// [`Error`] at [`Step::Create`], [`Step::Write`] or [`Step::Sync`].
    pub fn new(target: &Path, bytes: &[u8], access: Access) -> Result<Staged, Error> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(".").suffix(".tmp");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = match access {
                Access::Public => 0o666,
                Access::Private => 0o600,
            };
            builder.permissions(Permissions::from_mode(mode));
        }
        #[cfg(not(unix))]
        let _ = (access, Permissions::clone);
        let mut file = builder
            .tempfile_in(parent(target))
            .map_err(at(Step::Create))?;
        file.write_all(bytes).map_err(at(Step::Write))?;
        file.as_file().sync_all().map_err(at(Step::Sync))?;
        Ok(Staged {
            file,
            target: target.to_owned(),
        })
    }

    /// The file this will become.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the file into place, replacing any file there, and syncs the directory.
    ///
    /// # Errors
    /// [`Error`] at [`Step::Rename`] or [`Step::SyncDir`].
    pub fn commit(self) -> Result<(), Error> {
        self.file
            .persist(&self.target)
            .map_err(|e| at(Step::Rename)(e.error))?;
        sync_dir(parent(&self.target)).map_err(at(Step::SyncDir))
    }

    /// Moves the file into place only if nothing is there, and syncs the directory.
    ///
    /// # Errors
    /// [`Error`] at [`Step::Rename`] (of kind [`io::ErrorKind::AlreadyExists`]
    /// when the target exists) or [`Step::SyncDir`].
    pub fn commit_new(self) -> Result<(), Error> {
        self.file
            .persist_noclobber(&self.target)
            .map_err(|e| at(Step::Rename)(e.error))?;
        sync_dir(parent(&self.target)).map_err(at(Step::SyncDir))
    }
}

/// Writes `bytes` to `path` all or nothing, replacing any file there.
///
/// # Errors
/// [`Error`] naming the step; `path` is then unchanged.
pub fn replace(path: &Path, bytes: &[u8], access: Access) -> Result<(), Error> {
    Staged::new(path, bytes, access)?.commit()
}

/// Writes `bytes` to a new file at `path`, all or nothing, never replacing one.
///
/// # Errors
/// [`Error`] naming the step, of kind [`io::ErrorKind::AlreadyExists`] when
/// `path` exists. Either way nothing is left behind.
pub fn create_new(path: &Path, bytes: &[u8], access: Access) -> Result<(), Error> {
    if path.exists() {
        // Fail before writing anything; commit_new checks again, atomically.
        return Err(at(Step::Rename)(io::ErrorKind::AlreadyExists.into()));
    }
    Staged::new(path, bytes, access)?.commit_new()
}

/// Syncs a directory, so that names created or renamed in it survive a crash.
///
/// # Errors
/// The I/O error of opening or syncing it (a no-op outside unix).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = (dir, File::open::<&Path>);
    Ok(())
}

/// The directory a file is in: `.` for a bare file name.
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replace_writes_and_replaces_leaving_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("skr.xml");
        replace(&path, b"one", Access::Public).expect("first");
        replace(&path, b"two", Access::Public).expect("second");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        assert_eq!(names(dir.path()), ["skr.xml"]);
    }

    #[test]
    fn create_new_never_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("share-1.age");
        create_new(&path, b"first", Access::Private).expect("first");
        let err = create_new(&path, b"second", Access::Private).expect_err("exists");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(
            err.to_string().starts_with("cannot create (it exists)"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).expect("read"), b"first");
        assert_eq!(names(dir.path()), ["share-1.age"]);
    }

    #[test]
    fn commit_new_refuses_a_file_that_appeared_after_staging() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key.age");
        let staged = Staged::new(&path, b"ours", Access::Private).expect("staged");
        std::fs::write(&path, b"theirs").expect("race");
        let err = staged.commit_new().expect_err("exists");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).expect("read"), b"theirs");
        assert_eq!(names(dir.path()), ["key.age"]);
    }

    #[test]
    fn a_dropped_staged_file_leaves_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("out");
        let staged = Staged::new(&path, b"data", Access::Public).expect("staged");
        assert_eq!(staged.target(), path);
        assert_eq!(names(dir.path()).len(), 1, "the temporary file");
        drop(staged);
        assert!(names(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_the_owners_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secret");
        create_new(&path, b"x", Access::Private).expect("write");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_missing_directory_fails_without_writing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("no/such/dir/file");
        let err = replace(&path, b"x", Access::Public).expect_err("no directory");
        assert_eq!(err.step, Step::Create);
        assert!(err.to_string().starts_with("cannot create: "), "{err}");
        assert!(names(dir.path()).is_empty());
    }
}
