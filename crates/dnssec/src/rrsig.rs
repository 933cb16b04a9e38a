//! The data an RRSIG signs (RFC 4034 §3.1.8.1), built with explicit times.
//!
//! A ceremony never signs "now": every bundle carries its own inception and
//! expiration, and a remote signer must be able to rebuild the exact bytes
//! from the KSR alone. So the header is plain data and
//! [`RrsigHeader::signed_data`] is a pure function of it and the RRset.

use domain::base::iana::SecurityAlgorithm;
use domain::base::ToName;

use crate::{Dnskey, Error, KeyTag, Name};

/// The RR type code of DNSKEY (RFC 4034 §2).
pub const DNSKEY_RTYPE: u16 = 48;

/// Class IN, the only class DNSSEC keys live in here.
const CLASS_IN: u16 = 1;

/// The RRSIG RDATA fields that are signed: everything but the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RrsigHeader {
    /// The RR type the signature covers (48 for DNSKEY).
    pub type_covered: u16,
    /// The signing key's algorithm.
    pub algorithm: SecurityAlgorithm,
    /// Labels in the owner name, not counting the root or a leading wildcard.
    pub labels: u8,
    /// The TTL of the RRset as published, which is also the TTL signed.
    pub original_ttl: u32,
    /// Signature expiration, seconds since the epoch modulo 2^32 (RFC 4034 §3.1.5).
    pub expiration: u32,
    /// Signature inception, seconds since the epoch modulo 2^32.
    pub inception: u32,
    /// The key tag of the signing key.
    pub key_tag: KeyTag,
    /// The zone whose key signs.
    pub signer_name: Name,
}

impl RrsigHeader {
    /// The header of an RRSIG by `key` over the DNSKEY RRset at `owner`.
    pub fn for_dnskeys(
        owner: &Name,
        key: &Dnskey,
        ttl: u32,
        inception: u32,
        expiration: u32,
    ) -> RrsigHeader {
        RrsigHeader {
            type_covered: DNSKEY_RTYPE,
            algorithm: key.algorithm(),
            labels: owner_labels(owner) as u8,
            original_ttl: ttl,
            expiration,
            inception,
            key_tag: key.key_tag(),
            signer_name: owner.clone(),
        }
    }

    /// The exact octets to sign or verify for the RRset of `rdatas` at `owner`.
    ///
    /// RFC 4034 §3.1.8.1: `RRSIG_RDATA | RR(1) | RR(2) ...`, where each RR is
    /// `owner | type | class | OrigTTL | RDATA length | RDATA`, the RRs in
    /// canonical order (§6.3: sorted by RDATA as octet strings, duplicates
    /// removed) and names in canonical form.
    ///
    /// # Errors
    /// [`Error::BadLabels`] when the labels field exceeds the owner's labels;
    /// a wildcard expansion is never what a DNSKEY RRset needs.
    pub fn signed_data<'a>(
        &self,
        owner: &Name,
        rdatas: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<u8>, Error> {
        let owner_labels = owner_labels(owner);
        if usize::from(self.labels) != owner_labels {
            return Err(Error::BadLabels {
                labels: self.labels,
                owner_labels,
            });
        }
        let mut rdatas: Vec<&[u8]> = rdatas.into_iter().collect();
        rdatas.sort_unstable();
        rdatas.dedup();

        let mut out = Vec::with_capacity(512 * (rdatas.len() + 1));
        out.extend_from_slice(&self.type_covered.to_be_bytes());
        out.push(self.algorithm.to_int());
        out.push(self.labels);
        out.extend_from_slice(&self.original_ttl.to_be_bytes());
        out.extend_from_slice(&self.expiration.to_be_bytes());
        out.extend_from_slice(&self.inception.to_be_bytes());
        out.extend_from_slice(&self.key_tag.0.to_be_bytes());
        compose_owner(&self.signer_name, &mut out);

        let mut owner_wire = Vec::new();
        compose_owner(owner, &mut owner_wire);
        for rdata in rdatas {
            out.extend_from_slice(&owner_wire);
            out.extend_from_slice(&self.type_covered.to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
            out.extend_from_slice(&self.original_ttl.to_be_bytes());
            // Dnskey::new bounds the RDATA, so its length fits 16 bits.
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(rdata);
        }
        Ok(out)
    }

    /// The signed data for a DNSKEY RRset given as keys.
    ///
    /// # Errors
    /// As [`RrsigHeader::signed_data`].
    pub fn signed_data_dnskeys<'a>(
        &self,
        owner: &Name,
        keys: impl IntoIterator<Item = &'a Dnskey>,
    ) -> Result<Vec<u8>, Error> {
        let rdatas: Vec<Vec<u8>> = keys.into_iter().map(Dnskey::rdata).collect();
        self.signed_data(owner, rdatas.iter().map(Vec::as_slice))
    }
}

/// The number of labels in `owner`, not counting the root (RFC 4034 §3.1.3).
fn owner_labels(owner: &Name) -> usize {
    owner.label_count() - 1
}

/// Appends `name` in canonical wire form: uncompressed, ASCII lower case.
pub(crate) fn compose_owner(name: &Name, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = name.compose_canonical(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_header_layout() {
        let key = Dnskey::new(257, 3, SecurityAlgorithm::ED25519, vec![1; 32]).expect("key");
        let root = Name::root_vec();
        let header = RrsigHeader::for_dnskeys(&root, &key, 172800, 10, 20);
        let data = header
            .signed_data_dnskeys(&root, [&key, &key])
            .expect("data");
        // 18 octets of header + 1 for the root name; one RR since duplicates go.
        let rr_len = 1 + 2 + 2 + 4 + 2 + 36;
        assert_eq!(data.len(), 19 + rr_len);
        assert_eq!(&data[..4], &[0, 48, 15, 0]);
        assert_eq!(&data[8..12], &20u32.to_be_bytes(), "expiration comes first");
        assert_eq!(&data[12..16], &10u32.to_be_bytes());
    }

    #[test]
    fn rrs_are_sorted_by_rdata() {
        let a = Dnskey::new(256, 3, SecurityAlgorithm::ED25519, vec![2; 32]).expect("key");
        let b = Dnskey::new(257, 3, SecurityAlgorithm::ED25519, vec![1; 32]).expect("key");
        let root = Name::root_vec();
        let header = RrsigHeader::for_dnskeys(&root, &a, 3600, 0, 1);
        assert_eq!(
            header.signed_data_dnskeys(&root, [&a, &b]).expect("data"),
            header.signed_data_dnskeys(&root, [&b, &a]).expect("data")
        );
    }

    #[test]
    fn labels_must_match_owner() {
        let key = Dnskey::new(257, 3, SecurityAlgorithm::ED25519, vec![1; 32]).expect("key");
        let owner = crate::parse_name("example.").expect("name");
        let mut header = RrsigHeader::for_dnskeys(&owner, &key, 3600, 0, 1);
        assert_eq!(header.labels, 1);
        header.labels = 2;
        assert!(matches!(
            header.signed_data_dnskeys(&owner, [&key]),
            Err(Error::BadLabels { .. })
        ));
    }
}
