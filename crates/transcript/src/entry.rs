//! What the transcript records: entries, each a typed event.
//!
//! An entry's bytes, the Merkle leaf, are its canonical JSON: `serde_json`'s
//! compact form of [`Entry`], fields in declaration order, no whitespace,
//! timestamps in RFC 3339 UTC, hashes in lowercase hex, binary in base64.
//! Decoding is strict: bytes that do not re-encode to themselves (another
//! field order, spacing, escapes, unknown fields, a `+02:00` offset) are
//! refused, so one event has exactly one encoding.
//!
//! ```text
//! {"seq":3,"time":"2026-10-01T14:05:12Z","by":"ca","event":{"type":"file_read","name":"ksr-root-2026-q4-0.xml","size":60391,"sha256":"853ff937…","pgp_words":"music customer …"}}
//! ```
//!
//! [`Event`] is `#[non_exhaustive]`: new kinds of events can be added
//! without breaking code that matches on it.

use std::fmt;

use jiff::Timestamp;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;
use crate::note::{NoteSignature, SignatureType, Signer, VerifierKey};

/// The role of a witness among a ceremony's declared keys: its key is a
/// `cosignature/v1` verifier key.
pub const WITNESS_ROLE: &str = "witness";
/// The role of a Trusted Community Representative in `participant_present`:
/// their identity key is an Ed25519 verifier key that signs approvals.
pub const TCR_ROLE: &str = "tcr";

/// One transcript entry: its position, when and by whom it was recorded, and
/// what happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The entry's index in the log, from 0.
    pub seq: u64,
    /// When it was recorded (RFC 3339, UTC).
    #[serde(serialize_with = "ser_time", deserialize_with = "de_time")]
    pub time: Timestamp,
    /// Who recorded it: the participant or component that appended it.
    pub by: String,
    /// What happened.
    pub event: Event,
}

impl Entry {
    /// The canonical encoding: the bytes that are hashed into the log.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.encode_into(&mut out);
        out
    }

    /// Appends the canonical encoding to `out`.
    fn encode_into(&self, out: &mut Vec<u8>) {
        // Serializing plain structs, strings and integers to a Vec cannot
        // fail; a short encoding would be refused by decode in any case.
        let _ = serde_json::to_writer(out, self);
    }

    /// Decodes an entry, refusing any encoding other than the canonical one.
    ///
    /// # Errors
    /// A description of the first problem found.
    pub fn decode(bytes: &[u8]) -> Result<Entry, String> {
        Entry::decode_with(bytes, &mut Vec::new())
    }

    /// [`Entry::decode`], re-encoding into `scratch` (cleared first), so a
    /// loop over many entries allocates one buffer.
    pub(crate) fn decode_with(bytes: &[u8], scratch: &mut Vec<u8>) -> Result<Entry, String> {
        let entry: Entry =
            serde_json::from_slice(bytes).map_err(|e| format!("not a transcript entry: {e}"))?;
        scratch.clear();
        entry.encode_into(scratch);
        if scratch.as_slice() != bytes {
            return Err(
                "not in canonical form (compact JSON, fields in order, no unknown fields)"
                    .to_owned(),
            );
        }
        Ok(entry)
    }
}

fn ser_time<S: Serializer>(time: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(time)
}

fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    d.deserialize_str(ParseStr(|s: &str| {
        s.parse::<Timestamp>().map_err(|e| e.to_string())
    }))
}

/// Deserializes a string through a parser, without allocating it.
struct ParseStr<F>(F);

impl<'de, T, F: FnOnce(&str) -> Result<T, String>> Visitor<'de> for ParseStr<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v).map_err(E::custom)
    }
}

impl<'de, T, F: FnOnce(&str) -> Result<T, String>> de::DeserializeSeed<'de> for ParseStr<F> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_str(self)
    }
}

/// The value of each lowercase hex digit; 0xff for any other byte.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes exactly `2 * N` lowercase hex digits.
pub(crate) fn decode_lower_hex<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    let mut invalid = 0u8;
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let (hi, lo) = (HEX_VALUE[pair[0] as usize], HEX_VALUE[pair[1] as usize]);
        invalid |= hi | lo;
        *o = (hi << 4) | (lo & 0x0f);
    }
    // Valid digits are below 16; 0xff marks anything else.
    (invalid < 16).then_some(out)
}

/// A SHA-256 digest, written as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// The SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        let mut out = [0u8; 32];
        out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
        Digest(out)
    }
}

impl Digest {
    fn hex(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the input.
        let _ = hex::encode_to_slice(self.0, &mut out);
        out
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.hex();
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl std::str::FromStr for Digest {
    type Err = String;

    fn from_str(s: &str) -> Result<Digest, String> {
        decode_lower_hex(s.as_bytes())
            .map(Digest)
            .ok_or_else(|| format!("{s:?} is not a SHA-256 in 64 lowercase hex digits"))
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let hex = self.hex();
        s.serialize_str(std::str::from_utf8(&hex).map_err(serde::ser::Error::custom)?)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        d.deserialize_str(ParseStr(|s: &str| s.parse::<Digest>()))
    }
}

impl Serialize for VerifierKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VerifierKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<VerifierKey, D::Error> {
        d.deserialize_str(ParseStr(|s: &str| {
            s.parse::<VerifierKey>().map_err(|e| e.to_string())
        }))
    }
}

mod base64_bytes {
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        BASE64
            .decode(s.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// What happened. The JSON form is an object with a `type` field naming the
/// variant in snake case, then the variant's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The first entry of every transcript.
    CeremonyOpened(CeremonyOpened),
    /// A participant is present, with the key that identifies them.
    ParticipantPresent(ParticipantPresent),
    /// An act of the script begins.
    ActStarted(ActStarted),
    /// An input file was read, and its hash shown.
    FileRead(FileRead),
    /// Policy checks ran.
    CheckReport(CheckReport),
    /// A TCR approved the exact signed data of some bundles.
    Approval(Approval),
    /// A key-share holder's partial signature arrived.
    PartialSignatureReceived(PartialSignatureReceived),
    /// A signature was produced.
    SignatureProduced(SignatureProduced),
    /// An output file was written.
    FileWritten(FileWritten),
    /// A key share was transferred to another holder.
    ShareTransferred(ShareTransferred),
    /// The last entry of a finished transcript.
    CeremonyClosed(CeremonyClosed),
    /// A key was generated (a KSK in a keystore or HSM, a threshold key dealt).
    KeyGenerated(KeyEvent),
    /// A key was deleted from its keystore or HSM.
    KeyDeleted(KeyEvent),
    /// A keystore key was re-encrypted to another secret (a quorum's key-encryption key).
    KeyReencrypted(KeyEvent),
    /// An existing key was imported into the keystore.
    KeyImported(KeyEvent),
}

/// The `type` of each variant, as serialized.
const EVENT_TYPES: &[&str] = &[
    "ceremony_opened",
    "participant_present",
    "act_started",
    "file_read",
    "check_report",
    "approval",
    "partial_signature_received",
    "signature_produced",
    "file_written",
    "share_transferred",
    "ceremony_closed",
    "key_generated",
    "key_deleted",
    "key_reencrypted",
    "key_imported",
];

impl<'de> Deserialize<'de> for Event {
    /// Streams the event: in the canonical form `type` is the first field,
    /// so the variant is known before its fields are read, and nothing is
    /// buffered (serde's derived internally tagged form buffers every
    /// event, a third of the cost of verifying a transcript).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Event, D::Error> {
        struct EventVisitor;

        impl<'de> Visitor<'de> for EventVisitor {
            type Value = Event;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event object whose first field is \"type\"")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
                let first = map.next_key_seed(ParseStr(|k: &str| Ok(k == "type")))?;
                if first != Some(true) {
                    return Err(de::Error::custom(
                        "the event's first field must be \"type\"",
                    ));
                }
                let tag = map.next_value_seed(ParseStr(|t: &str| {
                    EVENT_TYPES
                        .iter()
                        .position(|known| *known == t)
                        .ok_or_else(|| {
                            format!("unknown event type {t:?}, expected one of {EVENT_TYPES:?}")
                        })
                }))?;
                let rest = de::value::MapAccessDeserializer::new(map);
                Ok(match tag {
                    0 => Event::CeremonyOpened(Deserialize::deserialize(rest)?),
                    1 => Event::ParticipantPresent(Deserialize::deserialize(rest)?),
                    2 => Event::ActStarted(Deserialize::deserialize(rest)?),
                    3 => Event::FileRead(Deserialize::deserialize(rest)?),
                    4 => Event::CheckReport(Deserialize::deserialize(rest)?),
                    5 => Event::Approval(Deserialize::deserialize(rest)?),
                    6 => Event::PartialSignatureReceived(Deserialize::deserialize(rest)?),
                    7 => Event::SignatureProduced(Deserialize::deserialize(rest)?),
                    8 => Event::FileWritten(Deserialize::deserialize(rest)?),
                    9 => Event::ShareTransferred(Deserialize::deserialize(rest)?),
                    10 => Event::CeremonyClosed(Deserialize::deserialize(rest)?),
                    11 => Event::KeyGenerated(Deserialize::deserialize(rest)?),
                    12 => Event::KeyDeleted(Deserialize::deserialize(rest)?),
                    13 => Event::KeyReencrypted(Deserialize::deserialize(rest)?),
                    _ => Event::KeyImported(Deserialize::deserialize(rest)?),
                })
            }
        }

        d.deserialize_map(EventVisitor)
    }
}

/// The ceremony opens: the log's identity and what it will use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CeremonyOpened {
    /// The log's origin, e.g. `ceremony.example/KC-2026-Q4`.
    pub origin: String,
    /// The script followed (its name or identifier).
    pub script: String,
    /// The key that signs this transcript's checkpoints.
    pub log_key: VerifierKey,
    /// The keys the ceremony declares it will use.
    pub keys: Vec<DeclaredKey>,
    /// The quorum rule: how many distinct TCRs must approve a bundle's
    /// signed data before it is signed; 0 (the default, not written) for a
    /// ceremony without approvals.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub approvals: u32,
}

impl CeremonyOpened {
    /// The witness keys declared (role [`WITNESS_ROLE`], a `cosignature/v1`
    /// verifier key); a declaration in another form is not a witness.
    pub fn witnesses(&self) -> Vec<VerifierKey> {
        self.keys
            .iter()
            .filter(|k| k.role == WITNESS_ROLE)
            .filter_map(|k| k.key.parse::<VerifierKey>().ok())
            .filter(|k| k.kind() == SignatureType::COSIGNATURE_V1)
            .collect()
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A key declared when the ceremony opens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredKey {
    /// What the key is for: `ksk`, `witness`, `tcr-identity` …
    pub role: String,
    /// Its name: a key label, a DNSKEY key tag, a witness name.
    pub name: String,
    /// The key itself in its usual text form (DNSKEY RDATA, a verifier key,
    /// an age recipient).
    pub key: String,
}

/// A participant is present.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantPresent {
    /// Their name.
    pub name: String,
    /// Their role: `ca`, `iw`, `tcr`, `sa`, `witness` …
    pub role: String,
    /// The public key that identifies them.
    pub identity_key: String,
}

/// An act of the script begins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActStarted {
    /// The act's number or label in the script.
    pub act: String,
    /// Its title.
    pub title: String,
}

/// An input file was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRead {
    /// The file's name as shown to participants.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: Digest,
    /// The SHA-256 as PGP words, as read aloud.
    pub pgp_words: String,
}

/// How one check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The check ran and passed.
    Passed,
    /// The check ran and failed.
    Failed,
    /// The configuration switched the check off.
    Skipped,
    /// The check cannot run on this input.
    NotApplicable,
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// The check's stable ID, e.g. `KSR-BUNDLE-POP`.
    pub id: String,
    /// How it came out.
    pub status: CheckStatus,
}

/// Policy checks ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Each check and its outcome.
    pub checks: Vec<CheckOutcome>,
}

/// The hash of one bundle's RRSIG signed data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleHash {
    /// The bundle's id.
    pub bundle: String,
    /// SHA-256 of its exact RRSIG signed data (RFC 4034 §3.1.8.1).
    pub signed_data: Digest,
}

/// A TCR approved the exact signed data of some bundles.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The TCR's name.
    pub tcr: String,
    /// What they approved.
    pub bundles: Vec<BundleHash>,
    /// Their signature over [`Approval::signed_message`], by their identity key.
    #[serde(with = "base64_bytes")]
    pub signature: Vec<u8>,
}

impl Approval {
    /// The message the TCR's identity key signs: a domain-separated text
    /// naming the transcript, the TCR and every bundle hash.
    ///
    /// ```text
    /// ceremony-approval/v1
    /// origin ceremony.example/KC-2026-Q4
    /// tcr alice
    /// bundle 1 <hex sha256 of signed data>
    /// ```
    pub fn signed_message(&self, origin: &str) -> String {
        let mut msg = format!("ceremony-approval/v1\norigin {origin}\ntcr {}\n", self.tcr);
        for b in &self.bundles {
            msg.push_str(&format!("bundle {} {}\n", b.bundle, b.signed_data));
        }
        msg
    }

    /// The approval of `bundles` by `tcr`, signed for the log `origin` with
    /// the TCR's identity key: an Ed25519 signed-note signature over
    /// [`Approval::signed_message`] as the note text.
    ///
    /// # Errors
    /// [`Error::Key`] when the identity key is not an Ed25519 note key.
    pub fn sign(
        tcr: &str,
        bundles: Vec<BundleHash>,
        origin: &str,
        identity: &Signer,
    ) -> Result<Approval, Error> {
        let mut approval = Approval {
            tcr: tcr.to_owned(),
            bundles,
            signature: Vec::new(),
        };
        let sig = identity.sign(&approval.signed_message(origin))?;
        approval.signature = sig.signature().to_vec();
        Ok(approval)
    }

    /// Checks the signature with the TCR's identity key (declared in their
    /// `participant_present`), for the log `origin`.
    ///
    /// # Errors
    /// [`Error::Key`] when `identity` is not an Ed25519 key;
    /// [`Error::BadSignature`] when the signature is not by that key over
    /// exactly this TCR, these bundles and these signed-data hashes.
    pub fn verify(&self, origin: &str, identity: &VerifierKey) -> Result<(), Error> {
        if identity.kind() != SignatureType::ED25519 {
            return Err(Error::Key {
                name: identity.name().to_owned(),
                reason: format!(
                    "an identity key signs approvals with Ed25519 (type 0x01), not {}",
                    identity.kind()
                ),
            });
        }
        let bad = || Error::BadSignature {
            name: identity.name().to_owned(),
            key_id: identity.key_id().to_string(),
        };
        // An empty signature is no signature: refused as one that fails.
        let sig = NoteSignature::new(identity.name(), identity.key_id(), self.signature.clone())
            .map_err(|_| bad())?;
        identity
            .verify(&self.signed_message(origin), &sig)
            .map(|_| ())
    }
}

/// A partial signature arrived from a key-share holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialSignatureReceived {
    /// The share holder.
    pub holder: String,
    /// The bundle it signs.
    pub bundle: String,
    /// SHA-256 of the partial signature (the share) received.
    pub share: Digest,
}

/// A signature was produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureProduced {
    /// The bundle signed.
    pub bundle: String,
    /// The key tag of the signing KSK.
    pub key_tag: u16,
}

/// An output file was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileWritten {
    /// The file's name, relative to the ceremony directory.
    pub name: String,
    /// Its SHA-256.
    pub sha256: Digest,
}

/// A key share was transferred.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareTransferred {
    /// Whose share.
    pub holder: String,
    /// To whom, or to which key.
    pub to: String,
}

/// A key generated or deleted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEvent {
    /// Its label in the keystore or HSM, or its name.
    pub name: String,
    /// Where it lives: `keystore`, an HSM's name, a directory of shares.
    pub place: String,
    /// The public key as DNSKEY RDATA in presentation form (`257 3 8 AwEAA…`).
    pub key: String,
}

/// The ceremony is closed: nothing may follow.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CeremonyClosed {}

impl fmt::Display for Event {
    /// One line for a person to read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::CeremonyOpened(e) => {
                write!(
                    f,
                    "ceremony opened: {} (script {}), log key {}",
                    e.origin, e.script, e.log_key
                )?;
                for k in &e.keys {
                    write!(f, "; {} {} {}", k.role, k.name, k.key)?;
                }
                Ok(())
            }
            Event::ParticipantPresent(e) => {
                write!(
                    f,
                    "present: {} as {}, key {}",
                    e.name, e.role, e.identity_key
                )
            }
            Event::ActStarted(e) => write!(f, "act {}: {}", e.act, e.title),
            Event::FileRead(e) => write!(
                f,
                "read {} ({} bytes) sha256 {} \"{}\"",
                e.name, e.size, e.sha256, e.pgp_words
            ),
            Event::CheckReport(e) => {
                let count = |s| e.checks.iter().filter(|c| c.status == s).count();
                write!(
                    f,
                    "checks: {} passed, {} failed, {} skipped, {} not applicable",
                    count(CheckStatus::Passed),
                    count(CheckStatus::Failed),
                    count(CheckStatus::Skipped),
                    count(CheckStatus::NotApplicable)
                )?;
                for c in e.checks.iter().filter(|c| c.status == CheckStatus::Failed) {
                    write!(f, "; FAILED {}", c.id)?;
                }
                Ok(())
            }
            Event::Approval(e) => {
                let bundles: Vec<&str> = e.bundles.iter().map(|b| b.bundle.as_str()).collect();
                write!(f, "approval by {} of bundles {}", e.tcr, bundles.join(", "))
            }
            Event::PartialSignatureReceived(e) => write!(
                f,
                "partial signature from {} for bundle {} (sha256 {})",
                e.holder, e.bundle, e.share
            ),
            Event::SignatureProduced(e) => {
                write!(
                    f,
                    "signature for bundle {} by key tag {}",
                    e.bundle, e.key_tag
                )
            }
            Event::FileWritten(e) => write!(f, "wrote {} sha256 {}", e.name, e.sha256),
            Event::ShareTransferred(e) => {
                write!(f, "share of {} transferred to {}", e.holder, e.to)
            }
            Event::CeremonyClosed(_) => f.write_str("ceremony closed"),
            Event::KeyGenerated(e) => {
                write!(f, "key {} generated in {}: {}", e.name, e.place, e.key)
            }
            Event::KeyDeleted(e) => {
                write!(f, "key {} deleted from {}: {}", e.name, e.place, e.key)
            }
            Event::KeyImported(e) => {
                write!(f, "key {} imported into {}: {}", e.name, e.place, e.key)
            }
            Event::KeyReencrypted(e) => {
                write!(f, "key {} in {} re-encrypted: {}", e.name, e.place, e.key)
            }
        }
    }
}
