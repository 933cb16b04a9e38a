//! Public keys as PKCS#11 stores them, turned into DNSSEC DNSKEY encodings.
//!
//! * RSA: `CKA_MODULUS` and `CKA_PUBLIC_EXPONENT`, big-endian → RFC 3110.
//! * P-256: `CKA_EC_PARAMS` is the DER OID 1.2.840.10045.3.1.7; `CKA_EC_POINT`
//!   is a DER OCTET STRING around the uncompressed point `04‖x‖y` (PKCS#11
//!   v2.40 §2.3.3; some modules omit the OCTET STRING) → `x‖y` (RFC 6605 §4).
//! * Ed25519: `CKA_EC_PARAMS` is the OID 1.3.101.112 or the PrintableString
//!   `edwards25519` (PKCS#11 v3.0 §2.3.5); `CKA_EC_POINT` is the 32-byte key,
//!   again perhaps inside an OCTET STRING → the key itself (RFC 8080 §3).

/// DER of OID 1.2.840.10045.3.1.7 (secp256r1, prime256v1).
pub(crate) const P256_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of OID 1.3.101.112 (id-Ed25519, RFC 8410).
pub(crate) const ED25519_OID: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// DER PrintableString "edwards25519", the older way to name the curve.
const ED25519_PRINTABLE: &[u8] = b"\x13\x0cedwards25519";

/// The curve a `CKA_EC_PARAMS` value names, if it is one we use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    Ed25519,
}

pub(crate) fn curve(ec_params: &[u8]) -> Option<Curve> {
    match ec_params {
        P256_OID => Some(Curve::P256),
        ED25519_OID | ED25519_PRINTABLE => Some(Curve::Ed25519),
        _ => None,
    }
}

/// The contents of a DER OCTET STRING that spans all of `der`.
fn octet_string(der: &[u8]) -> Option<&[u8]> {
    let (&tag, rest) = der.split_first()?;
    if tag != 0x04 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => {
            let (&len, rest) = rest.split_first()?;
            (usize::from(len), rest)
        }
        0x82 => {
            let (len, rest) = rest.split_at_checked(2)?;
            (usize::from(u16::from_be_bytes([len[0], len[1]])), rest)
        }
        _ => return None,
    };
    (rest.len() == len).then_some(rest)
}

/// `x‖y` from a P-256 `CKA_EC_POINT`, DER-wrapped or raw.
pub(crate) fn p256_point(ec_point: &[u8]) -> Option<Vec<u8>> {
    let point = match octet_string(ec_point) {
        Some(inner) if inner.len() == 65 => inner,
        _ => ec_point,
    };
    match point.split_first() {
        Some((0x04, xy)) if xy.len() == 64 => Some(xy.to_vec()),
        _ => None,
    }
}

/// The 32-byte Ed25519 key from a `CKA_EC_POINT`, DER-wrapped or raw.
pub(crate) fn ed25519_point(ec_point: &[u8]) -> Option<Vec<u8>> {
    if ec_point.len() == 32 {
        return Some(ec_point.to_vec());
    }
    octet_string(ec_point)
        .filter(|inner| inner.len() == 32)
        .map(<[u8]>::to_vec)
}

/// Drops leading zero octets (RFC 3110 wants no padding in the modulus).
pub(crate) fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The size in bits of a big-endian unsigned integer without leading zeros.
pub(crate) fn bit_length(n: &[u8]) -> u32 {
    let bytes = u32::try_from(n.len()).unwrap_or(u32::MAX / 8);
    (bytes * 8).saturating_sub(n.first().map_or(0, |b| b.leading_zeros()))
}

/// The EMSA-PKCS1-v1_5 encoding of a SHA-256 digest for a `k`-byte modulus
/// (RFC 8017 §9.2): `00 01 FF…FF 00 ‖ DigestInfo(SHA-256) ‖ H`.
pub(crate) fn emsa_pkcs1_sha256(digest: &[u8], k: usize) -> Option<Vec<u8>> {
    /// DER of DigestInfo's AlgorithmIdentifier for SHA-256, and the digest's OCTET STRING header
    /// (RFC 8017 §9.2 note 1).
    const PREFIX: &[u8] = &[
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let t_len = PREFIX.len() + digest.len();
    // "If emLen < tLen + 11, output 'intended encoded message length too short'".
    if digest.len() != 32 || k < t_len + 11 {
        return None;
    }
    let mut em = Vec::with_capacity(k);
    em.extend_from_slice(&[0x00, 0x01]);
    em.resize(k - t_len - 1, 0xff);
    em.push(0x00);
    em.extend_from_slice(PREFIX);
    em.extend_from_slice(digest);
    Some(em)
}

/// Lower-case hex, for CKA_ID in messages and listings.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p256_points_with_and_without_the_octet_string() {
        let mut raw = vec![0x04];
        raw.extend(1..=64u8);
        let mut der = vec![0x04, 0x41];
        der.extend_from_slice(&raw);
        let xy: Vec<u8> = (1..=64u8).collect();
        assert_eq!(p256_point(&raw), Some(xy.clone()));
        assert_eq!(p256_point(&der), Some(xy));
        // Compressed points and wrong lengths are refused.
        assert_eq!(p256_point(&[0x02; 33]), None);
        assert_eq!(p256_point(&der[..66]), None);
    }

    #[test]
    fn ed25519_points_and_curve_names() {
        let key = [7u8; 32];
        let mut der = vec![0x04, 0x20];
        der.extend_from_slice(&key);
        assert_eq!(ed25519_point(&key), Some(key.to_vec()));
        assert_eq!(ed25519_point(&der), Some(key.to_vec()));
        assert_eq!(ed25519_point(&der[..33]), None);
        assert_eq!(curve(ED25519_OID), Some(Curve::Ed25519));
        assert_eq!(curve(b"\x13\x0cedwards25519"), Some(Curve::Ed25519));
        assert_eq!(curve(P256_OID), Some(Curve::P256));
        // secp384r1 is not for us.
        assert_eq!(curve(&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]), None);
    }

    #[test]
    fn emsa_encoding_has_the_rfc_8017_shape() {
        let em = emsa_pkcs1_sha256(&[0xab; 32], 256).expect("fits");
        assert_eq!(em.len(), 256);
        assert_eq!(&em[..2], &[0x00, 0x01]);
        assert!(em[2..256 - 52].iter().all(|b| *b == 0xff));
        assert_eq!(em[256 - 52], 0x00);
        assert_eq!(&em[256 - 51..256 - 32][..2], &[0x30, 0x31]);
        assert_eq!(emsa_pkcs1_sha256(&[0; 32], 61), None);
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0]), 9);
        assert_eq!(bit_length(&[]), 0);
    }
}
