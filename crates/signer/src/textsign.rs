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

use ceremony_dnssec::{parse_name, verify, DigestAlgorithm, Dnskey, Ds, Name, RrsigHeader};
use ceremony_formats::model::{Cds, ExtraRecords, TextKsr, TextSkr};
use ceremony_formats::{Bundle, Key, Signature, SignaturePolicy, Skr};
use ceremony_keys::KeySigner;
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
            end: Some(end),
            now,
            generator: ceremony_formats::bind::BIND_VERSION.to_owned(),
        }
    }
}

/// Signs a Knot DNS or BIND 9 KSR with `ksks`, following `peer`'s rules.
///
/// The response echoes the KSR's header; write it with
/// [`ceremony_formats::knot::write_skr`] or [`ceremony_formats::bind::write_skr`].
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
    let config = |message: String| SignError::Config {
        file: "text signing policy".to_owned(),
        message,
    };
    if ksks.is_empty() {
        return Err(config("no KSK to sign with".to_owned()));
    }
    if policy.validity_seconds <= policy.refresh_seconds || policy.refresh_seconds < 0 {
        return Err(config(format!(
            "signature validity {} s must exceed the refresh {} s",
            policy.validity_seconds, policy.refresh_seconds
        )));
    }
    let ksr = &request.ksr;
    let zone = parse_name(&ksr.header.domain)
        .map_err(|e| config(format!("zone {:?}: {e}", ksr.header.domain)))?;
    let instants = response_instants(peer, ksr.bundles.as_slice(), policy)?;

    let mut signer = BundleSigner {
        peer,
        zone,
        domain: &ksr.header.domain,
        ksks,
        policy,
    };
    let mut bundles = Vec::with_capacity(instants.len());
    let mut extra = Vec::with_capacity(instants.len());
    for (at, index, starts) in instants {
        let (bundle, records) = signer.sign(at, &ksr.bundles[index], starts)?;
        bundles.push(bundle);
        extra.push(records);
    }
    let ksk_policy = SignaturePolicy {
        algorithms: Vec::new(),
        ..ksr.zsk_policy.clone()
    };
    Ok(TextSkr {
        skr: Skr {
            header: ksr.header.clone(),
            timestamp: Some(policy.now),
            ksk_policy,
            zsk_policy: ksr.zsk_policy.clone(),
            bundles,
        },
        generator: policy.generator.clone(),
        extra,
    })
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
                    None => {
                        let end = policy.end.ok_or_else(|| SignError::Config {
                            file: "text signing policy".to_owned(),
                            message: "BIND answers the last KSR bundle up to an end (dnssec-ksr sign -e); none given".to_owned(),
                        })?;
                        end.as_second()
                    }
                };
                let mut inception = start;
                let mut cap = limit;
                let mut first = true;
                while inception <= limit {
                    out.push((inception, i, first));
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

        let (inception, expiration) = match self.peer {
            Peer::Knot => (
                at.as_second() - 90 * 60,
                at.as_second() + policy.validity_seconds,
            ),
            Peer::Bind => (
                at.as_second() - 3600,
                at.as_second() + policy.validity_seconds,
            ),
        };
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
        verify(dnskey, &data, &signature_data).map_err(|e| SignError::Config {
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
