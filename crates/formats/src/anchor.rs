//! RFC 9718 trust anchors: the `root-anchors.xml` that IANA publishes.
//!
//! ```text
//! <TrustAnchor id="…" source="…">
//!   <Zone>.</Zone>
//!   <KeyDigest id="Klajeyz" validFrom="2017-02-02T00:00:00+00:00">
//!     <KeyTag>20326</KeyTag> <Algorithm>8</Algorithm> <DigestType>2</DigestType>
//!     <Digest>E06D44B8…</Digest> <PublicKey>AwEAAaz…</PublicKey> <Flags>257</Flags>
//!   </KeyDigest>
//! </TrustAnchor>
//! ```
//!
//! `PublicKey` and `Flags` are new in RFC 9718; RFC 7958 files lack them, and
//! then the digest cannot be checked against a key.

use std::fmt::Write as _;

use base64::Engine as _;
use ceremony_dnssec::{DigestAlgorithm, Dnskey, Ds, SecurityAlgorithm};
use jiff::Timestamp;
use roxmltree::Node;

use crate::time;
use crate::xml::{parse_document, Reader, Result};

/// A `<TrustAnchor>` document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The document id.
    pub id: String,
    /// Where the document is published.
    pub source: String,
    /// The zone the anchors are for, `.` for the root.
    pub zone: String,
    /// The key digests, in document order.
    pub digests: Vec<KeyDigest>,
}

/// One `<KeyDigest>`: a DS record with a validity period, and optionally the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyDigest {
    /// The key's identifier, e.g. `Klajeyz`.
    pub id: String,
    /// When the anchor becomes valid.
    pub valid_from: Timestamp,
    /// When it stops being valid, if it does.
    pub valid_until: Option<Timestamp>,
    /// The DS record it states.
    pub ds: Ds,
    /// The DNSKEY, built from `PublicKey` and `Flags` when both are present.
    pub dnskey: Option<Dnskey>,
}

impl TrustAnchor {
    /// The anchors for `zone`'s KSKs, each as (identifier, valid from, valid until, key),
    /// with SHA-256 digests and an id derived from them.
    ///
    /// # Errors
    /// A message when `zone` is not a domain name.
    pub fn for_keys(
        zone: &str,
        keys: &[(String, Timestamp, Option<Timestamp>, Dnskey)],
    ) -> std::result::Result<TrustAnchor, String> {
        let owner = ceremony_dnssec::parse_name(zone).map_err(|e| e.to_string())?;
        let mut digests = Vec::new();
        for (id, valid_from, valid_until, dnskey) in keys {
            let ds =
                Ds::compute(&owner, dnskey, DigestAlgorithm::SHA256).map_err(|e| e.to_string())?;
            digests.push(KeyDigest {
                id: id.clone(),
                valid_from: *valid_from,
                valid_until: *valid_until,
                ds,
                dnskey: Some(dnskey.clone()),
            });
        }
        let all: String = digests.iter().map(|d| d.ds.digest_hex()).collect();
        let h = crate::Fingerprint::of(all.as_bytes()).hex().to_uppercase();
        Ok(TrustAnchor {
            id: format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            ),
            source: if zone == "." {
                "https://data.iana.org/root-anchors/root-anchors.xml".to_owned()
            } else {
                format!("ceremony:{zone}")
            },
            zone: zone.to_owned(),
            digests,
        })
    }

    /// Parses a `root-anchors.xml` document.
    ///
    /// # Errors
    /// As the KSR reader: [`crate::Error::Xml`] or [`crate::Error::Invalid`] with file, line and column.
    pub fn parse(text: &str, file: &str) -> Result<TrustAnchor> {
        let doc = parse_document(text, file)?;
        Reader { doc: &doc, file }.trust_anchor(doc.root_element())
    }

    /// Writes the document in RFC 9718 form, with `PublicKey` and `Flags` where known.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<TrustAnchor id=\"{}\" source=\"{}\">\n<Zone>{}</Zone>",
            escape(&self.id),
            escape(&self.source),
            escape(&self.zone)
        );
        for digest in &self.digests {
            let until = digest
                .valid_until
                .map(|t| format!(" validUntil=\"{}\"", time::format_datetime(t)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<KeyDigest id=\"{}\" validFrom=\"{}\"{until}>\n<KeyTag>{}</KeyTag>\n<Algorithm>{}</Algorithm>\n<DigestType>{}</DigestType>\n<Digest>{}</Digest>",
                escape(&digest.id),
                time::format_datetime(digest.valid_from),
                digest.ds.key_tag,
                digest.ds.algorithm.to_int(),
                digest.ds.digest_type.to_int(),
                digest.ds.digest_hex(),
            );
            if let Some(key) = &digest.dnskey {
                let _ = writeln!(
                    out,
                    "<PublicKey>{}</PublicKey>\n<Flags>{}</Flags>",
                    key.public_key_base64(),
                    key.flags()
                );
            }
            out.push_str("</KeyDigest>\n");
        }
        out.push_str("</TrustAnchor>\n");
        out
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl<'input> Reader<'_, 'input> {
    fn trust_anchor(&self, root: Node<'_, 'input>) -> Result<TrustAnchor> {
        if root.tag_name().name() != "TrustAnchor" {
            return Err(self.invalid(
                root,
                format!(
                    "the document element must be <TrustAnchor>, found <{}>",
                    root.tag_name().name()
                ),
            ));
        }
        self.attributes(root, &["id", "source"], &[])?;
        let mut els = self.elements(root)?;
        let (_, zone) = self.leaf(&mut els, "Zone")?;
        let digests = self
            .many(&mut els, "KeyDigest", 1)?
            .into_iter()
            .map(|node| self.key_digest(node))
            .collect::<Result<_>>()?;
        self.end(&els)?;
        Ok(TrustAnchor {
            id: self.attr(root, "id").to_owned(),
            source: self.attr(root, "source").to_owned(),
            zone: zone.to_owned(),
            digests,
        })
    }

    fn key_digest(&self, node: Node<'_, 'input>) -> Result<KeyDigest> {
        self.attributes(node, &["id", "validFrom"], &["validUntil"])?;
        let instant = |name: &str| -> Result<Option<Timestamp>> {
            node.attribute(name)
                .map(|text| {
                    time::parse_datetime(text)
                        .map_err(|why| self.invalid(node, format!("{name} attribute: {why}")))
                })
                .transpose()
        };
        let valid_from = instant("validFrom")?.unwrap_or_default();
        let valid_until = instant("validUntil")?;
        let mut els = self.elements(node)?;
        let key_tag = self.leaf_uint(&mut els, "KeyTag", 65535)? as u16;
        let algorithm =
            SecurityAlgorithm::from_int(self.leaf_uint(&mut els, "Algorithm", 255)? as u8);
        let digest_type =
            DigestAlgorithm::from_int(self.leaf_uint(&mut els, "DigestType", 255)? as u8);
        let (digest_node, digest_text) = self.leaf(&mut els, "Digest")?;
        let digest = decode_hex(digest_text).ok_or_else(|| {
            self.invalid(
                digest_node,
                format!("<Digest> must be hexadecimal, found {digest_text:?}"),
            )
        })?;
        let public_key = match els.peek() {
            Some(n) if n.tag_name().name() == "PublicKey" => {
                let (n, text) = self.leaf(&mut els, "PublicKey")?;
                let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                Some(
                    base64::engine::general_purpose::STANDARD
                        .decode(compact.as_bytes())
                        .map_err(|err| {
                            self.invalid(n, format!("<PublicKey> is not valid base64: {err}"))
                        })?,
                )
            }
            _ => None,
        };
        let flags = match (&public_key, els.peek()) {
            (Some(_), _) => Some(self.leaf_uint(&mut els, "Flags", 65535)? as u16),
            (None, Some(n)) if n.tag_name().name() == "Flags" => {
                return Err(
                    self.invalid(n, "<Flags> without <PublicKey> (RFC 9718 §2.2 needs both)")
                )
            }
            _ => None,
        };
        self.end(&els)?;
        let dnskey = match (public_key, flags) {
            (Some(key), Some(flags)) => Some(
                Dnskey::new(flags, 3, algorithm, key)
                    .map_err(|err| self.invalid(node, err.to_string()))?,
            ),
            _ => None,
        };
        Ok(KeyDigest {
            id: self.attr(node, "id").to_owned(),
            valid_from,
            valid_until,
            ds: Ds {
                key_tag: ceremony_dnssec::KeyTag(key_tag),
                algorithm,
                digest_type,
                digest,
            },
            dnskey,
        })
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || text.is_empty() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

/// What checking one `<KeyDigest>` against its own key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DigestCheck {
    /// The key hashes to the digest and the tag is the key's.
    Matches,
    /// RFC 7958 style: no key in the file, nothing to check the digest against.
    NoKey,
    /// The key's tag differs from `<KeyTag>`.
    WrongTag {
        /// The tag computed from the key.
        computed: u16,
    },
    /// The key's digest differs from `<Digest>`.
    WrongDigest {
        /// The digest computed from the key, upper-case hex.
        computed: String,
    },
    /// The digest type cannot be computed.
    UnsupportedDigest,
}

impl KeyDigest {
    /// Checks that the `PublicKey`/`Flags`/`Algorithm` hash to `Digest` and `KeyTag` for `zone`.
    pub fn check(&self, zone: &ceremony_dnssec::Name) -> DigestCheck {
        let Some(key) = &self.dnskey else {
            return DigestCheck::NoKey;
        };
        if key.key_tag() != self.ds.key_tag {
            return DigestCheck::WrongTag {
                computed: key.key_tag().0,
            };
        }
        match Ds::compute(zone, key, self.ds.digest_type) {
            Ok(ds) if ds.digest == self.ds.digest => DigestCheck::Matches,
            Ok(ds) => DigestCheck::WrongDigest {
                computed: ds.digest_hex(),
            },
            Err(_) => DigestCheck::UnsupportedDigest,
        }
    }
}
