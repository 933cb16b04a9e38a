//! The format-neutral model of key signing requests and responses.
//!
//! Every codec maps its format onto these types, so the policy checks and
//! the signer never see where a document came from.

use ceremony_dnssec::{Dnskey, Ds, KeyTag, SecurityAlgorithm};
use jiff::Timestamp;

use crate::Duration;

/// What the `<KSR>` element carries for both requests and responses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The request id, echoed by the response.
    pub id: String,
    /// The serial number of the request.
    pub serial: u64,
    /// The zone whose keys are signed, e.g. `.`.
    pub domain: String,
}

/// A Key Signing Request: the zone operator's ZSK sets, one bundle per slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ksr {
    /// Id, serial and domain.
    pub header: Header,
    /// When the request was made, if the document says.
    pub timestamp: Option<Timestamp>,
    /// The ZSK operator's policy, as claimed by the request.
    pub zsk_policy: SignaturePolicy,
    /// The bundles, in document order.
    pub bundles: Vec<Bundle>,
    /// Whether the request's format carries proof of possession, which decides
    /// whether KSR-BUNDLE-POP applies.
    pub proof_of_possession: ProofOfPossession,
}

/// Whether a request's format carries proof of possession (KSR-BUNDLE-POP).
///
/// The ICANN format signs every bundle's DNSKEY RRset with each of its ZSKs;
/// the Knot DNS and BIND 9 text formats have no place for such signatures.
/// A request from those formats is marked [`ProofOfPossession::NotInFormat`]
/// by its reader, and the check reports itself not applicable rather than
/// passed. Only a codec sets this: a request that should carry the proof
/// and lacks it fails the check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProofOfPossession {
    /// Every key must prove possession by a self-signature in its bundle (ICANN).
    #[default]
    Required,
    /// The format has no proof of possession (Knot DNS, BIND 9 `dnssec-ksr`).
    NotInFormat,
}

/// A Signed Key Response: each bundle's DNSKEY RRset with the KSK signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skr {
    /// Id, serial and domain, echoed from the KSR.
    pub header: Header,
    /// When the response was made, if the document says.
    pub timestamp: Option<Timestamp>,
    /// The KSK operator's policy.
    pub ksk_policy: SignaturePolicy,
    /// The ZSK policy echoed from the KSR.
    pub zsk_policy: SignaturePolicy,
    /// The bundles, in document order.
    pub bundles: Vec<Bundle>,
}

/// Either kind of document, for readers that accept both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Document {
    /// A request.
    Ksr(Ksr),
    /// A response.
    Skr(Skr),
}

impl Document {
    /// Id, serial and domain of either kind.
    pub fn header(&self) -> &Header {
        match self {
            Document::Ksr(ksr) => &ksr.header,
            Document::Skr(skr) => &skr.header,
        }
    }

    /// The bundles of either kind.
    pub fn bundles(&self) -> &[Bundle] {
        match self {
            Document::Ksr(ksr) => &ksr.bundles,
            Document::Skr(skr) => &skr.bundles,
        }
    }
}

/// One slot: a DNSKEY RRset valid from inception to expiration, and its signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    /// The bundle id, unique across requests.
    pub id: String,
    /// Start of the signature validity.
    pub inception: Timestamp,
    /// End of the signature validity.
    pub expiration: Timestamp,
    /// KSKs the requester asks to sign this bundle (`<Signer>`), requests only.
    pub signers: Vec<String>,
    /// The DNSKEY RRset.
    pub keys: Vec<Key>,
    /// ZSK self-signatures in a request, KSK signatures in a response.
    pub signatures: Vec<Signature>,
}

impl Bundle {
    /// The validity period of the bundle's signatures.
    pub fn validity(&self) -> Duration {
        Duration::between(self.inception, self.expiration)
    }

    /// The DNSKEY records of the bundle's RRset.
    pub fn dnskeys(&self) -> impl Iterator<Item = &Dnskey> {
        self.keys.iter().map(|key| &key.dnskey)
    }
}

/// A DNSKEY in a bundle, with the identifier and tag the document gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The document's name for the key (hex DER name for root ZSKs, `Kjqmt7v` for KSKs).
    pub key_identifier: String,
    /// The key tag as written in the document, which a check compares with the computed one.
    pub key_tag: KeyTag,
    /// The record TTL.
    pub ttl: u32,
    /// The record data.
    pub dnskey: Dnskey,
}

/// An RRSIG over a bundle's DNSKEY RRset, as the document gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The identifier of the signing key.
    pub key_identifier: String,
    /// The record TTL.
    pub ttl: u32,
    /// The covered type; 48 (DNSKEY) in every real file.
    pub type_covered: u16,
    /// The signing algorithm.
    pub algorithm: SecurityAlgorithm,
    /// The labels field.
    pub labels: u8,
    /// The original TTL, signed with the data.
    pub original_ttl: u32,
    /// Signature expiration.
    pub expiration: Timestamp,
    /// Signature inception.
    pub inception: Timestamp,
    /// The key tag of the signing key.
    pub key_tag: KeyTag,
    /// The signer's name, e.g. `.`.
    pub signers_name: String,
    /// The raw signature.
    pub signature_data: Vec<u8>,
}

/// The policy a party states for its keys (`<ZSK>` or `<KSK>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignaturePolicy {
    /// How long a key is published before it signs.
    pub publish_safety: Duration,
    /// How long a key stays published after it stops signing.
    pub retire_safety: Duration,
    /// The longest signature validity.
    pub max_signature_validity: Duration,
    /// The shortest signature validity.
    pub min_signature_validity: Duration,
    /// The largest overlap between consecutive bundles.
    pub max_validity_overlap: Duration,
    /// The smallest overlap between consecutive bundles.
    pub min_validity_overlap: Duration,
    /// The algorithms and parameters in use, at least one.
    pub algorithms: Vec<AlgorithmPolicy>,
}

/// One `<SignatureAlgorithm>` of a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlgorithmPolicy {
    /// The DNSSEC algorithm number.
    pub algorithm: SecurityAlgorithm,
    /// The algorithm family's parameters.
    pub params: AlgorithmParams,
}

/// The parameters of `<RSA>`, `<ECDSA>` or `<EdDSA>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlgorithmParams {
    /// `<RSA size exponent/>`.
    Rsa {
        /// Modulus size in bits.
        size: u32,
        /// Public exponent.
        exponent: u64,
    },
    /// `<ECDSA size/>`.
    Ecdsa {
        /// Curve size in bits.
        size: u32,
    },
    /// `<EdDSA size/>`, which the reference signer reads though the schema lacks it.
    EdDsa {
        /// Key size in bits.
        size: u32,
    },
}

/// A Knot DNS or BIND 9 request: the format-neutral [`Ksr`] and what only these formats carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextKsr {
    /// The request. Its `timestamp` is the closing line's "generated at" time.
    pub ksr: Ksr,
    /// The program the closing line names, e.g. `Knot DNS 3.2.6`.
    pub generator: String,
}

/// A Knot DNS or BIND 9 response: the format-neutral [`Skr`] and what only these formats carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextSkr {
    /// The response. Its `timestamp` is the closing line's "generated at" time.
    pub skr: Skr,
    /// The program the closing line names, e.g. `9.20.23-1~deb13u1~bpo12+1-Debian`.
    pub generator: String,
    /// Per bundle of `skr`, in the same order: the records signed besides the
    /// DNSKEY RRset. Empty, or as long as `skr.bundles`.
    pub extra: Vec<ExtraRecords>,
}

impl TextSkr {
    /// Whether bundle `index` is BIND's last re-signing of one request
    /// bundle's keys, at the instant where the next bundle starts answering
    /// the next request bundle.
    ///
    /// `dnssec-ksr sign` 9.20 writes such a pair when a re-signing falls
    /// exactly on the next KSR instant; only the second can be in force.
    pub fn hands_over(&self, index: usize) -> bool {
        match (self.skr.bundles.get(index), self.skr.bundles.get(index + 1)) {
            (Some(this), Some(next)) => {
                this.inception == next.inception
                    && !self.extra(index).starts_request_bundle
                    && self.extra(index + 1).starts_request_bundle
            }
            _ => false,
        }
    }

    /// Removes every [handover](Self::hands_over) bundle, for formats that
    /// cannot hold two bundles at one instant; returns how many went.
    pub fn drop_handovers(&mut self) -> usize {
        let keep: Vec<bool> = (0..self.skr.bundles.len())
            .map(|i| !self.hands_over(i))
            .collect();
        let mut flags = keep.iter();
        self.skr.bundles.retain(|_| *flags.next().unwrap_or(&true));
        if !self.extra.is_empty() {
            let mut flags = keep.iter();
            self.extra.retain(|_| *flags.next().unwrap_or(&true));
        }
        keep.iter().filter(|k| !**k).count()
    }

    /// The extra records of bundle `index`, empty when there are none.
    pub fn extra(&self, index: usize) -> &ExtraRecords {
        static NONE: ExtraRecords = ExtraRecords {
            cdnskeys: Vec::new(),
            cds: Vec::new(),
            signatures: Vec::new(),
            starts_request_bundle: false,
        };
        self.extra.get(index).unwrap_or(&NONE)
    }
}

/// Either kind of text document, for readers that accept both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextDocument {
    /// A request.
    Ksr(TextKsr),
    /// A response.
    Skr(TextSkr),
}

impl TextDocument {
    /// The format-neutral document, without what only the text formats carry.
    pub fn into_document(self) -> Document {
        match self {
            TextDocument::Ksr(text) => Document::Ksr(text.ksr),
            TextDocument::Skr(text) => Document::Skr(text.skr),
        }
    }
}

/// What a response bundle signs besides its DNSKEY RRset: the CDNSKEY and CDS
/// RRsets that tell the parent which KSK to trust (RFC 7344, RFC 8078).
///
/// Knot DNS publishes them when `cds-cdnskey-publish` says so; BIND 9 always
/// does for its KSKs. The ICANN format has no place for them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtraRecords {
    /// The CDNSKEY RRset, each record read as a DNSKEY.
    pub cdnskeys: Vec<Key>,
    /// The CDS RRset.
    pub cds: Vec<Cds>,
    /// The RRSIGs over the CDNSKEY and CDS RRsets, in document order.
    pub signatures: Vec<Signature>,
    /// Whether this response bundle begins the answer to a request bundle:
    /// BIND writes a blank line before each such bundle but the first. Knot
    /// does not say, and its reader leaves this false.
    pub starts_request_bundle: bool,
}

impl ExtraRecords {
    /// Whether the bundle signs nothing but its DNSKEY RRset.
    pub fn is_empty(&self) -> bool {
        self.cdnskeys.is_empty() && self.cds.is_empty() && self.signatures.is_empty()
    }
}

/// A CDS record: a DS the child publishes for its parent (RFC 7344 §3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cds {
    /// The record TTL.
    pub ttl: u32,
    /// The record data, which is a DS record's.
    pub ds: Ds,
}
