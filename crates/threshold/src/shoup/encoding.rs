//! The two byte-level encodings of the protocol: the message representative
//! (EMSA-PKCS1-v1_5 with SHA-256) and the proof hash H′.

use sha2::{Digest, Sha256};

/// The DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The shortest EM that EMSA-PKCS1-v1_5 allows with SHA-256: tLen + 11 octets
/// (RFC 8017 §9.2 step 3), so |n| must be at least 62 bytes.
pub(crate) const MIN_EM_LEN: usize = SHA256_DIGEST_INFO.len() + 32 + 11;

/// EMSA-PKCS1-v1_5-ENCODE(SHA-256, data, em_len) (RFC 8017 §9.2):
/// `00 01 FF…FF 00 ‖ DigestInfo ‖ SHA-256(data)`, exactly `em_len` bytes.
///
/// `None` when `em_len` is below [`MIN_EM_LEN`]; key validation rules that out.
pub(crate) fn emsa_pkcs1_v15_sha256(data: &[u8], em_len: usize) -> Option<Vec<u8>> {
    if em_len < MIN_EM_LEN {
        return None;
    }
    let t_len = SHA256_DIGEST_INFO.len() + 32;
    let mut em = Vec::with_capacity(em_len);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(em_len - t_len - 1, 0xFF);
    em.push(0x00);
    em.extend_from_slice(&SHA256_DIGEST_INFO);
    em.extend_from_slice(&Sha256::digest(data));
    Some(em)
}

/// The domain-separation label of H′. Changing the proof format changes it.
pub const PROOF_LABEL: &[u8] = b"ceremony-threshold/shoup2000/proof-of-correctness/v1";

/// The six group elements the proof hash covers, each I2OSP'd to |n| bytes.
pub(crate) struct ProofTranscript<'a> {
    pub(crate) v: &'a [u8],
    pub(crate) x_tilde: &'a [u8],
    pub(crate) v_i: &'a [u8],
    pub(crate) x_i_squared: &'a [u8],
    pub(crate) v_prime: &'a [u8],
    pub(crate) x_prime: &'a [u8],
}

impl ProofTranscript<'_> {
    /// H′(v, x̃, v_i, x_i², v′, x′) =
    /// SHA-256(PROOF_LABEL ‖ 0x00 ‖ u32be(|n|) ‖ v ‖ x̃ ‖ v_i ‖ x_i² ‖ v′ ‖ x′),
    /// every element I2OSP'd to exactly |n| bytes; `c` is the digest read as a
    /// 256-bit big-endian integer (L1 = 256).
    pub(crate) fn challenge(&self, n_len: usize) -> [u8; 32] {
        let mut hash = Sha256::new();
        hash.update(PROOF_LABEL);
        hash.update([0u8]);
        hash.update((n_len as u32).to_be_bytes());
        for element in [
            self.v,
            self.x_tilde,
            self.v_i,
            self.x_i_squared,
            self.v_prime,
            self.x_prime,
        ] {
            debug_assert_eq!(element.len(), n_len);
            hash.update(element);
        }
        hash.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn em_layout_follows_rfc_8017() {
        let em = emsa_pkcs1_v15_sha256(b"Hello world", 64).expect("long enough");
        assert_eq!(em.len(), 64);
        assert_eq!(&em[..2], &[0x00, 0x01]);
        // 64 - 3 - 51 = 10 bytes of padding.
        assert!(em[2..12].iter().all(|b| *b == 0xFF));
        assert_eq!(em[12], 0x00);
        assert_eq!(&em[13..32], &SHA256_DIGEST_INFO);
        assert_eq!(&em[32..], Sha256::digest(b"Hello world").as_slice());
    }

    #[test]
    fn em_too_short_is_refused() {
        assert!(emsa_pkcs1_v15_sha256(b"", MIN_EM_LEN - 1).is_none());
        assert!(emsa_pkcs1_v15_sha256(b"", MIN_EM_LEN).is_some());
    }
}
