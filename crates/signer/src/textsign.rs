//! Signing a Knot DNS or BIND 9 KSR into that program's SKR, by that program's rules.
//!
//! A text KSR is a list of instants, each with the ZSK DNSKEY RRset valid
//! from then on. The KSK side decides the rest, and Knot DNS and BIND 9
//! decide differently; [`sign_text_ksr`] follows the [`Peer`] given:
//!
//! * **Knot DNS** (`keymgr sign-ksr`, 3.2): one response bundle at every KSR
//!   instant, and between two instants one every `rrsig-lifetime −
//!   rrsig-refresh`; none after the last instant. Each holds the DNSKEY
//!   RRset (ZSKs and KSKs) in canonical order, then CDNSKEY and CDS (TTL 0)
//!   when `cds-cdnskey-publish` publishes them, then all RRSIGs sorted
//!   canonically. Signatures run from 90 minutes before the bundle's instant
//!   to `rrsig-lifetime` after it.
//! * **BIND 9** (`dnssec-ksr sign`, 9.20): each KSR bundle is answered from
//!   its instant by bundles `signatures-validity-dnskey −
//!   signatures-refresh` apart while they start no later than the next
//!   instant (the first re-signing is pulled back to it); the last KSR
//!   bundle is answered up to the end given with `-e`. Each holds the
//!   DNSKEY RRset (KSKs, then the ZSKs in KSR order) and its RRSIGs, the
//!   CDNSKEY RRset and its RRSIGs, the CDS RRset and its RRSIGs, all at the
//!   DNSKEY TTL. Signatures run from one hour before the instant to
//!   `signatures-validity-dnskey` after it.
//!
//! Both peers also start bundles at KSK timing events (publication,
//! activation, retirement); here every KSK given signs throughout, so there
//! are none. Every signature is verified in software before it is kept.
//!
//! When a re-signing falls exactly on the next KSR instant (KSR bundles
//! `validity − refresh` apart, as the root's 10-day bundles are with 21/11
//! days, or closer than that, when the first re-signing is pulled back to
//! the next instant), `dnssec-ksr sign` 9.20 writes two bundles at that
//! instant, the first with the outgoing ZSK set. Ceremony writes the same
//! pair, and reads and verifies it ([`TextSkr::hands_over`]): the first
//! answers the KSR bundle before that instant.
//!
//! [`TextSkr::hands_over`]: ceremony_formats::model::TextSkr::hands_over
//!
//! The KSR checks for these formats use [`request_policy`], and the SKR
//! checks [`verify_text_skr`]: a text SKR answers its KSR instant by
//! instant, not bundle for bundle.

use ceremony_dnssec::{
    parse_name, verify, DigestAlgorithm, Dnskey, Ds, Name, RrsigHeader, SecurityAlgorithm,
};
use ceremony_formats::model::{Cds, ExtraRecords, TextKsr, TextSkr};
use ceremony_formats::{Bundle, Duration, Key, Ksr, Signature, SignaturePolicy, Skr};
use ceremony_keys::KeySigner;
use ceremony_policy::{CheckId, Report, RequestPolicy, Violation};
use jiff::Timestamp;

use crate::SignError;

const DNSKEY: u16 = 48;
const CDS: u16 = 59;
const CDNSKEY: u16 = 60;

/// The program whose rules an SKR follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// Knot DNS `keymgr sign-ksr`.
    Knot,
    /// BIND 9 `dnssec-ksr sign`.
    Bind,
}

/// The KSK side's settings for a text SKR, in each peer's terms.
#[derive(Clone, Debug)]
pub struct TextPolicy {
    /// Signature validity: Knot `rrsig-lifetime`, BIND `signatures-validity-dnskey`.
    pub validity_seconds: i64,
    /// Re-signing margin: Knot `rrsig-refresh`, BIND `signatures-refresh`.
    pub refresh_seconds: i64,
    /// The DNSKEY TTL (BIND `dnskey-ttl`); Knot keeps the KSR's.
    pub dnskey_ttl: u32,
    /// Publish CDNSKEY with the KSKs (Knot `cds-cdnskey-publish`; BIND always).
    pub cdnskey: bool,
    /// CDS digest types (BIND `cds-digest-types`, SHA-256 by default; Knot SHA-256).
    pub cds_digests: Vec<DigestAlgorithm>,
    /// How long before a bundle's instant its signatures start: Knot DNS
    /// 90 minutes, BIND 9 one hour, so that a little clock skew does not
    /// make a fresh signature look premature.
    pub inception_offset_seconds: i64,
    /// BIND only: the end given to `dnssec-ksr sign -e`, up to which the last KSR bundle is answered.
    pub end: Option<Timestamp>,
    /// When the SKR is made, for its closing line.
    pub now: Timestamp,
    /// The program the closing line names.
    pub generator: String,
}

impl TextPolicy {
    /// Knot DNS's settings as in the sample configuration: 21-day RRSIGs refreshed 11 days before.
    pub fn knot(now: Timestamp) -> TextPolicy {
        TextPolicy {
            validity_seconds: 21 * 86400,
            refresh_seconds: 11 * 86400,
            dnskey_ttl: 172_800,
            cdnskey: false,
            cds_digests: Vec::new(),
            inception_offset_seconds: 90 * 60,
            end: None,
            now,
            generator: ceremony_formats::knot::KNOT_VERSION.to_owned(),
        }
    }

    /// BIND 9's settings as in the sample `dnssec-policy`; CDNSKEY and SHA-256 CDS as BIND's defaults.
    pub fn bind(now: Timestamp, end: Timestamp) -> TextPolicy {
        TextPolicy {
            validity_seconds: 21 * 86400,
            refresh_seconds: 11 * 86400,
            dnskey_ttl: 172_800,
            cdnskey: true,
            cds_digests: vec![DigestAlgorithm::SHA256],
            inception_offset_seconds: 3600,
            end: Some(end),
            now,
            generator: ceremony_formats::bind::BIND_VERSION.to_owned(),
        }
    }
}

impl Peer {
    /// The preset's name, as `--preset` takes it: `knot` or `bind`.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Knot => "knot",
            Peer::Bind => "bind",
        }
    }

    /// The peer whose file format `format` is; `None` for the ICANN XML.
    pub fn of_format(format: ceremony_formats::Format) -> Option<Peer> {
        match format {
            ceremony_formats::Format::Knot => Some(Peer::Knot),
            ceremony_formats::Format::Bind => Some(Peer::Bind),
            ceremony_formats::Format::Icann => None,
        }
    }

    /// The file format this peer reads and writes.
    pub fn format(self) -> ceremony_formats::Format {
        match self {
            Peer::Knot => ceremony_formats::Format::Knot,
            Peer::Bind => ceremony_formats::Format::Bind,
        }
    }
}

impl TextPolicy {
    /// The preset for `peer`: [`TextPolicy::knot`] or [`TextPolicy::bind`].
    /// BIND needs the end of the period (`dnssec-ksr sign -e`); without one,
    /// the last KSR bundle is answered by a single response bundle.
    pub fn preset(peer: Peer, now: Timestamp, end: Option<Timestamp>) -> TextPolicy {
        match peer {
            Peer::Knot => TextPolicy {
                end,
                ..TextPolicy::knot(now)
            },
            Peer::Bind => TextPolicy {
                end,
                ..TextPolicy::bind(now, now)
            },
        }
    }
}

/// The KSR checks' knobs for a Knot DNS or BIND 9 KSR.
///
/// The root's defaults (9 bundles 10 days apart, each valid 21 days) do not
/// fit these requests: a text KSR lists the instants at which the ZSK set
/// changes, as far ahead as the zone operator asked (a year, five), so a
/// bundle lasts until the next one starts and the last has no length. The
/// preset therefore switches off what such a request cannot carry
/// (bundle count, cycle length, intervals, overlaps, the chain overlap:
/// each reported as skipped, never passed), keeps what it can (domain,
/// keys and tags, algorithms and sizes, DNSKEY TTL, the horizon up to ten
/// years, the chain of ZSKs from the previous SKR), and accepts the KSR's
/// own domain unless the configuration names the acceptable ones.
pub fn request_policy(peer: Peer, domain: &str, dnskey_ttl: u32) -> RequestPolicy {
    let _ = peer; // both peers' requests have the same shape
    RequestPolicy {
        acceptable_domains: vec![domain.to_owned()],
        num_bundles: 0,
        validate_signatures: true,
        keys_match_zsk_policy: true,
        rsa_exponent_match_zsk_policy: true,
        check_cycle_length: false,
        check_bundle_intervals: false,
        check_bundle_overlap: false,
        overlap_match_zsk_policy: false,
        signature_algorithms_match_zsk_policy: true,
        approved_algorithms: vec![
            SecurityAlgorithm::RSASHA256,
            SecurityAlgorithm::RSASHA512,
            SecurityAlgorithm::ECDSAP256SHA256,
            SecurityAlgorithm::ECDSAP384SHA384,
            SecurityAlgorithm::ED25519,
            SecurityAlgorithm::ED448,
        ],
        rsa_approved_exponents: vec![65537],
        rsa_approved_key_sizes: vec![2048, 3072, 4096],
        signature_validity_match_zsk_policy: false,
        min_signature_validity: Duration::ZERO,
        max_signature_validity: Duration::from_days(10 * 366),
        check_keys_match_ksk_operator_policy: true,
        num_keys_per_bundle: Vec::new(),
        num_different_keys_in_all_bundles: 0,
        dns_ttl: dnskey_ttl,
        signature_check_expire_horizon: true,
        signature_horizon_days: 10 * 366,
        check_chain_keys: true,
        check_chain_keys_in_hsm: true,
        check_chain_overlap: false,
        ..RequestPolicy::default()
    }
}

/// The `preset`, with every knob the operator's configuration sets to
/// something other than the root default taken from the configuration.
pub fn overlay_request_policy(preset: RequestPolicy, configured: &RequestPolicy) -> RequestPolicy {
    let root = RequestPolicy::default();
    let mut out = preset;
    // Destructured without `..`, so that a new knob cannot be forgotten here:
    // the one list both destructures every field and takes the changed ones.
    macro_rules! take_changed {
        ($($field:ident),* $(,)?) => {
            let RequestPolicy { $($field),* } = configured;
            $(
                if *$field != root.$field {
                    out.$field = $field.clone();
                }
            )*
        };
    }
    take_changed!(
        acceptable_domains,
        num_bundles,
        validate_signatures,
        keys_match_zsk_policy,
        rsa_exponent_match_zsk_policy,
        check_cycle_length,
        min_cycle_inception_length,
        max_cycle_inception_length,
        min_bundle_interval,
        max_bundle_interval,
        check_bundle_overlap,
        min_validity_overlap,
        max_validity_overlap,
        overlap_match_zsk_policy,
        signature_algorithms_match_zsk_policy,
        approved_algorithms,
        rsa_approved_exponents,
        rsa_approved_key_sizes,
        signature_validity_match_zsk_policy,
        min_signature_validity,
        max_signature_validity,
        check_keys_match_ksk_operator_policy,
        num_keys_per_bundle,
        num_different_keys_in_all_bundles,
        dns_ttl,
        signature_check_expire_horizon,
        signature_horizon_days,
        check_bundle_intervals,
        check_chain_keys,
        check_chain_keys_in_hsm,
        check_chain_overlap,
        check_keys_publish_safety,
        check_keys_retire_safety,
    );
    out
}

/// One response bundle to sign: when it starts, and which KSR bundle it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseSlot {
    /// The bundle's instant; its signatures start `inception_offset_seconds` before.
    pub at: Timestamp,
    /// The index of the KSR bundle whose ZSKs it holds.
    pub request: usize,
    /// Whether it is the first answer to that KSR bundle.
    pub starts_request_bundle: bool,
}

/// Signs a Knot DNS or BIND 9 KSR with `ksks`, following `peer`'s rules.
///
/// The response echoes the KSR's header; write it with
/// [`ceremony_formats::knot::write_skr`] or [`ceremony_formats::bind::write_skr`].
/// The work splits into [`plan_response`], [`sign_slots`] (which callers
/// may run on several threads, each on its part of the plan) and
/// [`assemble_response`].
///
/// # Errors
/// [`SignError::Config`] for settings that cannot work (no KSK, a validity
/// not longer than the refresh, a BIND end before the last instant, a zone
/// name that does not parse); [`SignError::Key`] when a key fails to sign;
/// [`SignError::Config`] when a signature does not verify.
pub fn sign_text_ksr(
    peer: Peer,
    request: &TextKsr,
    ksks: &[&dyn KeySigner],
    policy: &TextPolicy,
) -> Result<TextSkr, SignError> {
    let slots = plan_response(peer, request, policy)?;
    let signed = sign_slots(peer, request, ksks, policy, &slots)?;
    Ok(assemble_response(request, policy, signed))
}

/// The response bundles `peer`'s rules give for `request`, in order.
///
/// # Errors
/// As [`sign_text_ksr`], for the settings.
pub fn plan_response(
    peer: Peer,
    request: &TextKsr,
    policy: &TextPolicy,
) -> Result<Vec<ResponseSlot>, SignError> {
    let config = |message: String| SignError::Config {
        file: "text signing policy".to_owned(),
        message,
    };
    if policy.inception_offset_seconds < 0 {
        return Err(config(format!(
            "the inception offset {} s must not be negative",
            policy.inception_offset_seconds
        )));
    }
    if policy.validity_seconds <= policy.refresh_seconds || policy.refresh_seconds < 0 {
        return Err(config(format!(
            "signature validity {} s must exceed the refresh {} s",
            policy.validity_seconds, policy.refresh_seconds
        )));
    }
    Ok(
        response_instants(peer, request.ksr.bundles.as_slice(), policy)?
            .into_iter()
            .map(|(at, request, starts_request_bundle)| ResponseSlot {
                at,
                request,
                starts_request_bundle,
            })
            .collect(),
    )
}

/// Signs the response bundles of `slots` (all of [`plan_response`], or a part).
///
/// # Errors
/// As [`sign_text_ksr`].
pub fn sign_slots(
    peer: Peer,
    request: &TextKsr,
    ksks: &[&dyn KeySigner],
    policy: &TextPolicy,
    slots: &[ResponseSlot],
) -> Result<Vec<(Bundle, ExtraRecords)>, SignError> {
    sign_slots_with(peer, request, ksks, policy, slots, true)
}

/// [`sign_slots`], with the check of each signature optional: a threshold
/// holder's recording key returns no signature, only learns the data.
pub(crate) fn sign_slots_with(
    peer: Peer,
    request: &TextKsr,
    ksks: &[&dyn KeySigner],
    policy: &TextPolicy,
    slots: &[ResponseSlot],
    verify_each: bool,
) -> Result<Vec<(Bundle, ExtraRecords)>, SignError> {
    let config = |message: String| SignError::Config {
        file: "text signing policy".to_owned(),
        message,
    };
    if ksks.is_empty() {
        return Err(config("no KSK to sign with".to_owned()));
    }
    let ksr = &request.ksr;
    let zone = parse_name(&ksr.header.domain)
        .map_err(|e| config(format!("zone {:?}: {e}", ksr.header.domain)))?;
    let mut signer = BundleSigner {
        peer,
        zone,
        domain: &ksr.header.domain,
        ksks,
        policy,
        verify_each,
    };
    let mut out = Vec::with_capacity(slots.len());
    for slot in slots {
        let bundle = ksr
            .bundles
            .get(slot.request)
            .ok_or_else(|| config(format!("no KSR bundle #{} to answer", slot.request + 1)))?;
        out.push(signer.sign(slot.at, bundle, slot.starts_request_bundle)?);
    }
    Ok(out)
}

/// The response from its signed bundles, in plan order.
pub fn assemble_response(
    request: &TextKsr,
    policy: &TextPolicy,
    signed: Vec<(Bundle, ExtraRecords)>,
) -> TextSkr {
    let ksr = &request.ksr;
    let (bundles, extra): (Vec<Bundle>, Vec<ExtraRecords>) = signed.into_iter().unzip();
    let ksk_policy = SignaturePolicy {
        algorithms: Vec::new(),
        ..ksr.zsk_policy.clone()
    };
    TextSkr {
        skr: Skr {
            header: ksr.header.clone(),
            timestamp: Some(policy.now),
            ksk_policy,
            zsk_policy: ksr.zsk_policy.clone(),
            bundles,
        },
        generator: policy.generator.clone(),
        extra,
    }
}

/// When response bundles start: (instant, index of the KSR bundle answered, first answer to it).
fn response_instants(
    peer: Peer,
    bundles: &[Bundle],
    policy: &TextPolicy,
) -> Result<Vec<(Timestamp, usize, bool)>, SignError> {
    let step = policy.validity_seconds - policy.refresh_seconds;
    let mut out = Vec::new();
    for (i, bundle) in bundles.iter().enumerate() {
        let start = bundle.inception.as_second();
        let next = bundles.get(i + 1).map(|b| b.inception.as_second());
        match peer {
            Peer::Knot => {
                // keymgr: the instant, then every lifetime − refresh while before the next instant.
                out.push((start, i, true));
                if let Some(next) = next {
                    let mut t = start + step;
                    while t < next {
                        out.push((t, i, false));
                        t += step;
                    }
                }
            }
            Peer::Bind => {
                // dnssec-ksr sign_bundle(): the first re-signing is pulled back to the next instant.
                let limit = match next {
                    Some(next) => next,
                    // Without an end, the last KSR bundle is answered once.
                    None => match policy.end {
                        None => start,
                        Some(end) if end.as_second() < start => {
                            return Err(SignError::Config {
                                file: "text signing policy".to_owned(),
                                message: format!(
                                    "the end {end} is before the last KSR bundle ({})",
                                    bundle.inception
                                ),
                            })
                        }
                        Some(end) => end.as_second(),
                    },
                };
                let mut inception = start;
                let mut cap = limit;
                let mut first = true;
                let mut last = None;
                // A re-signing that lands on the next instant is written, as
                // dnssec-ksr does, just before that instant's own bundle (the
                // pair BIND readers call a handover); one at the same time as
                // the last is no re-signing at all.
                while inception <= limit && Some(inception) != last {
                    out.push((inception, i, first));
                    last = Some(inception);
                    first = false;
                    let expiration = inception + policy.validity_seconds;
                    inception = (expiration - policy.refresh_seconds).min(cap);
                    cap = inception + policy.validity_seconds;
                }
            }
        }
    }
    out.into_iter()
        .map(|(t, i, first)| {
            Timestamp::from_second(t)
                .map(|t| (t, i, first))
                .map_err(|e| SignError::Config {
                    file: "text signing policy".to_owned(),
                    message: format!("bundle time out of range: {e}"),
                })
        })
        .collect()
}

struct BundleSigner<'a> {
    peer: Peer,
    zone: Name,
    domain: &'a str,
    ksks: &'a [&'a dyn KeySigner],
    policy: &'a TextPolicy,
    /// Check each signature as it is made (off only for a recording key).
    verify_each: bool,
}

impl BundleSigner<'_> {
    fn sign(
        &mut self,
        at: Timestamp,
        request: &Bundle,
        starts: bool,
    ) -> Result<(Bundle, ExtraRecords), SignError> {
        let policy = self.policy;
        let ttl = match self.peer {
            Peer::Knot => request.keys.first().map_or(policy.dnskey_ttl, |k| k.ttl),
            Peer::Bind => policy.dnskey_ttl,
        };
        let ksk_keys: Vec<Key> = self.ksks.iter().map(|k| key(k.dnskey(), ttl)).collect();
        let zsk_keys = request.keys.iter().map(|k| Key { ttl, ..k.clone() });
        let mut keys: Vec<Key> = match self.peer {
            Peer::Knot => zsk_keys.chain(ksk_keys.iter().cloned()).collect(),
            Peer::Bind => {
                let mut ksks = ksk_keys.clone();
                ksks.sort_by_key(|k| (k.dnskey.algorithm().to_int(), k.key_tag));
                ksks.into_iter().chain(zsk_keys).collect()
            }
        };
        if self.peer == Peer::Knot {
            keys.sort_by_key(|k| k.dnskey.rdata());
            keys.dedup_by(|a, b| a.dnskey == b.dnskey);
        }

        // Knot gives CDNSKEY and CDS a TTL of 0, BIND the DNSKEY TTL.
        let extra_ttl = match self.peer {
            Peer::Knot => 0,
            Peer::Bind => ttl,
        };
        let mut extra = ExtraRecords {
            starts_request_bundle: starts && self.peer == Peer::Bind,
            ..ExtraRecords::default()
        };
        if policy.cdnskey {
            extra.cdnskeys = ksk_keys.iter().map(|k| key(&k.dnskey, extra_ttl)).collect();
        }
        for ksk in &ksk_keys {
            for digest in &policy.cds_digests {
                let ds = Ds::compute(&self.zone, &ksk.dnskey, *digest).map_err(|e| {
                    SignError::Config {
                        file: "text signing policy".to_owned(),
                        message: format!("CDS digest: {e}"),
                    }
                })?;
                extra.cds.push(Cds { ttl: extra_ttl, ds });
            }
        }
        if self.peer == Peer::Knot {
            extra.cdnskeys.sort_by_key(|k| k.dnskey.rdata());
            extra.cds.sort_by_key(|c| ds_rdata(&c.ds));
        }

        let (inception, expiration) = (
            at.as_second() - policy.inception_offset_seconds,
            at.as_second() + policy.validity_seconds,
        );
        let dnskey_rdatas: Vec<Vec<u8>> = keys.iter().map(|k| k.dnskey.rdata()).collect();
        let cdnskey_rdatas: Vec<Vec<u8>> =
            extra.cdnskeys.iter().map(|k| k.dnskey.rdata()).collect();
        let cds_rdatas: Vec<Vec<u8>> = extra.cds.iter().map(|c| ds_rdata(&c.ds)).collect();
        let mut rrsets: Vec<(u16, u32, &[Vec<u8>])> = vec![(DNSKEY, ttl, &dnskey_rdatas)];
        if !cdnskey_rdatas.is_empty() {
            rrsets.push((CDNSKEY, extra_ttl, &cdnskey_rdatas));
        }
        if !cds_rdatas.is_empty() {
            rrsets.push((CDS, extra_ttl, &cds_rdatas));
        }

        let mut signatures = Vec::new();
        let mut extra_signatures = Vec::new();
        for &(rtype, rrset_ttl, rdatas) in &rrsets {
            for ksk in self.ksks {
                let sig = self.rrsig(*ksk, rtype, rrset_ttl, rdatas, inception, expiration)?;
                if rtype == DNSKEY {
                    signatures.push(sig);
                } else {
                    extra_signatures.push(sig);
                }
            }
        }
        if self.peer == Peer::Knot {
            // One RRSIG RRset, in canonical order: by type covered first.
            signatures.sort_by_key(rrsig_rdata);
            extra_signatures.sort_by_key(rrsig_rdata);
        }
        extra.signatures = extra_signatures;
        let bundle_expiration = signatures.iter().map(|s| s.expiration).min().unwrap_or(at);
        Ok((
            Bundle {
                id: match self.peer {
                    Peer::Knot => at.as_second().to_string(),
                    Peer::Bind => at.strftime("%Y%m%d%H%M%S").to_string(),
                },
                inception: at,
                expiration: bundle_expiration,
                signers: Vec::new(),
                keys,
                signatures,
            },
            extra,
        ))
    }

    fn rrsig(
        &self,
        ksk: &dyn KeySigner,
        rtype: u16,
        ttl: u32,
        rdatas: &[Vec<u8>],
        inception: i64,
        expiration: i64,
    ) -> Result<Signature, SignError> {
        let dnskey = ksk.dnskey();
        let mut header =
            RrsigHeader::for_dnskeys(&self.zone, dnskey, ttl, inception as u32, expiration as u32);
        header.type_covered = rtype;
        let data = header
            .signed_data(&self.zone, rdatas.iter().map(Vec::as_slice))
            .map_err(|e| SignError::Config {
                file: "text signing policy".to_owned(),
                message: e.to_string(),
            })?;
        let signature_data = ksk.sign(&data)?;
        let verified = if self.verify_each {
            verify(dnskey, &data, &signature_data)
        } else {
            Ok(())
        };
        verified.map_err(|e| SignError::Config {
            file: ksk.identity().label.clone(),
            message: format!(
                "the signature by key {} does not verify ({e}): the key does not sign what it claims",
                dnskey.key_tag()
            ),
        })?;
        Ok(Signature {
            key_identifier: dnskey.key_tag().to_string(),
            ttl,
            type_covered: rtype,
            algorithm: header.algorithm,
            labels: header.labels,
            original_ttl: ttl,
            expiration: Timestamp::from_second(expiration).unwrap_or(Timestamp::MAX),
            inception: Timestamp::from_second(inception).unwrap_or(Timestamp::MIN),
            key_tag: dnskey.key_tag(),
            signers_name: self.domain.to_owned(),
            signature_data,
        })
    }
}

fn key(dnskey: &Dnskey, ttl: u32) -> Key {
    Key {
        key_identifier: dnskey.key_tag().to_string(),
        key_tag: dnskey.key_tag(),
        ttl,
        dnskey: dnskey.clone(),
    }
}

fn ds_rdata(ds: &Ds) -> Vec<u8> {
    let mut rdata = ds.key_tag.0.to_be_bytes().to_vec();
    rdata.push(ds.algorithm.to_int());
    rdata.push(ds.digest_type.to_int());
    rdata.extend_from_slice(&ds.digest);
    rdata
}

/// The RRSIG RDATA up to the signer's name, enough to sort as Knot does
/// (the names are equal within a bundle; the signature breaks ties).
fn rrsig_rdata(sig: &Signature) -> Vec<u8> {
    let mut rdata = sig.type_covered.to_be_bytes().to_vec();
    rdata.push(sig.algorithm.to_int());
    rdata.push(sig.labels);
    rdata.extend_from_slice(&sig.original_ttl.to_be_bytes());
    rdata.extend_from_slice(&(sig.expiration.as_second() as u32).to_be_bytes());
    rdata.extend_from_slice(&(sig.inception.as_second() as u32).to_be_bytes());
    rdata.extend_from_slice(&sig.key_tag.0.to_be_bytes());
    rdata.extend_from_slice(&sig.signature_data);
    rdata
}

/// The checks on a Knot DNS or BIND 9 SKR: SKR-VERIFY, and with the KSR it
/// answers SKR-MATCH and SKR-PAIR, by the rules of these formats.
///
/// A text SKR does not answer bundle for bundle: its bundles start at every
/// KSR instant and at the re-signings between them (and, for BIND, after the
/// last one). So:
///
/// * **SKR-VERIFY**: every RRSIG (over DNSKEY, CDNSKEY or CDS) is by a KSK of
///   its bundle's DNSKEY RRset, names the zone, signs the TTL the RRset has,
///   is valid at the bundle's start, and verifies; every bundle has a DNSKEY
///   signature.
/// * **SKR-MATCH**: same zone; bundles in time order; each KSR instant
///   starts an SKR bundle, and none starts before the first.
/// * **SKR-PAIR**: each SKR bundle holds exactly the ZSKs of the KSR bundle
///   in force at its start, a KSK, a valid KSK signature that lasts at least
///   until the next bundle starts (no gap), and CDNSKEY/CDS records that
///   are those of its KSKs.
pub fn verify_text_skr(skr: &TextSkr, ksr: Option<&Ksr>, validate_signatures: bool) -> Report {
    let mut report = Report::default();
    let zone = match parse_name(&skr.skr.header.domain) {
        Ok(zone) => zone,
        Err(e) => {
            let why = format!("zone {:?}: {e}", skr.skr.header.domain);
            report.record(CheckId::SkrVerify, vec![Violation::new(why)], "");
            return report;
        }
    };
    let bundles = &skr.skr.bundles;
    if validate_signatures {
        let mut violations = Vec::new();
        let mut count = 0;
        for (i, bundle) in bundles.iter().enumerate() {
            count += bundle.signatures.len() + skr.extra(i).signatures.len();
            violations.extend(text_bundle_violations(
                &zone,
                &skr.skr.header.domain,
                i,
                bundle,
                skr.extra(i),
            ));
        }
        report.record(
            CheckId::SkrVerify,
            violations,
            format!(
                "all {count} signatures in {} bundles verify, each by a KSK of its bundle and valid at the bundle's start",
                bundles.len()
            ),
        );
    } else {
        report.push(
            CheckId::SkrVerify,
            ceremony_policy::Outcome::Skipped("validate_signatures = false".to_owned()),
        );
    }
    let Some(ksr) = ksr else {
        for id in [CheckId::SkrMatch, CheckId::SkrPair] {
            report.push(
                id,
                ceremony_policy::Outcome::NotApplicable(
                    "needs the KSR it answers (--ksr)".to_owned(),
                ),
            );
        }
        return report;
    };
    report.record(
        CheckId::SkrMatch,
        text_match_violations(skr, ksr),
        format!(
            "zone {}; all {} KSR instants start an SKR bundle, in time order ({} SKR bundles)",
            ksr.header.domain,
            ksr.bundles.len(),
            bundles.len()
        ),
    );
    report.record(
        CheckId::SkrPair,
        text_pair_violations(&zone, skr, ksr),
        "every SKR bundle has exactly the ZSKs in force, a KSK, KSK signatures lasting to the next bundle, and CDNSKEY/CDS of its KSKs",
    );
    report
}

fn bundle_label(i: usize, bundle: &Bundle) -> String {
    format!("#{} {}", i + 1, bundle.id)
}

fn type_name(rtype: u16) -> String {
    match rtype {
        DNSKEY => "DNSKEY".to_owned(),
        CDNSKEY => "CDNSKEY".to_owned(),
        CDS => "CDS".to_owned(),
        other => format!("TYPE{other}"),
    }
}

fn same_zone(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

fn text_bundle_violations(
    zone: &Name,
    domain: &str,
    i: usize,
    bundle: &Bundle,
    extra: &ExtraRecords,
) -> Vec<Violation> {
    let label = bundle_label(i, bundle);
    let at = |message: String| -> Violation {
        Violation::new(format!("bundle {label}: {message}")).in_bundle(&bundle.id)
    };
    let mut violations = Vec::new();
    if bundle.signatures.is_empty() {
        violations.push(at("has no signature over its DNSKEY RRset".to_owned()));
    }
    let dnskeys: Vec<Vec<u8>> = bundle.keys.iter().map(|k| k.dnskey.rdata()).collect();
    let cdnskeys: Vec<Vec<u8>> = extra.cdnskeys.iter().map(|k| k.dnskey.rdata()).collect();
    let cds: Vec<Vec<u8>> = extra.cds.iter().map(|c| ds_rdata(&c.ds)).collect();
    let ttl_of = |rtype: u16| -> Option<u32> {
        match rtype {
            DNSKEY => bundle.keys.first().map(|k| k.ttl),
            CDNSKEY => extra.cdnskeys.first().map(|k| k.ttl),
            CDS => extra.cds.first().map(|c| c.ttl),
            _ => None,
        }
    };
    for sig in bundle.signatures.iter().chain(&extra.signatures) {
        let tag = sig.key_tag;
        let rdatas = match sig.type_covered {
            DNSKEY => &dnskeys,
            CDNSKEY => &cdnskeys,
            CDS => &cds,
            other => {
                violations.push(
                    at(format!(
                        "signature by key {tag} covers type {other}, which a bundle does not sign"
                    ))
                    .for_key(tag),
                );
                continue;
            }
        };
        let what = type_name(sig.type_covered);
        let keys: Vec<&Key> = bundle
            .keys
            .iter()
            .filter(|k| k.dnskey.key_tag() == tag && k.dnskey.algorithm() == sig.algorithm)
            .collect();
        if keys.is_empty() {
            violations.push(
                at(format!(
                    "{what} signature by key {tag} is by no key of the bundle's DNSKEY RRset"
                ))
                .for_key(tag),
            );
            continue;
        }
        if !keys.iter().any(|k| k.dnskey.is_sep()) {
            violations.push(
                at(format!("{what} signature by key {tag}, which is not a KSK")).for_key(tag),
            );
        }
        if sig.inception > bundle.inception || sig.expiration <= bundle.inception {
            violations.push(
                at(format!(
                    "{what} signature by key {tag} is valid {} to {}, not at the bundle's start {}",
                    sig.inception, sig.expiration, bundle.inception
                ))
                .for_key(tag),
            );
        }
        if ttl_of(sig.type_covered) != Some(sig.original_ttl) {
            violations.push(
                at(format!(
                    "{what} signature by key {tag} signs TTL {}, the RRset has {}",
                    sig.original_ttl,
                    ttl_of(sig.type_covered).map_or("none".to_owned(), |t| t.to_string())
                ))
                .for_key(tag),
            );
        }
        if !same_zone(&sig.signers_name, domain) {
            violations.push(
                at(format!(
                    "{what} signature by key {tag} names signer {:?}, not the zone {domain:?}",
                    sig.signers_name
                ))
                .for_key(tag),
            );
            continue;
        }
        let header = RrsigHeader {
            type_covered: sig.type_covered,
            algorithm: sig.algorithm,
            labels: sig.labels,
            original_ttl: sig.original_ttl,
            expiration: sig.expiration.as_second() as u32,
            inception: sig.inception.as_second() as u32,
            key_tag: tag,
            signer_name: zone.clone(),
        };
        let verified = match header.signed_data(zone, rdatas.iter().map(Vec::as_slice)) {
            Ok(data) => keys
                .iter()
                .any(|k| verify(&k.dnskey, &data, &sig.signature_data).is_ok()),
            Err(_) => false,
        };
        if !verified {
            violations
                .push(at(format!("{what} signature by key {tag} does not verify")).for_key(tag));
        }
    }
    violations
}

fn text_match_violations(skr: &TextSkr, ksr: &Ksr) -> Vec<Violation> {
    let mut violations = Vec::new();
    if !same_zone(&skr.skr.header.domain, &ksr.header.domain) {
        violations.push(Violation::new(format!(
            "SKR zone {:?} is not the KSR's {:?}",
            skr.skr.header.domain, ksr.header.domain
        )));
    }
    let bundles = &skr.skr.bundles;
    for (i, pair) in bundles.windows(2).enumerate() {
        if pair[1].inception < pair[0].inception
            || (pair[1].inception == pair[0].inception && !skr.hands_over(i))
        {
            violations.push(
                Violation::new(format!(
                    "bundle {} starts {}, not after the bundle before ({})",
                    bundle_label(i + 1, &pair[1]),
                    pair[1].inception,
                    pair[0].inception
                ))
                .in_bundle(&pair[1].id),
            );
        }
    }
    for (i, request) in ksr.bundles.iter().enumerate() {
        if !bundles.iter().any(|b| b.inception == request.inception) {
            violations.push(
                Violation::new(format!(
                    "KSR bundle {} ({}) starts no SKR bundle",
                    bundle_label(i, request),
                    request.inception
                ))
                .in_bundle(&request.id),
            );
        }
    }
    if let (Some(first), Some(request)) = (bundles.first(), ksr.bundles.first()) {
        if first.inception < request.inception {
            violations.push(
                Violation::new(format!(
                    "the SKR starts {}, before the KSR's first instant {}",
                    first.inception, request.inception
                ))
                .in_bundle(&first.id),
            );
        }
    }
    violations
}

fn text_pair_violations(zone: &Name, skr: &TextSkr, ksr: &Ksr) -> Vec<Violation> {
    let mut violations = Vec::new();
    let bundles = &skr.skr.bundles;
    for (i, response) in bundles.iter().enumerate() {
        let label = bundle_label(i, response);
        let at = |message: String| -> Violation {
            Violation::new(format!("bundle {label}: {message}")).in_bundle(&response.id)
        };
        // A BIND handover bundle still answers the request before the one
        // starting at its instant.
        let handover = skr.hands_over(i);
        let Some(request) = ksr.bundles.iter().rev().find(|b| {
            b.inception < response.inception || (b.inception == response.inception && !handover)
        }) else {
            violations.push(at("starts before every KSR bundle".to_owned()));
            continue;
        };
        let mut requested: Vec<&Dnskey> = request.dnskeys().collect();
        let mut zsks: Vec<&Dnskey> = response.dnskeys().filter(|k| !k.is_sep()).collect();
        requested.sort_by_key(|k| k.rdata());
        requested.dedup();
        zsks.sort_by_key(|k| k.rdata());
        zsks.dedup();
        for key in requested.iter().filter(|k| !zsks.contains(k)) {
            violations.push(
                at(format!(
                    "ZSK {} of KSR bundle {} is missing",
                    key.key_tag(),
                    request.id
                ))
                .for_key(key.key_tag()),
            );
        }
        for key in zsks.iter().filter(|k| !requested.contains(k)) {
            violations.push(
                at(format!(
                    "has ZSK {}, which KSR bundle {} does not hold",
                    key.key_tag(),
                    request.id
                ))
                .for_key(key.key_tag()),
            );
        }
        let ksks: Vec<&Dnskey> = response.dnskeys().filter(|k| k.is_sep()).collect();
        if ksks.is_empty() {
            violations.push(at("has no KSK".to_owned()));
        }
        let by_ksk: Vec<&Signature> = response
            .signatures
            .iter()
            .filter(|s| {
                ksks.iter()
                    .any(|k| k.key_tag() == s.key_tag && k.algorithm() == s.algorithm)
            })
            .collect();
        if by_ksk.is_empty() {
            violations.push(at("no KSK signs the DNSKEY RRset".to_owned()));
        }
        if let Some(next) = bundles.get(i + 1) {
            for sig in by_ksk.iter().filter(|s| s.expiration < next.inception) {
                violations.push(
                    at(format!(
                        "KSK {} signature ends {}, before the next bundle starts {}: a gap",
                        sig.key_tag, sig.expiration, next.inception
                    ))
                    .for_key(sig.key_tag),
                );
            }
        }
        let extra = skr.extra(i);
        for cdnskey in &extra.cdnskeys {
            let delete = cdnskey.dnskey.algorithm().to_int() == 0;
            if !delete && !ksks.contains(&&cdnskey.dnskey) {
                violations.push(
                    at(format!(
                        "CDNSKEY {} is none of the bundle's KSKs",
                        cdnskey.dnskey.key_tag()
                    ))
                    .for_key(cdnskey.dnskey.key_tag()),
                );
            }
        }
        for cds in &extra.cds {
            let delete = cds.ds.algorithm.to_int() == 0;
            let matches = ksks
                .iter()
                .any(|k| Ds::compute(zone, k, cds.ds.digest_type).is_ok_and(|ds| ds == cds.ds));
            if !delete && !matches {
                violations.push(
                    at(format!(
                        "CDS {} (digest type {}) matches none of the bundle's KSKs",
                        cds.ds.key_tag,
                        cds.ds.digest_type.to_int()
                    ))
                    .for_key(cds.ds.key_tag),
                );
            }
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceremony_dnssec::SecurityAlgorithm;
    use ceremony_formats::{bind, knot};
    use ceremony_keys::soft::SoftKey;

    fn shared(rel: &str) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/");
        std::fs::read_to_string(format!("{path}{rel}")).expect("shared data")
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    /// Our Knot SKR for the sample KSR has the bundles, keys and times of keymgr's.
    #[test]
    fn knot_rules_reproduce_the_sample_skr_layout() {
        let ksr = knot::parse_ksr(&shared("knot/example.ksr"), "ksr").expect("ksr");
        let theirs = knot::parse_skr(&shared("knot/example.skr"), "skr").expect("skr");
        let ksk = SoftKey::generate("ksk", SecurityAlgorithm::RSASHA256, 2048).expect("key");
        let policy = TextPolicy::knot(at("2026-11-29T13:36:27Z"));
        let ours = sign_text_ksr(Peer::Knot, &ksr, &[&ksk], &policy).expect("signs");
        let times =
            |s: &TextSkr| -> Vec<Timestamp> { s.skr.bundles.iter().map(|b| b.inception).collect() };
        assert_eq!(times(&ours), times(&theirs));
        for (a, b) in ours.skr.bundles.iter().zip(&theirs.skr.bundles) {
            let zsks = |b: &Bundle| -> Vec<Dnskey> {
                b.keys
                    .iter()
                    .filter(|k| !k.dnskey.is_sep())
                    .map(|k| k.dnskey.clone())
                    .collect()
            };
            assert_eq!(zsks(a), zsks(b), "bundle {}", a.id);
            assert_eq!(a.id, b.id);
            assert_eq!(a.signatures[0].inception, b.signatures[0].inception);
            assert_eq!(a.signatures[0].expiration, b.signatures[0].expiration);
        }
        // Written in keymgr's layout, it reads back to the same bundles and writes the same.
        let text = knot::write_skr(&ours);
        let again = knot::parse_skr(&text, "ours").expect("reads");
        assert!(again.skr.bundles == ours.skr.bundles && again.extra == ours.extra);
        assert!(knot::write_skr(&again) == text);
    }

    /// Our BIND SKR for the sample KSR has the bundles, blank lines and times of dnssec-ksr's.
    #[test]
    fn bind_rules_reproduce_the_sample_skr_layout() {
        let ksr = bind::parse_ksr(&shared("bind/example.ksr"), "ksr").expect("ksr");
        let theirs = bind::parse_skr(&shared("bind/example.skr"), "skr").expect("skr");
        let ksk = SoftKey::generate("ksk", SecurityAlgorithm::ECDSAP256SHA256, 256).expect("key");
        let end = theirs.skr.bundles.last().expect("bundles").inception;
        let policy = TextPolicy::bind(at("2026-11-29T13:37:53Z"), end);
        let ours = sign_text_ksr(Peer::Bind, &ksr, &[&ksk], &policy).expect("signs");
        let shape = |s: &TextSkr| -> Vec<(Timestamp, bool, usize, usize, usize)> {
            s.skr
                .bundles
                .iter()
                .zip(&s.extra)
                .map(|(b, e)| {
                    (
                        b.inception,
                        e.starts_request_bundle,
                        b.keys.len(),
                        e.cds.len(),
                        e.signatures.len(),
                    )
                })
                .collect()
        };
        assert_eq!(shape(&ours), shape(&theirs));
        for (a, b) in ours.skr.bundles.iter().zip(&theirs.skr.bundles) {
            assert_eq!(a.id, b.id);
            assert_eq!(a.signatures[0].inception, b.signatures[0].inception);
            assert_eq!(a.signatures[0].expiration, b.signatures[0].expiration);
            assert_eq!(a.keys[1..], b.keys[1..], "the ZSKs after the KSK");
        }
        let text = bind::write_skr(&ours);
        let again = bind::parse_skr(&text, "ours").expect("reads");
        assert!(again.skr.bundles == ours.skr.bundles && again.extra == ours.extra);
        assert!(bind::write_skr(&again) == text);
    }

    fn repo_file(rel: &str) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../");
        std::fs::read_to_string(format!("{path}{rel}")).expect("testdata")
    }

    /// What keymgr and dnssec-ksr wrote answers their KSRs by our text checks;
    /// one changed signature byte fails SKR-VERIFY, a missing ZSK SKR-PAIR.
    #[test]
    fn the_peers_skrs_pass_the_text_checks() {
        for name in ["example-rsa", "root-ecdsa-cds", "ed25519", "long-name"] {
            let ksr = knot::parse_ksr(
                &repo_file(&format!("testdata/interop/knot/{name}.ksr")),
                name,
            )
            .expect("ksr");
            let skr = knot::parse_skr(
                &repo_file(&format!("testdata/interop/knot/{name}.skr")),
                name,
            )
            .expect("skr");
            let report = verify_text_skr(&skr, Some(&ksr.ksr), true);
            assert!(report.is_ok(), "knot {name}: {report:#?}");
        }
        for name in ["example-rsa", "root-ecdsa", "ed25519", "long-name"] {
            let ksr = bind::parse_ksr(
                &repo_file(&format!("testdata/interop/bind/{name}.ksr")),
                name,
            )
            .expect("ksr");
            let skr = bind::parse_skr(
                &repo_file(&format!("testdata/interop/bind/{name}.skr")),
                name,
            )
            .expect("skr");
            let report = verify_text_skr(&skr, Some(&ksr.ksr), true);
            assert!(report.is_ok(), "bind {name}: {report:#?}");
            let mut bad = skr.clone();
            bad.skr.bundles[3].signatures[0].signature_data[7] ^= 1;
            let report = verify_text_skr(&bad, Some(&ksr.ksr), true);
            assert_eq!(report.failed().collect::<Vec<_>>(), [CheckId::SkrVerify]);
            let mut bad = skr.clone();
            bad.extra[2].signatures[0].signature_data[7] ^= 1;
            assert!(
                !verify_text_skr(&bad, None, true).is_ok(),
                "a CDS/CDNSKEY signature"
            );
            let mut bad = skr;
            let zsk = bad.skr.bundles[1]
                .keys
                .iter()
                .position(|k| !k.dnskey.is_sep())
                .expect("zsk");
            bad.skr.bundles[1].keys.remove(zsk);
            let report = verify_text_skr(&bad, Some(&ksr.ksr), true);
            assert!(
                report.failed().any(|id| id == CheckId::SkrPair),
                "{report:#?}"
            );
        }
    }

    /// Our own SKRs pass the same checks, and the request preset lets the peers' KSRs through.
    #[test]
    fn our_skrs_pass_the_text_checks() {
        let ksk = SoftKey::generate("ksk", SecurityAlgorithm::ECDSAP256SHA256, 256).expect("key");
        for (peer, rel) in [
            (Peer::Knot, "testdata/interop/knot/root-ecdsa-cds.ksr"),
            (Peer::Bind, "testdata/interop/bind/root-ecdsa.ksr"),
        ] {
            let text = repo_file(rel);
            let ksr = match peer {
                Peer::Knot => knot::parse_ksr(&text, rel),
                Peer::Bind => bind::parse_ksr(&text, rel),
            }
            .expect("ksr");
            let now = ksr.ksr.bundles[0].inception;
            let policy = TextPolicy::preset(peer, now, None);
            let skr = sign_text_ksr(peer, &ksr, &[&ksk], &policy).expect("signs");
            let report = verify_text_skr(&skr, Some(&ksr.ksr), true);
            assert!(report.is_ok(), "{peer:?}: {report:#?}");
            let checks = ceremony_policy::validate_ksr(
                &ksr.ksr,
                &ceremony_policy::KsrContext {
                    policy: &request_policy(peer, ".", 172_800),
                    previous: None,
                    now,
                    ksk_tags: &[ksk.dnskey().key_tag()],
                },
            );
            assert!(checks.is_ok(), "{peer:?}: {checks:#?}");
        }
    }

    /// Knobs set in the configuration win over the preset; root defaults do not.
    #[test]
    fn configured_knobs_override_the_preset() {
        let preset = request_policy(Peer::Knot, "example.", 3600);
        let same = overlay_request_policy(preset.clone(), &RequestPolicy::default());
        assert_eq!(same, preset);
        let configured = RequestPolicy {
            acceptable_domains: vec!["example.com.".to_owned()],
            num_bundles: 14,
            ..RequestPolicy::default()
        };
        let mixed = overlay_request_policy(preset.clone(), &configured);
        assert_eq!(mixed.acceptable_domains, ["example.com."]);
        assert_eq!(mixed.num_bundles, 14);
        assert_eq!(mixed.dns_ttl, 3600);
        assert!(!mixed.check_bundle_intervals);
    }

    fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
        std::process::Command::new("keymgr")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("keymgr {args:?}: {e}"))
    }

    /// Knot's ZSK side imports the SKR we sign for its KSR (`keymgr import-skr` exits 0)
    /// and then holds our KSK's signatures for every bundle.
    ///
    /// keymgr comes from `scripts/interop-setup`, which `scripts/test` runs;
    /// without it this fails and says so, unless `CEREMONY_SKIP_INTEROP` is set.
    #[test]
    fn keymgr_imports_our_skr() {
        let present = std::process::Command::new("sh")
            .args(["-c", "command -v keymgr"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !present {
            if std::env::var_os("CEREMONY_SKIP_INTEROP").is_some() {
                eprintln!("skipped: keymgr is not installed and CEREMONY_SKIP_INTEROP is set");
                return;
            }
            panic!("keymgr is not installed: run scripts/interop-setup (or set CEREMONY_SKIP_INTEROP=1)");
        }
        let work = tempfile::tempdir().expect("temp dir");
        let dir = work.path();
        for sub in ["zsk/run", "zsk/keys", "zsk/zones"] {
            std::fs::create_dir_all(dir.join(sub)).expect("dirs");
        }
        let conf =
            shared("knot/zsk-side.knot.conf").replace("@WORKDIR@", &dir.display().to_string());
        std::fs::write(dir.join("zsk.conf"), conf).expect("config");
        let out = run(dir, &["-c", "zsk.conf", "example.", "pregenerate", "+1y"]);
        assert!(
            out.status.success(),
            "pregenerate: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = run(
            dir,
            &["-c", "zsk.conf", "example.", "generate-ksr", "+0", "+1y"],
        );
        assert!(
            out.status.success(),
            "generate-ksr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ksr_text = String::from_utf8(out.stdout).expect("text");
        let ksr = knot::parse_ksr(&ksr_text, "generated KSR").unwrap_or_else(|e| panic!("{e}"));

        let ksk = SoftKey::generate("ksk", SecurityAlgorithm::RSASHA256, 2048).expect("key");
        let tag = ksk.dnskey().key_tag();
        let policy = TextPolicy::knot(Timestamp::now());
        let skr = sign_text_ksr(Peer::Knot, &ksr, &[&ksk], &policy).expect("signs");
        std::fs::write(dir.join("ours.skr"), knot::write_skr(&skr)).expect("write");

        let out = run(
            dir,
            &["-c", "zsk.conf", "example.", "import-skr", "ours.skr"],
        );
        assert!(
            out.status.success(),
            "keymgr import-skr refused our SKR: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // What Knot now holds: one set of offline records per bundle, signed by our KSK.
        let out = run(
            dir,
            &["-c", "zsk.conf", "example.", "show-offline", "+0", "+2y"],
        );
        assert!(out.status.success());
        let held = String::from_utf8(out.stdout).expect("text");
        let held = held.replace(";; Offline records for", ";; SignedKeyResponse 1.0");
        let held_bundles = held.matches(";; SignedKeyResponse 1.0").count();
        assert_eq!(held_bundles, skr.skr.bundles.len());
        let rrsigs: Vec<&str> = held
            .lines()
            .filter(|l| l.contains(" RRSIG DNSKEY "))
            .collect();
        assert_eq!(rrsigs.len(), skr.skr.bundles.len());
        let signer_lines = held
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(&tag.to_string()))
            .count();
        assert_eq!(
            signer_lines,
            skr.skr.bundles.len(),
            "every bundle signed by our KSK {tag}"
        );

        // A control: keymgr does refuse a broken SKR, so the exit code above means something.
        let broken = knot::write_skr(&skr).replacen(" RRSIG DNSKEY ", " RRSIG NOSUCHTYPE ", 1);
        std::fs::write(dir.join("broken.skr"), broken).expect("write");
        let out = run(
            dir,
            &["-c", "zsk.conf", "example.", "import-skr", "broken.skr"],
        );
        assert!(!out.status.success(), "keymgr accepted a broken SKR");
    }
}
