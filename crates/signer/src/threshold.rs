//! A KSK shared among holders (Shoup 2000 threshold RSA), through the signing seam.
//!
//! Offline, no network: each holder recomputes the RRSIG signed data of every
//! bundle from the KSR, the schema and the configuration exactly as
//! [`crate::sign_ksr`] would ([`signed_data`]), checks it, and signs it with
//! their share ([`partials_for`]). The combiner recomputes the same data,
//! admits only shares that are for this KSR, this key, this bundle and these
//! bytes, and whose proofs verify ([`admit`]); then [`ThresholdCombiner`] is
//! the key [`crate::sign_ksr`] signs with, so every check and SKR-VERIFY runs.
//!
//! FROST Ed25519 (RFC 9591) group keys plug in the same way: the holders run
//! their two rounds over the data [`signed_data_for`] gives them, and
//! [`FrostCombiner`] aggregates each completed session when the signer asks.
//! For a Knot DNS or BIND 9 KSR, [`text_signed_data`] gives the data the text
//! signer will ask the group to sign (DNSKEY, CDNSKEY and CDS RRsets).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use ceremony_dnssec::Dnskey;
use ceremony_formats::model::TextKsr;
use ceremony_formats::Ksr;
use ceremony_keys::{KeyError, KeyIdentity, KeySigner};
use ceremony_threshold::frost::{self, GroupKey};
use ceremony_threshold::shoup::{KeyShare, SignatureShare, SigningSession, ThresholdPublicKey};
use ceremony_threshold::Error as ThresholdError;
use serde::{Deserialize, Serialize};

use crate::config::SignerConfig;
use crate::schema::Schema;
use crate::sign::{build_skr_with, KeyRing, SignRequest};
use crate::textsign::{plan_response, sign_slots_with, Peer, TextPolicy};
use crate::SignError;

/// The format tag of a partials file.
pub const PARTIALS_FORMAT: &str = "ceremony-threshold-partials/1";

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Lower-case hex.
pub fn hex32(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One RRSIG the threshold key makes: the bundle and the exact signed data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleData {
    /// The KSR bundle's id.
    pub bundle_id: String,
    /// The RFC 4034 §3.1.8.1 signed data.
    pub data: Vec<u8>,
}

/// The threshold key as the signer sees it: public key, label and, for the
/// combiner, the verified shares of each signed data it will be asked for.
pub struct ThresholdCombiner {
    identity: KeyIdentity,
    dnskey: Dnskey,
    public: ThresholdPublicKey,
    shares: HashMap<[u8; 32], Vec<SignatureShare>>,
}

impl ThresholdCombiner {
    /// The key labelled `label`, with no shares yet (enough for the checks).
    ///
    /// # Errors
    /// [`KeyError::BadKey`] when the public key makes no DNSKEY.
    pub fn new(label: &str, public: ThresholdPublicKey) -> Result<ThresholdCombiner, KeyError> {
        let (identity, dnskey) = seam_identity(
            &format!("threshold key {label}"),
            label,
            public.dnskey(),
            public.modulus_bits(),
        )?;
        Ok(ThresholdCombiner {
            identity,
            dnskey,
            public,
            shares: HashMap::new(),
        })
    }

    /// The shares, by SHA-256 of the signed data, to combine when asked to sign it.
    pub fn with_shares(mut self, shares: HashMap<[u8; 32], Vec<SignatureShare>>) -> Self {
        self.shares = shares;
        self
    }

    /// The threshold public key.
    pub fn public(&self) -> &ThresholdPublicKey {
        &self.public
    }
}

impl KeySigner for ThresholdCombiner {
    fn identity(&self) -> &KeyIdentity {
        &self.identity
    }

    fn dnskey(&self) -> &Dnskey {
        &self.dnskey
    }

    fn sign(&self, signed_data: &[u8]) -> Result<Vec<u8>, KeyError> {
        let fail = |reason: String| sign_failed(&self.identity, reason);
        let hash = sha256(signed_data);
        let shares = self.shares.get(&hash).map(Vec::as_slice).unwrap_or(&[]);
        let mut session =
            SigningSession::new(&self.public, signed_data).map_err(|e| fail(e.to_string()))?;
        // The same signed data can be asked for twice (BIND's handover pair
        // signs identical CDNSKEY and CDS RRsets), so a holder's share of it
        // may arrive twice: one per holder is combined.
        let mut seen = std::collections::BTreeSet::new();
        for share in shares.iter().filter(|s| seen.insert(s.index)) {
            session.add_share(share).map_err(|e| fail(e.to_string()))?;
        }
        let signature = session.combine().map_err(|e| {
            let holders: Vec<String> = shares.iter().map(|s| s.index.to_string()).collect();
            fail(format!(
                "signed data {}: {e} (shares from holders [{}]; the quorum of {} is missing)",
                hex32(&hash),
                holders.join(", "),
                self.public.threshold()
            ))
        })?;
        self.public
            .verify_signature(signed_data, &signature)
            .map_err(|e| fail(e.to_string()))?;
        Ok(signature)
    }
}

/// How the signing seam names a group key labelled `label`, and its DNSKEY.
fn seam_identity(
    what: &str,
    label: &str,
    dnskey: Result<Dnskey, ceremony_threshold::Error>,
    bits: u32,
) -> Result<(KeyIdentity, Dnskey), KeyError> {
    let dnskey = dnskey.map_err(|err| KeyError::BadKey {
        what: what.to_owned(),
        reason: err.to_string(),
    })?;
    let identity = KeyIdentity {
        label: label.to_owned(),
        algorithm: dnskey.algorithm(),
        bits,
    };
    Ok((identity, dnskey))
}

/// The seam's error for a group key that could not sign, naming the key.
fn sign_failed(identity: &KeyIdentity, reason: String) -> KeyError {
    KeyError::SignFailed {
        what: format!("threshold key {}", identity.label),
        reason,
    }
}

/// A FROST Ed25519 group key (RFC 9591) as the signer sees it: the group key,
/// its label and, for the combiner, one signing session per signed data, each
/// holding the commitments and verified signature shares of its signers.
pub struct FrostCombiner {
    identity: KeyIdentity,
    dnskey: Dnskey,
    group: GroupKey,
    sessions: HashMap<[u8; 32], frost::SigningSession>,
}

impl FrostCombiner {
    /// The group key labelled `label`, with no sessions yet (enough for the checks).
    ///
    /// # Errors
    /// [`KeyError::BadKey`] when the group key makes no DNSKEY.
    pub fn new(label: &str, group: GroupKey) -> Result<FrostCombiner, KeyError> {
        let (identity, dnskey) = seam_identity(
            &format!("FROST group key {label}"),
            label,
            group.dnskey(),
            256,
        )?;
        Ok(FrostCombiner {
            identity,
            dnskey,
            group,
            sessions: HashMap::new(),
        })
    }

    /// The sessions, by SHA-256 of the signed data each was opened for.
    pub fn with_sessions(mut self, sessions: HashMap<[u8; 32], frost::SigningSession>) -> Self {
        self.sessions = sessions;
        self
    }

    /// The group key.
    pub fn group(&self) -> &GroupKey {
        &self.group
    }
}

impl KeySigner for FrostCombiner {
    fn identity(&self) -> &KeyIdentity {
        &self.identity
    }

    fn dnskey(&self) -> &Dnskey {
        &self.dnskey
    }

    fn sign(&self, signed_data: &[u8]) -> Result<Vec<u8>, KeyError> {
        let fail = |reason: String| sign_failed(&self.identity, reason);
        let hash = sha256(signed_data);
        let need = self.group.min_signers().map_err(|e| fail(e.to_string()))?;
        let session = self.sessions.get(&hash).ok_or_else(|| {
            fail(format!(
                "signed data {}: no signing session (no quorum of {need} holders committed to it)",
                hex32(&hash)
            ))
        })?;
        let signature = session.aggregate().map_err(|e| {
            fail(format!(
                "signed data {}: {e} (the quorum of {need} is missing)",
                hex32(&hash)
            ))
        })?;
        // The session was found by hash; the signature must be over these very bytes.
        self.group
            .verify(signed_data, &signature)
            .map_err(|e| fail(e.to_string()))?;
        Ok(signature.to_vec())
    }
}

/// A key that signs nothing: it records the signed data the signer hands it,
/// so that holders learn exactly what [`crate::sign_ksr`] will ask the group to sign.
struct Recording {
    identity: KeyIdentity,
    dnskey: Dnskey,
    data: RefCell<Vec<Vec<u8>>>,
}

impl Recording {
    fn new(label: String, dnskey: &Dnskey) -> Recording {
        Recording {
            identity: KeyIdentity {
                label,
                algorithm: dnskey.algorithm(),
                bits: 0,
            },
            dnskey: dnskey.clone(),
            data: RefCell::new(Vec::new()),
        }
    }

    fn take(&self) -> Vec<Vec<u8>> {
        self.data.take()
    }
}

impl KeySigner for Recording {
    fn identity(&self) -> &KeyIdentity {
        &self.identity
    }

    fn dnskey(&self) -> &Dnskey {
        &self.dnskey
    }

    fn sign(&self, signed_data: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.data.borrow_mut().push(signed_data.to_vec());
        Ok(Vec::new())
    }
}

/// The signed data of every RRSIG the threshold key makes over `ksr`, in
/// bundle order, built by the signer's own code path (the schema, the
/// configuration's TTL and signer's name, the RRset as [`crate::sign_ksr`] builds it).
///
/// Every key the schema names must be the threshold key (one KSK).
///
/// # Errors
/// [`SignError`] for a schema or configuration that cannot build the bundles.
pub fn signed_data(
    ksr: &Ksr,
    schema: &Schema,
    config: &SignerConfig,
    public: &ThresholdPublicKey,
    now: jiff::Timestamp,
) -> Result<Vec<BundleData>, SignError> {
    let dnskey = public.dnskey().map_err(|err| KeyError::BadKey {
        what: "threshold key".to_owned(),
        reason: err.to_string(),
    })?;
    signed_data_for(ksr, schema, config, &dnskey, now)
}

/// [`signed_data`] for any group key given as its KSK DNSKEY: a Shoup RSA
/// key or a FROST Ed25519 group key.
///
/// # Errors
/// As [`signed_data`].
pub fn signed_data_for(
    ksr: &Ksr,
    schema: &Schema,
    config: &SignerConfig,
    dnskey: &Dnskey,
    now: jiff::Timestamp,
) -> Result<Vec<BundleData>, SignError> {
    let recorders: Vec<(String, Recording)> = schema_keys(schema)
        .into_iter()
        .map(|name| {
            let label = config
                .keys
                .get(&name)
                .map(|k| k.label.clone())
                .unwrap_or_else(|| name.clone());
            (name, Recording::new(label, dnskey))
        })
        .collect();
    let ring: KeyRing<'_> = recorders
        .iter()
        .map(|(name, key)| (name.clone(), key as &dyn KeySigner))
        .collect();
    let request = SignRequest {
        ksr,
        schema,
        config,
        keys: &ring,
        previous: None,
        now,
    };
    let skr = build_skr_with(&request, false)?;
    // The signer calls sign() once per signature, in bundle order; each key records its own.
    let mut recorded: BTreeMap<String, std::vec::IntoIter<Vec<u8>>> = recorders
        .into_iter()
        .map(|(_, key)| (key.identity.label.clone(), key.take().into_iter()))
        .collect();
    let mut out = Vec::new();
    for bundle in &skr.bundles {
        for signature in &bundle.signatures {
            if let Some(data) = recorded
                .get_mut(&signature.key_identifier)
                .and_then(Iterator::next)
            {
                out.push(BundleData {
                    bundle_id: bundle.id.clone(),
                    data,
                });
            }
        }
    }
    Ok(out)
}

/// The signed data of every RRSIG (DNSKEY, CDNSKEY, CDS) the group key makes
/// over a Knot DNS or BIND 9 KSR under `peer`'s rules, in response order,
/// built by the text signer's own code path; each is labelled with the id of
/// the response bundle it belongs to.
///
/// # Errors
/// [`SignError`] for settings that cannot plan or build the response.
pub fn text_signed_data(
    peer: Peer,
    request: &TextKsr,
    dnskey: &Dnskey,
    policy: &TextPolicy,
) -> Result<Vec<BundleData>, SignError> {
    let key = Recording::new(dnskey.key_tag().to_string(), dnskey);
    let mut out = Vec::new();
    for slot in plan_response(peer, request, policy)? {
        let signed = sign_slots_with(
            peer,
            request,
            &[&key as &dyn KeySigner],
            policy,
            std::slice::from_ref(&slot),
            false,
        )?;
        let id = signed
            .first()
            .map(|(bundle, _)| bundle.id.clone())
            .unwrap_or_default();
        out.extend(key.take().into_iter().map(|data| BundleData {
            bundle_id: id.clone(),
            data,
        }));
    }
    Ok(out)
}

/// The names of the keys the schema uses, sorted.
pub fn schema_keys(schema: &Schema) -> Vec<String> {
    let mut names: Vec<String> = schema
        .slots
        .values()
        .flat_map(|a| a.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// One holder's share over one bundle's signed data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialShare {
    /// The KSR bundle's id.
    pub id: String,
    /// SHA-256 of the signed data the holder computed, hex.
    pub signed_data_sha256: String,
    /// The signature share with its proof.
    pub share: SignatureShare,
}

/// A holder's partials file: every share they made for one KSR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partials {
    /// [`PARTIALS_FORMAT`].
    pub format: String,
    /// SHA-256 of the KSR file the holder signed, hex.
    pub ksr_sha256: String,
    /// The KSR's id.
    pub ksr_id: String,
    /// The key tag of the threshold DNSKEY.
    pub key_tag: u16,
    /// The holder's index.
    pub holder: u16,
    /// One share per RRSIG, in bundle order.
    pub bundles: Vec<PartialShare>,
}

/// A holder signs every bundle's data with their share.
///
/// # Errors
/// The threshold error when the share does not belong to the key.
pub fn partials_for(
    share: &KeyShare,
    data: &[BundleData],
    ksr: &Ksr,
    ksr_sha256: &[u8; 32],
) -> Result<Partials, ThresholdError> {
    share.check()?;
    let dnskey = share.public_key().dnskey()?;
    let mut rng = rand_core::OsRng;
    let bundles = data
        .iter()
        .map(|b| {
            Ok(PartialShare {
                id: b.bundle_id.clone(),
                signed_data_sha256: hex32(&sha256(&b.data)),
                share: share.sign_share(&b.data, &mut rng)?,
            })
        })
        .collect::<Result<Vec<_>, ThresholdError>>()?;
    Ok(Partials {
        format: PARTIALS_FORMAT.to_owned(),
        ksr_sha256: hex32(ksr_sha256),
        ksr_id: ksr.header.id.clone(),
        key_tag: dnskey.key_tag().0,
        holder: share.index(),
        bundles,
    })
}

/// What [`admit`] found: the shares to combine, and every refusal naming its holder.
#[derive(Debug, Default)]
pub struct Admission {
    /// Verified shares by SHA-256 of the signed data.
    pub shares: HashMap<[u8; 32], Vec<SignatureShare>>,
    /// Each partials file or share refused, with the holder and the reason.
    pub rejected: Vec<String>,
    /// Each RRSIG that lacks a quorum of verified shares.
    pub short: Vec<String>,
}

impl Admission {
    /// No refusal and a quorum for every RRSIG.
    pub fn is_ok(&self) -> bool {
        self.rejected.is_empty() && self.short.is_empty()
    }
}

/// Checks every partials file (`(file name, partials)`) against the data
/// recomputed here and the KSR's hash; verifies each share's proof.
pub fn admit(
    public: &ThresholdPublicKey,
    data: &[BundleData],
    ksr_sha256: &[u8; 32],
    files: &[(String, Partials)],
) -> Admission {
    let mut admission = Admission::default();
    let ksr_hex = hex32(ksr_sha256);
    let tag = public.dnskey().map(|d| d.key_tag().0).ok();
    let expected: Vec<(String, String)> = data
        .iter()
        .map(|b| (b.bundle_id.clone(), hex32(&sha256(&b.data))))
        .collect();
    let mut accepted: Vec<Vec<u16>> = vec![Vec::new(); data.len()];
    let mut seen_holders: BTreeMap<u16, String> = BTreeMap::new();
    for (file, partials) in files {
        let who = format!("holder {} ({file})", partials.holder);
        let mut reject = |reason: String| admission.rejected.push(format!("{who}: {reason}"));
        if partials.format != PARTIALS_FORMAT {
            reject(format!(
                "format {:?}, not {PARTIALS_FORMAT}",
                partials.format
            ));
            continue;
        }
        if !(1..=public.holders()).contains(&partials.holder) {
            reject(format!(
                "unknown holder: the key has holders 1 to {}",
                public.holders()
            ));
            continue;
        }
        if Some(partials.key_tag) != tag {
            reject(format!(
                "partials for key tag {}, not this threshold key ({})",
                partials.key_tag,
                tag.unwrap_or_default()
            ));
            continue;
        }
        if partials.ksr_sha256 != ksr_hex {
            reject(format!(
                "partials for another KSR (id {}, SHA-256 {}), not this one (SHA-256 {ksr_hex}): replayed from an earlier KSR?",
                partials.ksr_id, partials.ksr_sha256
            ));
            continue;
        }
        if let Some(other) = seen_holders.insert(partials.holder, file.clone()) {
            reject(format!(
                "a second partials file from this holder (first: {other})"
            ));
            continue;
        }
        let mut used = vec![false; data.len()];
        for entry in &partials.bundles {
            if entry.share.index != partials.holder {
                reject(format!(
                    "bundle {}: the share claims holder {}",
                    entry.id, entry.share.index
                ));
                continue;
            }
            let slot = (0..data.len()).find(|&i| {
                !used[i] && expected[i].0 == entry.id && expected[i].1 == entry.signed_data_sha256
            });
            let Some(slot) = slot else {
                if !expected.iter().any(|(id, _)| *id == entry.id) {
                    reject(format!("bundle {} is not in this KSR", entry.id));
                } else if let Some((other, _)) = expected
                    .iter()
                    .find(|(_, hash)| *hash == entry.signed_data_sha256)
                {
                    reject(format!(
                        "the share for bundle {} is over the signed data of bundle {other}",
                        entry.id
                    ));
                } else {
                    reject(format!(
                        "the share for bundle {} is over other data (SHA-256 {}) than recomputed here",
                        entry.id, entry.signed_data_sha256
                    ));
                }
                continue;
            };
            match public.verify_share(&data[slot].data, &entry.share) {
                Ok(()) => {
                    used[slot] = true;
                    accepted[slot].push(partials.holder);
                    admission
                        .shares
                        .entry(sha256(&data[slot].data))
                        .or_default()
                        .push(entry.share.clone());
                }
                Err(err) => reject(format!(
                    "the share for bundle {} fails its proof: {err}",
                    entry.id
                )),
            }
        }
    }
    let need = usize::from(public.threshold());
    for (i, holders) in accepted.iter().enumerate() {
        if holders.len() < need {
            let list: Vec<String> = holders.iter().map(u16::to_string).collect();
            admission.short.push(format!(
                "bundle {}: {} verified shares (holders [{}]), {need} needed: the quorum is missing {} more",
                data[i].bundle_id,
                holders.len(),
                list.join(", "),
                need - holders.len()
            ));
        }
    }
    admission
}
