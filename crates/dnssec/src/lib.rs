//! DNSSEC records as an offline KSK ceremony needs them.
//!
//! This crate implements the small part of DNSSEC that a key ceremony
//! touches, on top of NLnet Labs' [`domain`]:
//!
//! * DNSKEY records and their key tags ([RFC 4034 App. B]), including the
//!   tag change when a key is revoked ([RFC 5011] flag 0x0080);
//! * DS digests, SHA-256 and SHA-384 ([RFC 4509], [RFC 6605]);
//! * the exact data an RRSIG over a DNSKEY RRset signs
//!   ([RFC 4034 §3.1.8.1]), with explicit inception and expiration;
//! * signature verification for algorithms 8 (RSASHA256),
//!   13 (ECDSAP256SHA256) and 15 (ED25519).
//!
//! Out of scope: zone signing, NSEC/NSEC3, and anything that needs a
//! resolver. This crate depends on nothing else of Ceremony's.
//!
//! Start with [`Dnskey`], [`RrsigHeader::signed_data`] and [`verify`].
//!
//! [RFC 4034 App. B]: https://www.rfc-editor.org/rfc/rfc4034#appendix-B
//! [RFC 4034 §3.1.8.1]: https://www.rfc-editor.org/rfc/rfc4034#section-3.1.8.1
//! [RFC 5011]: https://www.rfc-editor.org/rfc/rfc5011
//! [RFC 4509]: https://www.rfc-editor.org/rfc/rfc4509
//! [RFC 6605]: https://www.rfc-editor.org/rfc/rfc6605
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod ds;
mod error;
mod key;
mod rrsig;
mod verify;

pub use domain::base::iana::{DigestAlgorithm, SecurityAlgorithm};
pub use ds::Ds;
pub use error::Error;
pub use key::{Dnskey, KeyParams, KeyTag};
pub use rrsig::{RrsigHeader, DNSKEY_RTYPE};
pub use verify::verify;

/// An absolute domain name, such as `.` or `example.`.
pub type Name = domain::base::Name<Vec<u8>>;

/// Parses a domain name in presentation format, adding the final dot if missing.
///
/// # Errors
/// [`Error::BadName`] when the text is not a valid domain name.
pub fn parse_name(text: &str) -> Result<Name, Error> {
    let absolute = if text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.")
    };
    Name::vec_from_str(&absolute).map_err(|_| Error::BadName(text.to_owned()))
}

/// An algorithm as people name it: `RSASHA256 (8)`, or the number alone when it has no mnemonic.
pub fn algorithm_name(algorithm: SecurityAlgorithm) -> String {
    match algorithm.to_mnemonic_str() {
        Some(name) => format!("{name} ({})", algorithm.to_int()),
        None => algorithm.to_int().to_string(),
    }
}
