//! age encryption as every Ceremony secret file uses it: one recipient,
//! ASCII armor, and a bounded, zeroizing read back.
//!
//! The keystore, quorum shares, threshold shares and witness keys all go
//! through [`seal`] and [`open`], so that the distinctions people act on
//! (wrong passphrase or identity, versus a damaged or altered file) are made
//! the same way everywhere. Callers turn an [`OpenError`] into their own
//! error, naming their file.

use std::io::{Read as _, Write as _};
use std::iter;

use age::armor::{ArmoredReader, ArmoredWriter, Format};
use zeroize::Zeroizing;

use crate::keystore::Unlock;

/// Why a sealed file did not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Not an age file at all.
    #[error("not a readable age file ({0})")]
    NotAge(String),
    /// Sealed to a passphrase but opened with an identity, or the reverse.
    #[error("it is sealed to {sealed}, not to {given}")]
    KindMismatch {
        /// What the file is sealed to.
        sealed: &'static str,
        /// What was given to open it.
        given: &'static str,
    },
    /// The passphrase or identity given is not the one it is sealed to.
    #[error("the {0} given does not open it")]
    WrongUnlock(&'static str),
    /// The header does not open: damaged, altered, or asking too much scrypt work.
    #[error("{0}")]
    BadHeader(String),
    /// The body fails authentication: truncated or altered.
    #[error("the encrypted body fails authentication (truncated or altered)")]
    BadBody,
    /// The plaintext is larger than the caller accepts.
    #[error("the plaintext is larger than {0} bytes")]
    TooLarge(usize),
}

/// What an unlock is, for messages: `passphrase` or `age identity`.
pub fn unlock_kind(unlock: &Unlock) -> &'static str {
    match unlock {
        Unlock::Passphrase(_) => "passphrase",
        Unlock::Identity(_) => "age identity",
    }
}

/// Encrypts `plaintext` to `recipient` as ASCII-armored age.
///
/// # Errors
/// What `age` said, as text.
pub fn seal(recipient: &dyn age::Recipient, plaintext: &[u8]) -> Result<String, String> {
    let encryptor =
        age::Encryptor::with_recipients(iter::once(recipient)).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let armored =
        ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).map_err(|e| e.to_string())?;
    let mut writer = encryptor.wrap_output(armored).map_err(|e| e.to_string())?;
    writer.write_all(plaintext).map_err(|e| e.to_string())?;
    writer
        .finish()
        .and_then(|armored| armored.finish())
        .map_err(|e| e.to_string())?;
    String::from_utf8(out).map_err(|_| "armor is not text".to_owned())
}

/// Decrypts an age file (armored or binary) with `unlock`, accepting at
/// most `max` bytes of plaintext; `max_work_factor` caps the scrypt work a
/// passphrase file may demand (age's default when `None`).
///
/// # Errors
/// [`OpenError`], telling a wrong unlock from a damaged file.
pub fn open(
    ciphertext: &[u8],
    unlock: &Unlock,
    max: usize,
    max_work_factor: Option<u8>,
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let decryptor = age::Decryptor::new_buffered(ArmoredReader::new(ciphertext))
        .map_err(|e| OpenError::NotAge(e.to_string()))?;
    let given = unlock_kind(unlock);
    if decryptor.is_scrypt() != matches!(unlock, Unlock::Passphrase(_)) {
        let sealed = if decryptor.is_scrypt() {
            "a passphrase"
        } else {
            "age recipients"
        };
        return Err(OpenError::KindMismatch { sealed, given });
    }
    let scrypt;
    let identity: &dyn age::Identity = match unlock {
        Unlock::Passphrase(passphrase) => {
            let mut id = age::scrypt::Identity::new(passphrase.clone());
            if let Some(log_n) = max_work_factor {
                id.set_max_work_factor(log_n);
            }
            scrypt = id;
            &scrypt
        }
        Unlock::Identity(id) => id,
    };
    let reader = match decryptor.decrypt(iter::once(identity)) {
        Ok(reader) => reader,
        // scrypt: the file key's AEAD fails under a key derived from the wrong passphrase.
        Err(age::DecryptError::DecryptionFailed) if given == "passphrase" => {
            return Err(OpenError::WrongUnlock(given))
        }
        // X25519: no stanza opens with this identity.
        Err(age::DecryptError::NoMatchingKeys) => return Err(OpenError::WrongUnlock(given)),
        Err(e) => return Err(OpenError::BadHeader(describe(&e))),
    };
    // Room for the largest plaintext plus one byte, so that read_to_end never
    // reallocates (which would leave an unzeroized copy behind).
    let mut plaintext = Zeroizing::new(Vec::with_capacity(max + 1));
    reader
        .take(max as u64 + 1)
        .read_to_end(&mut plaintext)
        .map_err(|_| OpenError::BadBody)?;
    if plaintext.len() > max {
        return Err(OpenError::TooLarge(max));
    }
    Ok(plaintext)
}

/// A person's reading of an age decryption error.
pub fn describe(error: &age::DecryptError) -> String {
    match error {
        age::DecryptError::DecryptionFailed | age::DecryptError::KeyDecryptionFailed => {
            "the age header does not decrypt".to_owned()
        }
        age::DecryptError::ExcessiveWork { required, target } => format!(
            "the file asks for scrypt work factor {required}, more than the {target} allowed"
        ),
        age::DecryptError::InvalidHeader => "the age header is malformed".to_owned(),
        age::DecryptError::InvalidMac => "the age header's MAC does not verify".to_owned(),
        age::DecryptError::Io(e) => format!("not a readable age file ({e})"),
        age::DecryptError::NoMatchingKeys => "no recipient stanza for this secret".to_owned(),
        age::DecryptError::UnknownFormat => "not an age v1 file".to_owned(),
        other => format!("age: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> age::x25519::Identity {
        age::x25519::Identity::generate()
    }

    #[test]
    fn a_sealed_secret_opens_with_its_identity_or_passphrase_only() {
        let id = identity();
        let sealed = seal(&id.to_public(), b"secret").expect("seal");
        assert!(sealed.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
        let opened = open(sealed.as_bytes(), &Unlock::Identity(id), 64, None).expect("open");
        assert_eq!(opened.as_slice(), b"secret");
        let other = open(sealed.as_bytes(), &Unlock::Identity(identity()), 64, None);
        assert!(
            matches!(other, Err(OpenError::WrongUnlock("age identity"))),
            "{other:?}"
        );
        let pass = open(sealed.as_bytes(), &Unlock::passphrase("x"), 64, None);
        assert!(
            matches!(pass, Err(OpenError::KindMismatch { .. })),
            "{pass:?}"
        );

        let mut r = age::scrypt::Recipient::new("right".to_owned().into());
        r.set_work_factor(10);
        let sealed = seal(&r, b"secret").expect("seal");
        let opened = open(
            sealed.as_bytes(),
            &Unlock::passphrase("right"),
            64,
            Some(12),
        );
        assert_eq!(opened.expect("open").as_slice(), b"secret");
        let wrong = open(
            sealed.as_bytes(),
            &Unlock::passphrase("wrong"),
            64,
            Some(12),
        );
        assert!(
            matches!(wrong, Err(OpenError::WrongUnlock("passphrase"))),
            "{wrong:?}"
        );
    }

    #[test]
    fn a_damaged_file_is_told_apart_from_a_wrong_key() {
        let id = identity();
        let sealed = seal(&id.to_public(), &[7; 100]).expect("seal");
        let unlock = Unlock::Identity(id);
        assert!(matches!(
            open(b"junk", &unlock, 64, None),
            Err(OpenError::NotAge(_))
        ));
        // Flip one base64 character of the body (the last full line before the footer).
        let lines: Vec<&str> = sealed.lines().collect();
        let body = lines.len() - 2;
        let mut flipped: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        let mut chars: Vec<char> = flipped[body].chars().collect();
        chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
        flipped[body] = chars.into_iter().collect();
        let damaged = flipped.join("\n") + "\n";
        let err = open(damaged.as_bytes(), &unlock, 200, None).expect_err("damaged");
        assert!(
            matches!(
                err,
                OpenError::BadBody | OpenError::BadHeader(_) | OpenError::NotAge(_)
            ),
            "{err:?}"
        );
        assert!(matches!(
            open(sealed.as_bytes(), &unlock, 10, None),
            Err(OpenError::TooLarge(10))
        ));
    }
}
