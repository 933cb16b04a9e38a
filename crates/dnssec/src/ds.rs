//! DS records: the digest by which a parent, or a trust anchor, names a key.

use crate::rrsig::compose_owner;
use crate::{Dnskey, Error, KeyTag, Name};
use domain::base::iana::{DigestAlgorithm, SecurityAlgorithm};

/// A DS record's data (RFC 4034 §5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ds {
    /// The key tag of the DNSKEY it points at.
    pub key_tag: KeyTag,
    /// The DNSKEY's algorithm.
    pub algorithm: SecurityAlgorithm,
    /// The digest type: 2 for SHA-256, 4 for SHA-384.
    pub digest_type: DigestAlgorithm,
    /// The digest over owner name and DNSKEY RDATA.
    pub digest: Vec<u8>,
}

impl Ds {
    /// Computes the DS of `key` owned by `owner` (RFC 4034 §5.1.4).
    ///
    /// # Errors
    /// [`Error::UnsupportedDigest`] for digest types other than SHA-256 and SHA-384.
    pub fn compute(owner: &Name, key: &Dnskey, digest_type: DigestAlgorithm) -> Result<Ds, Error> {
        let algorithm = match digest_type {
            DigestAlgorithm::SHA256 => &ring::digest::SHA256,
            DigestAlgorithm::SHA384 => &ring::digest::SHA384,
            other => return Err(Error::UnsupportedDigest(other.to_int())),
        };
        // "digest = digest_algorithm( DNSKEY owner name | DNSKEY RDATA)",
        // the owner name in canonical (lower-case, uncompressed) form.
        let mut data = Vec::new();
        compose_owner(owner, &mut data);
        data.extend_from_slice(&key.rdata());
        Ok(Ds {
            key_tag: key.key_tag(),
            algorithm: key.algorithm(),
            digest_type,
            digest: ring::digest::digest(algorithm, &data).as_ref().to_vec(),
        })
    }

    /// The digest as upper-case hex, the way DS records and root-anchors.xml print it.
    pub fn digest_hex(&self) -> String {
        self.digest.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// The record in zone-file presentation format.
    pub fn to_zonefile(&self, owner: &Name, ttl: u32) -> String {
        format!(
            "{} {} IN DS {} {} {} {}",
            owner.fmt_with_dot(),
            ttl,
            self.key_tag,
            self.algorithm.to_int(),
            self.digest_type.to_int(),
            self.digest_hex()
        )
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    #[test]
    fn ds_of_ksk_2010_matches_the_published_root_anchor() {
        let public_key = base64::engine::general_purpose::STANDARD
            .decode("AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjFFVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoXbfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaDX6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlzEheX7ICJBBtuA6G3LQpzW5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relSQageu+ipAdTTJ25AsRTAoub8ONGcLmqrAmRLKBP1dfwhYB4N7knNnulqQxA+Uk1ihz0=")
            .expect("base64");
        let key = Dnskey::new(257, 3, SecurityAlgorithm::RSASHA256, public_key).expect("key");
        let ds = Ds::compute(&Name::root_vec(), &key, DigestAlgorithm::SHA256).expect("ds");
        assert_eq!(ds.key_tag, KeyTag(19036));
        assert_eq!(
            ds.digest_hex(),
            "49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5"
        );
        let ds384 = Ds::compute(&Name::root_vec(), &key, DigestAlgorithm::SHA384).expect("ds");
        assert_eq!(ds384.digest.len(), 48);
    }

    #[test]
    fn owner_name_is_lower_cased() {
        let key = Dnskey::new(257, 3, SecurityAlgorithm::ED25519, vec![9; 32]).expect("key");
        let upper = crate::parse_name("ExAmple.").expect("name");
        let lower = crate::parse_name("example").expect("name");
        assert_eq!(
            Ds::compute(&upper, &key, DigestAlgorithm::SHA256).expect("ds"),
            Ds::compute(&lower, &key, DigestAlgorithm::SHA256).expect("ds")
        );
    }

    #[test]
    fn sha1_is_not_offered() {
        let key = Dnskey::new(257, 3, SecurityAlgorithm::ED25519, vec![9; 32]).expect("key");
        assert_eq!(
            Ds::compute(&Name::root_vec(), &key, DigestAlgorithm::SHA1),
            Err(Error::UnsupportedDigest(1))
        );
    }
}
