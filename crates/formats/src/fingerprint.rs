//! File hashes as people compare them: SHA-256 hex and the PGP word list.

use sha2::{Digest, Sha256};

/// The SHA-256 of some bytes, for reading aloud.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// The digest.
    pub sha256: [u8; 32],
}

impl Fingerprint {
    /// Hashes `bytes`.
    pub fn of(bytes: &[u8]) -> Fingerprint {
        Fingerprint {
            sha256: Sha256::digest(bytes).into(),
        }
    }

    /// Lower-case hex.
    pub fn hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// The 32 PGP words: even bytes from the two-syllable list, odd from the three-syllable one.
    pub fn words(&self) -> Vec<&str> {
        pgp_words::to_words(&self.sha256)
    }

    /// The words in four lines of eight, numbered, for a ceremony script.
    pub fn words_block(&self, indent: &str) -> String {
        self.words()
            .chunks(8)
            .enumerate()
            .map(|(i, line)| format!("{indent}{:>2}  {}", i * 8 + 1, line.join(" ")))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_world_has_the_published_words() {
        let fp = Fingerprint::of(b"hello, world\n");
        assert!(fp.hex().starts_with("853ff937"));
        assert_eq!(
            fp.words()[..4],
            ["music", "customer", "waffle", "consensus"]
        );
    }
}
