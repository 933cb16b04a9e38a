//! DNSKEY records, their key tags and their public-key parameters.

use std::fmt;

use base64::Engine as _;
use domain::base::iana::SecurityAlgorithm;

use crate::Error;

/// The key tag of a DNSKEY (RFC 4034 Appendix B): a 16-bit checksum, not an identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyTag(pub u16);

impl fmt::Display for KeyTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A DNSKEY record's data (RFC 4034 §2.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Dnskey {
    flags: u16,
    protocol: u8,
    algorithm: SecurityAlgorithm,
    public_key: Vec<u8>,
}

/// The public-key parameters a policy reasons about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyParams {
    /// RSA (algorithms 5, 7, 8, 10): modulus size in bits and public exponent.
    Rsa {
        /// Modulus length in bits.
        bits: u32,
        /// Public exponent; `None` if it does not fit 64 bits.
        exponent: Option<u64>,
    },
    /// ECDSA (algorithms 13, 14): curve size in bits.
    Ecdsa {
        /// 256 for P-256, 384 for P-384.
        bits: u32,
    },
    /// EdDSA (algorithms 15, 16): key size in bits.
    EdDsa {
        /// 256 for Ed25519, 456 for Ed448.
        bits: u32,
    },
}

impl KeyParams {
    /// The key size in bits, whatever the algorithm family.
    pub fn bits(&self) -> u32 {
        match *self {
            KeyParams::Rsa { bits, .. } | KeyParams::Ecdsa { bits } | KeyParams::EdDsa { bits } => {
                bits
            }
        }
    }
}

impl Dnskey {
    /// The Zone Key flag (bit 7): set on every DNSSEC zone key.
    pub const ZONE: u16 = 0x0100;
    /// The REVOKE flag (bit 8, RFC 5011 §7).
    pub const REVOKE: u16 = 0x0080;
    /// The Secure Entry Point flag (bit 15): set on KSKs.
    pub const SEP: u16 = 0x0001;

    /// Builds a DNSKEY from its four RDATA fields.
    ///
    /// # Errors
    /// [`Error::BadDnskey`] when the public key is empty or the RDATA would exceed 65535 octets.
    pub fn new(
        flags: u16,
        protocol: u8,
        algorithm: SecurityAlgorithm,
        public_key: Vec<u8>,
    ) -> Result<Self, Error> {
        if public_key.is_empty() {
            return Err(Error::BadDnskey("empty public key"));
        }
        if public_key.len() > usize::from(u16::MAX) - 4 {
            return Err(Error::BadDnskey("public key longer than RDATA allows"));
        }
        Ok(Dnskey {
            flags,
            protocol,
            algorithm,
            public_key,
        })
    }

    /// The flags field: 256 for a ZSK, 257 for a KSK, 385 for a revoked KSK.
    pub fn flags(&self) -> u16 {
        self.flags
    }

    /// The protocol field; RFC 4034 requires 3.
    pub fn protocol(&self) -> u8 {
        self.protocol
    }

    /// The algorithm number.
    pub fn algorithm(&self) -> SecurityAlgorithm {
        self.algorithm
    }

    /// The public key in the algorithm's DNSKEY encoding.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The public key as the base64 text of XML files and zone files.
    pub fn public_key_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.public_key)
    }

    /// Whether the REVOKE flag is set.
    pub fn is_revoked(&self) -> bool {
        self.flags & Self::REVOKE != 0
    }

    /// Whether the SEP flag is set, marking a key signing key.
    pub fn is_sep(&self) -> bool {
        self.flags & Self::SEP != 0
    }

    /// The same key with the REVOKE flag set, as RFC 5011 publishes it.
    pub fn revoked(&self) -> Dnskey {
        Dnskey {
            flags: self.flags | Self::REVOKE,
            ..self.clone()
        }
    }

    /// The key tag, computed over the RDATA as it stands (so a revoked key has its own tag).
    pub fn key_tag(&self) -> KeyTag {
        // RFC 4034 Appendix B: the one's-complement-style sum over the RDATA.
        // Algorithm 1 (RSAMD5) is obsolete and uses another rule.
        if self.algorithm == SecurityAlgorithm::RSAMD5 {
            let n = self.public_key.len();
            let tag = if n >= 3 {
                u16::from_be_bytes([self.public_key[n - 3], self.public_key[n - 2]])
            } else {
                0
            };
            return KeyTag(tag);
        }
        let mut acc: u32 = 0;
        for (i, byte) in self.rdata().iter().enumerate() {
            acc += if i % 2 == 0 {
                u32::from(*byte) << 8
            } else {
                u32::from(*byte)
            };
        }
        acc += (acc >> 16) & 0xFFFF;
        KeyTag((acc & 0xFFFF) as u16)
    }

    /// The RDATA in wire format: flags, protocol, algorithm, public key.
    pub fn rdata(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.public_key.len());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.push(self.protocol);
        out.push(self.algorithm.to_int());
        out.extend_from_slice(&self.public_key);
        out
    }

    /// The public-key parameters: RSA modulus size and exponent, or the curve size.
    ///
    /// # Errors
    /// [`Error::BadDnskey`] when the key does not decode for its algorithm, and
    /// [`Error::UnsupportedAlgorithm`] for algorithms other than RSA, ECDSA and EdDSA.
    pub fn params(&self) -> Result<KeyParams, Error> {
        let alg = self.algorithm;
        if [
            SecurityAlgorithm::RSASHA1,
            SecurityAlgorithm::RSASHA1_NSEC3_SHA1,
            SecurityAlgorithm::RSASHA256,
            SecurityAlgorithm::RSASHA512,
        ]
        .contains(&alg)
        {
            let (exponent, modulus) = rsa_split(&self.public_key)?;
            let bits = (modulus.len() as u32) * 8 - modulus[0].leading_zeros();
            let exponent = if exponent.len() <= 8 {
                let mut buf = [0u8; 8];
                buf[8 - exponent.len()..].copy_from_slice(exponent);
                Some(u64::from_be_bytes(buf))
            } else {
                None
            };
            return Ok(KeyParams::Rsa { bits, exponent });
        }
        let (expected_len, params) = match alg {
            SecurityAlgorithm::ECDSAP256SHA256 => (64, KeyParams::Ecdsa { bits: 256 }),
            SecurityAlgorithm::ECDSAP384SHA384 => (96, KeyParams::Ecdsa { bits: 384 }),
            SecurityAlgorithm::ED25519 => (32, KeyParams::EdDsa { bits: 256 }),
            SecurityAlgorithm::ED448 => (57, KeyParams::EdDsa { bits: 456 }),
            other => return Err(Error::UnsupportedAlgorithm(other.to_int())),
        };
        if self.public_key.len() != expected_len {
            return Err(Error::BadDnskey(
                "public key length does not fit the algorithm",
            ));
        }
        Ok(params)
    }

    /// The record in zone-file presentation format, e.g. `. 172800 IN DNSKEY 257 3 8 AwEAA…`.
    pub fn to_zonefile(&self, owner: &crate::Name, ttl: u32) -> String {
        format!(
            "{} {} IN DNSKEY {} {} {} {}",
            owner.fmt_with_dot(),
            ttl,
            self.flags,
            self.protocol,
            self.algorithm.to_int(),
            self.public_key_base64()
        )
    }
}

/// Splits an RSA public key into exponent and modulus (RFC 3110 §2).
fn rsa_split(key: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let (exp_len, rest) = match key {
        [0, hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), rest),
        [len, rest @ ..] => (usize::from(*len), rest),
        [] => return Err(Error::BadDnskey("empty RSA public key")),
    };
    if exp_len == 0 || rest.len() <= exp_len {
        return Err(Error::BadDnskey("RSA exponent length exceeds the key"));
    }
    let (exponent, modulus) = rest.split_at(exp_len);
    if exponent[0] == 0 || modulus[0] == 0 {
        return Err(Error::BadDnskey(
            "RSA exponent or modulus has a leading zero (RFC 3110 §2)",
        ));
    }
    Ok((exponent, modulus))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("test vector is base64")
    }

    /// KSK-2010, the root's trust anchor from 2010 to 2018.
    const KSK_2010: &str = "AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjFFVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoXbfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaDX6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlzEheX7ICJBBtuA6G3LQpzW5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relSQageu+ipAdTTJ25AsRTAoub8ONGcLmqrAmRLKBP1dfwhYB4N7knNnulqQxA+Uk1ihz0=";

    #[test]
    fn key_tag_of_ksk_2010_is_19036() {
        let key = Dnskey::new(257, 3, SecurityAlgorithm::RSASHA256, b64(KSK_2010)).expect("valid");
        assert_eq!(key.key_tag(), KeyTag(19036));
        assert_eq!(
            key.params().expect("rsa"),
            KeyParams::Rsa {
                bits: 2048,
                exponent: Some(65537)
            }
        );
    }

    #[test]
    fn revoking_changes_the_tag_and_flags() {
        // RFC 5011 §7: "the key tag ... changes" when the REVOKE bit is set.
        let key = Dnskey::new(257, 3, SecurityAlgorithm::RSASHA256, b64(KSK_2010)).expect("valid");
        let revoked = key.revoked();
        assert_eq!(revoked.flags(), 385);
        assert!(revoked.is_revoked());
        assert_eq!(revoked.key_tag(), KeyTag(19036 + 128));
    }

    #[test]
    fn agrees_with_domain_key_tag() {
        let key = Dnskey::new(385, 3, SecurityAlgorithm::RSASHA256, b64(KSK_2010)).expect("valid");
        let theirs =
            domain::rdata::Dnskey::new(385, 3, SecurityAlgorithm::RSASHA256, b64(KSK_2010))
                .expect("valid");
        assert_eq!(key.key_tag().0, theirs.key_tag());
    }

    #[test]
    fn rsa_key_with_leading_zero_modulus_is_rejected() {
        let key =
            Dnskey::new(256, 3, SecurityAlgorithm::RSASHA256, vec![1, 3, 0, 5]).expect("valid");
        assert!(matches!(key.params(), Err(Error::BadDnskey(_))));
    }

    #[test]
    fn ecdsa_key_length_is_checked() {
        let key =
            Dnskey::new(257, 3, SecurityAlgorithm::ECDSAP256SHA256, vec![7; 63]).expect("valid");
        assert!(key.params().is_err());
        let key =
            Dnskey::new(257, 3, SecurityAlgorithm::ECDSAP256SHA256, vec![7; 64]).expect("valid");
        assert_eq!(key.params().expect("ec").bits(), 256);
    }
}
