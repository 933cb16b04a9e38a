//! Secrets in files: age-encrypted (ASCII armor) to one holder's X25519
//! recipient or to a passphrase, never in the clear.
//!
//! Shares, sub-shares and witness keys are written through [`seal`] and
//! read back through [`open`], which bounds the read and returns the
//! plaintext in a buffer wiped on drop.

use std::io::Read as _;
use std::path::Path;

use ceremony_keys::armor;
use ceremony_keys::keystore::Unlock;
use zeroize::Zeroizing;

use crate::Failure;

/// Parses an `age1…` recipient, naming the option it came from on error.
///
/// # Errors
/// Exit 2 when it is not an age X25519 recipient.
pub fn parse_recipient(text: &str, option: &str) -> Result<age::x25519::Recipient, Failure> {
    text.parse::<age::x25519::Recipient>().map_err(|e| {
        Failure::input(format!(
            "{option} {text:?} is not an age X25519 recipient: {e}"
        ))
    })
}

/// Encodes a secret as JSON and encrypts it to `to`, naming `what` on error;
/// the encoding is wiped once encrypted.
///
/// # Errors
/// Exit 3: the encoding or the encryption failed.
pub fn seal_json<T: serde::Serialize>(
    plain: T,
    to: &dyn age::Recipient,
    what: &str,
) -> Result<String, Failure> {
    let text = Zeroizing::new(
        serde_json::to_vec(&plain)
            .map_err(|e| Failure::environment(format!("cannot encode {what}: {e}")))?,
    );
    drop(plain);
    armor::seal(to, &text).map_err(|e| Failure::environment(format!("cannot encrypt {what}: {e}")))
}

/// One recipient per holder, holder 1 first: the `--recipient age1…` given,
/// or the one passphrase in the variable `passphrase_env` for every holder.
///
/// # Errors
/// Exit 2 for a count that is not `holders`, a recipient that does not
/// parse, or a passphrase variable that cannot be read.
pub fn holder_recipients(
    recipients: &[String],
    passphrase_env: Option<&str>,
    holders: u16,
) -> Result<Vec<Box<dyn age::Recipient>>, Failure> {
    if let Some(var) = passphrase_env {
        let unlock = Unlock::passphrase_from_env(var).map_err(Failure::input)?;
        return Ok((0..holders).map(|_| recipient_of(&unlock)).collect());
    }
    if recipients.len() != usize::from(holders) {
        return Err(Failure::input(format!(
            "{} --recipient given for {holders} holders: give one per holder, holder 1 first",
            recipients.len(),
        )));
    }
    recipients
        .iter()
        .map(|text| {
            parse_recipient(text, "--recipient").map(|r| Box::new(r) as Box<dyn age::Recipient>)
        })
        .collect()
}

/// The recipient whose secret `unlock` is: a holder seals to itself with it.
pub fn recipient_of(unlock: &Unlock) -> Box<dyn age::Recipient> {
    match unlock {
        Unlock::Identity(id) => Box::new(id.to_public()),
        Unlock::Passphrase(p) => Box::new(age::scrypt::Recipient::new(p.clone())),
    }
}

/// Reads and decrypts the age file at `path` (at most `max` bytes) with `unlock`.
///
/// # Errors
/// Exit 2 naming the file: unreadable, not age, or not decryptable with `unlock`.
pub fn open(path: &Path, unlock: &Unlock, max: u64) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::input(format!("{name}: cannot read: {e}")))?;
    let mut ciphertext = Vec::new();
    file.take(max)
        .read_to_end(&mut ciphertext)
        .map_err(|e| Failure::input(format!("{name}: cannot read: {e}")))?;
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    armor::open(&ciphertext, unlock, limit, None)
        .map_err(|e| Failure::input(format!("{name}: cannot decrypt: {e}")))
}

/// The unlock given by exactly one of `--identity FILE` or `--passphrase-env VAR`.
///
/// # Errors
/// Exit 2 when neither is given or the source cannot be read.
pub fn unlock_from(
    identity: Option<&Path>,
    passphrase_env: Option<&str>,
) -> Result<Unlock, Failure> {
    match (identity, passphrase_env) {
        (Some(path), _) => Unlock::identity_from_file(path),
        (None, Some(var)) => Unlock::passphrase_from_env(var),
        (None, None) => return Err(Failure::input("give --identity or --passphrase-env")),
    }
    .map_err(Failure::input)
}

/// Reads a secret kept in the clear by someone else (a PEM private key to
/// import), at most `max` bytes, into a buffer wiped on drop.
///
/// # Errors
/// Exit 2 naming the file: unreadable, larger than `max`, or not UTF-8.
pub fn read_clear_secret(path: &Path, max: usize) -> Result<Zeroizing<String>, Failure> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::input(format!("{name}: cannot read: {e}")))?;
    // Room for the largest accepted file plus one byte, so read_to_end never
    // reallocates (which would leave an unwiped copy behind).
    let mut bytes = Zeroizing::new(Vec::with_capacity(max + 1));
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::input(format!("{name}: cannot read: {e}")))?;
    if bytes.len() > max {
        return Err(Failure::input(format!(
            "{name}: larger than {max} bytes: not a key file"
        )));
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::input(format!("{name}: not text (a PEM file is ASCII)")))?;
    Ok(Zeroizing::new(text.to_owned()))
}
