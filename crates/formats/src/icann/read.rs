//! Strict reading of ICANN KSR/SKR XML into the model.

use ceremony_dnssec::{Dnskey, KeyTag, SecurityAlgorithm};
use jiff::Timestamp;
use roxmltree::Node;

use crate::model::{
    AlgorithmParams, AlgorithmPolicy, Bundle, Document, Header, Key, Ksr, ProofOfPossession,
    Signature, SignaturePolicy, Skr,
};
use crate::xml::{parse_document, Elements, Reader, Result};
use crate::{time, Error};

/// Parses a KSR or an SKR; `file` names the source in error messages.
///
/// # Errors
/// [`Error::Xml`] for text that is not well-formed XML or has a DOCTYPE,
/// [`Error::Invalid`] for anything the schema or a value's syntax forbids.
pub fn parse(text: &str, file: &str) -> Result<Document, Error> {
    let doc = parse_document(text, file)?;
    let reader = Reader { doc: &doc, file };
    reader.document(doc.root_element())
}

/// Parses a document that must be a KSR.
///
/// # Errors
/// As [`parse`], and [`Error::Invalid`] when the document is an SKR.
pub fn parse_ksr(text: &str, file: &str) -> Result<Ksr, Error> {
    match parse(text, file)? {
        Document::Ksr(ksr) => Ok(ksr),
        Document::Skr(_) => Err(Error::Invalid {
            file: file.to_owned(),
            line: 1,
            column: 1,
            message: "this is an SKR (<Response>), but a KSR (<Request>) was expected".to_owned(),
        }),
    }
}

/// Parses a document that must be an SKR.
///
/// # Errors
/// As [`parse`], and [`Error::Invalid`] when the document is a KSR.
pub fn parse_skr(text: &str, file: &str) -> Result<Skr, Error> {
    match parse(text, file)? {
        Document::Skr(skr) => Ok(skr),
        Document::Ksr(_) => Err(Error::Invalid {
            file: file.to_owned(),
            line: 1,
            column: 1,
            message: "this is a KSR (<Request>), but an SKR (<Response>) was expected".to_owned(),
        }),
    }
}

impl<'input> Reader<'_, 'input> {
    fn leaf_algorithm(&self, els: &mut Elements<'_, 'input>) -> Result<SecurityAlgorithm> {
        let value = self.leaf_uint(els, "Algorithm", 255)?;
        Ok(SecurityAlgorithm::from_int(value as u8))
    }

    fn document(&self, root: Node<'_, 'input>) -> Result<Document> {
        if root.tag_name().name() != "KSR" {
            return Err(self.invalid(
                root,
                format!(
                    "the document element must be <KSR>, found <{}>",
                    root.tag_name().name()
                ),
            ));
        }
        self.attributes(root, &["id", "serial", "domain"], &[])?;
        let header = Header {
            id: self.attr(root, "id").to_owned(),
            serial: self.uint(root, "serial", self.attr(root, "serial"), u64::MAX)?,
            domain: self.attr(root, "domain").to_owned(),
        };
        let mut els = self.elements(root)?;
        let body = match els.peek() {
            Some(node) if node.tag_name().name() == "Request" => {
                els.next += 1;
                Document::Ksr(self.request(header, node)?)
            }
            Some(node) if node.tag_name().name() == "Response" => {
                els.next += 1;
                Document::Skr(self.response(header, node)?)
            }
            Some(node) => {
                return Err(self.invalid(
                    node,
                    format!(
                        "expected <Request> or <Response> in <KSR>, found <{}>",
                        node.tag_name().name()
                    ),
                ))
            }
            None => return Err(self.invalid(root, "<KSR> holds neither <Request> nor <Response>")),
        };
        self.end(&els)?;
        Ok(body)
    }

    fn timestamp(&self, node: Node<'_, '_>) -> Result<Option<Timestamp>> {
        self.attributes(node, &[], &["timestamp"])?;
        node.attribute("timestamp")
            .map(|text| {
                time::parse_datetime(text)
                    .map_err(|why| self.invalid(node, format!("timestamp attribute: {why}")))
            })
            .transpose()
    }

    fn request(&self, header: Header, node: Node<'_, 'input>) -> Result<Ksr> {
        let timestamp = self.timestamp(node)?;
        let mut els = self.elements(node)?;
        let policy_node = self.expect(&mut els, "RequestPolicy")?;
        self.attributes(policy_node, &[], &[])?;
        let mut policy_els = self.elements(policy_node)?;
        let zsk_policy = self.policy(self.expect(&mut policy_els, "ZSK")?)?;
        self.end(&policy_els)?;
        let bundles = self
            .many(&mut els, "RequestBundle", 1)?
            .into_iter()
            .map(|b| self.bundle(b, true))
            .collect::<Result<_>>()?;
        self.end(&els)?;
        Ok(Ksr {
            header,
            timestamp,
            zsk_policy,
            bundles,
            proof_of_possession: ProofOfPossession::Required,
        })
    }

    fn response(&self, header: Header, node: Node<'_, 'input>) -> Result<Skr> {
        let timestamp = self.timestamp(node)?;
        let mut els = self.elements(node)?;
        let policy_node = self.expect(&mut els, "ResponsePolicy")?;
        self.attributes(policy_node, &[], &[])?;
        let mut policy_els = self.elements(policy_node)?;
        let ksk_policy = self.policy(self.expect(&mut policy_els, "KSK")?)?;
        let zsk_policy = self.policy(self.expect(&mut policy_els, "ZSK")?)?;
        self.end(&policy_els)?;
        let bundles = self
            .many(&mut els, "ResponseBundle", 1)?
            .into_iter()
            .map(|b| self.bundle(b, false))
            .collect::<Result<_>>()?;
        self.end(&els)?;
        Ok(Skr {
            header,
            timestamp,
            ksk_policy,
            zsk_policy,
            bundles,
        })
    }

    fn policy(&self, node: Node<'_, 'input>) -> Result<SignaturePolicy> {
        self.attributes(node, &[], &[])?;
        let mut els = self.elements(node)?;
        let policy = SignaturePolicy {
            publish_safety: self.leaf_duration(&mut els, "PublishSafety")?,
            retire_safety: self.leaf_duration(&mut els, "RetireSafety")?,
            max_signature_validity: self.leaf_duration(&mut els, "MaxSignatureValidity")?,
            min_signature_validity: self.leaf_duration(&mut els, "MinSignatureValidity")?,
            max_validity_overlap: self.leaf_duration(&mut els, "MaxValidityOverlap")?,
            min_validity_overlap: self.leaf_duration(&mut els, "MinValidityOverlap")?,
            algorithms: self
                .many(&mut els, "SignatureAlgorithm", 1)?
                .into_iter()
                .map(|n| self.algorithm_policy(n))
                .collect::<Result<_>>()?,
        };
        self.end(&els)?;
        Ok(policy)
    }

    fn algorithm_policy(&self, node: Node<'_, 'input>) -> Result<AlgorithmPolicy> {
        self.attributes(node, &["algorithm"], &[])?;
        let algorithm = self.uint(
            node,
            "algorithm attribute",
            self.attr(node, "algorithm"),
            255,
        )?;
        let mut els = self.elements(node)?;
        let Some(params_node) = els.peek() else {
            return Err(self.invalid(node, "<SignatureAlgorithm> needs <RSA>, <ECDSA> or <EdDSA>"));
        };
        els.next += 1;
        self.end(&els)?;
        if let Some(child) = self.elements(params_node)?.peek() {
            return Err(self.invalid(
                child,
                format!("<{}> must be empty", params_node.tag_name().name()),
            ));
        }
        let size = |n: Node<'_, '_>| -> Result<u32> {
            Ok(self.uint(
                n,
                "size attribute",
                self.attr(n, "size"),
                u64::from(u32::MAX),
            )? as u32)
        };
        let params = match params_node.tag_name().name() {
            "RSA" => {
                self.attributes(params_node, &["size", "exponent"], &[])?;
                AlgorithmParams::Rsa {
                    size: size(params_node)?,
                    exponent: self.uint(
                        params_node,
                        "exponent attribute",
                        self.attr(params_node, "exponent"),
                        u64::MAX,
                    )?,
                }
            }
            "ECDSA" => {
                self.attributes(params_node, &["size"], &[])?;
                AlgorithmParams::Ecdsa {
                    size: size(params_node)?,
                }
            }
            "EdDSA" => {
                self.attributes(params_node, &["size"], &[])?;
                AlgorithmParams::EdDsa {
                    size: size(params_node)?,
                }
            }
            other => {
                return Err(self.invalid(
                    params_node,
                    format!(
                    "expected <RSA>, <ECDSA> or <EdDSA> in <SignatureAlgorithm>, found <{other}>"
                ),
                ))
            }
        };
        Ok(AlgorithmPolicy {
            algorithm: SecurityAlgorithm::from_int(algorithm as u8),
            params,
        })
    }

    fn bundle(&self, node: Node<'_, 'input>, is_request: bool) -> Result<Bundle> {
        self.attributes(node, &["id"], &[])?;
        let mut els = self.elements(node)?;
        let inception = self.leaf_time(&mut els, "Inception")?;
        let expiration = self.leaf_time(&mut els, "Expiration")?;
        let mut signers = Vec::new();
        if is_request {
            for signer in self.many(&mut els, "Signer", 0)? {
                self.attributes(signer, &["keyIdentifier"], &[])?;
                if let Some(child) = self.elements(signer)?.peek() {
                    return Err(self.invalid(child, "<Signer> must be empty"));
                }
                signers.push(self.attr(signer, "keyIdentifier").to_owned());
            }
        }
        let keys = self
            .many(&mut els, "Key", 1)?
            .into_iter()
            .map(|k| self.key(k))
            .collect::<Result<_>>()?;
        let signatures = self
            .many(&mut els, "Signature", 1)?
            .into_iter()
            .map(|s| self.signature(s))
            .collect::<Result<_>>()?;
        self.end(&els)?;
        Ok(Bundle {
            id: self.attr(node, "id").to_owned(),
            inception,
            expiration,
            signers,
            keys,
            signatures,
        })
    }

    fn key(&self, node: Node<'_, 'input>) -> Result<Key> {
        self.attributes(node, &["keyIdentifier", "keyTag"], &[])?;
        let key_tag = self.uint(node, "keyTag attribute", self.attr(node, "keyTag"), 65535)? as u16;
        let mut els = self.elements(node)?;
        let ttl = self.leaf_uint(&mut els, "TTL", u64::from(u32::MAX))? as u32;
        let flags = self.leaf_uint(&mut els, "Flags", 65535)? as u16;
        let (protocol_node, protocol_text) = self.leaf(&mut els, "Protocol")?;
        let protocol = self.uint(protocol_node, "<Protocol>", protocol_text, 255)? as u8;
        if protocol != 3 {
            return Err(self.invalid(
                protocol_node,
                format!("<Protocol> must be 3 (RFC 4034 §2.1.2), found {protocol}"),
            ));
        }
        let algorithm = self.leaf_algorithm(&mut els)?;
        let public_key_node = els.peek();
        let public_key = self.leaf_base64(&mut els, "PublicKey")?;
        self.end(&els)?;
        let dnskey = Dnskey::new(flags, protocol, algorithm, public_key)
            .map_err(|err| self.invalid(public_key_node.unwrap_or(node), err.to_string()))?;
        Ok(Key {
            key_identifier: self.attr(node, "keyIdentifier").to_owned(),
            key_tag: KeyTag(key_tag),
            ttl,
            dnskey,
        })
    }

    fn signature(&self, node: Node<'_, 'input>) -> Result<Signature> {
        self.attributes(node, &["keyIdentifier"], &[])?;
        let mut els = self.elements(node)?;
        let ttl = self.leaf_uint(&mut els, "TTL", u64::from(u32::MAX))? as u32;
        let (type_node, type_text) = self.leaf(&mut els, "TypeCovered")?;
        let type_covered = parse_rtype(type_text).ok_or_else(|| {
            self.invalid(
                type_node,
                format!("<TypeCovered> must be a type such as DNSKEY, found {type_text:?}"),
            )
        })?;
        let algorithm = self.leaf_algorithm(&mut els)?;
        let labels = self.leaf_uint(&mut els, "Labels", 255)? as u8;
        let original_ttl = self.leaf_uint(&mut els, "OriginalTTL", u64::from(u32::MAX))? as u32;
        let expiration = self.leaf_time(&mut els, "SignatureExpiration")?;
        let inception = self.leaf_time(&mut els, "SignatureInception")?;
        let key_tag = self.leaf_uint(&mut els, "KeyTag", 65535)? as u16;
        let (_, signers_name) = self.leaf(&mut els, "SignersName")?;
        let signature_data = self.leaf_base64(&mut els, "SignatureData")?;
        self.end(&els)?;
        Ok(Signature {
            key_identifier: self.attr(node, "keyIdentifier").to_owned(),
            ttl,
            type_covered,
            algorithm,
            labels,
            original_ttl,
            expiration,
            inception,
            key_tag: KeyTag(key_tag),
            signers_name: signers_name.to_owned(),
            signature_data,
        })
    }
}

/// The mnemonics a KSR may name, and RFC 3597's `TYPEnnn`.
fn parse_rtype(text: &str) -> Option<u16> {
    match text.to_ascii_uppercase().as_str() {
        "DNSKEY" => Some(48),
        "CDS" => Some(59),
        "CDNSKEY" => Some(60),
        upper => upper.strip_prefix("TYPE").and_then(|n| {
            (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .then(|| n.parse().ok())
                .flatten()
        }),
    }
}

/// The mnemonic the writer uses for a covered type.
pub(crate) fn rtype_name(rtype: u16) -> String {
    match rtype {
        48 => "DNSKEY".to_owned(),
        59 => "CDS".to_owned(),
        60 => "CDNSKEY".to_owned(),
        other => format!("TYPE{other}"),
    }
}
