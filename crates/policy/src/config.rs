//! The policy knobs, their root-zone defaults, and the TOML that changes them.
//!
//! Knob names follow the `request_policy` and `response_policy` sections of
//! the root signer's `ksrsigner.yaml`, so an operator's existing settings
//! carry over. Ceremony adds the operator's own validity and overlap ranges,
//! which the reference signer lacks.

use std::path::Path;

use ceremony_dnssec::SecurityAlgorithm;
use ceremony_formats::Duration;
use serde::{Deserialize, Deserializer};

/// Why a policy configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file's name.
        file: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown key, or a value of the wrong kind.
    #[error("{file}: {message}")]
    Invalid {
        /// The file's name.
        file: String,
        /// The parser's message, naming the key and line.
        message: String,
    },
}

/// Everything the checks read, as one configuration file holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Knobs for checking KSRs.
    pub request_policy: RequestPolicy,
    /// Knobs for checking SKRs.
    pub response_policy: ResponsePolicy,
}

impl PolicyConfig {
    /// Reads a TOML configuration; absent keys keep their root defaults.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, and for bad content the key and line.
    pub fn load(path: &Path) -> Result<PolicyConfig, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            file: file.clone(),
            source,
        })?;
        PolicyConfig::parse(&text, &file)
    }

    /// Parses TOML text; `file` names it in errors.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the key and line.
    pub fn parse(text: &str, file: &str) -> Result<PolicyConfig, ConfigError> {
        toml::from_str(text).map_err(|err| ConfigError::Invalid {
            file: file.to_owned(),
            message: err.to_string().trim_end().replace('\n', "\n  "),
        })
    }
}

/// Knobs for the KSR checks. Defaults are the root zone's practice.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequestPolicy {
    /// KSR-DOMAIN: the domains a KSR may be for.
    pub acceptable_domains: Vec<String>,
    /// KSR-BUNDLE-COUNT: the number of bundles; 0 switches the check off.
    pub num_bundles: usize,
    /// KSR-BUNDLE-POP: verify the ZSK self-signatures.
    pub validate_signatures: bool,
    /// KSR-BUNDLE-KEYS: check keys against the KSR's ZSK policy.
    pub keys_match_zsk_policy: bool,
    /// KSR-BUNDLE-KEYS: require the RSA exponent to match too (early root KSRs got it wrong).
    pub rsa_exponent_match_zsk_policy: bool,
    /// KSR-BUNDLE-CYCLE-DURATION: check the span of bundle inceptions.
    pub check_cycle_length: bool,
    /// KSR-BUNDLE-CYCLE-DURATION: shortest first-to-last inception span.
    #[serde(deserialize_with = "xsd_duration")]
    pub min_cycle_inception_length: Duration,
    /// KSR-BUNDLE-CYCLE-DURATION: longest first-to-last inception span.
    #[serde(deserialize_with = "xsd_duration")]
    pub max_cycle_inception_length: Duration,
    /// KSR-POLICY-BUNDLE-INTERVALS: shortest time between inceptions.
    #[serde(deserialize_with = "xsd_duration")]
    pub min_bundle_interval: Duration,
    /// KSR-POLICY-BUNDLE-INTERVALS: longest time between inceptions.
    #[serde(deserialize_with = "xsd_duration")]
    pub max_bundle_interval: Duration,
    /// KSR-POLICY-SIG-OVERLAP: check bundle overlaps.
    pub check_bundle_overlap: bool,
    /// KSR-POLICY-SIG-OVERLAP and KSR-CHAIN-OVERLAP: the operator's smallest overlap.
    #[serde(deserialize_with = "xsd_duration")]
    pub min_validity_overlap: Duration,
    /// KSR-POLICY-SIG-OVERLAP and KSR-CHAIN-OVERLAP: the operator's largest overlap.
    #[serde(deserialize_with = "xsd_duration")]
    pub max_validity_overlap: Duration,
    /// KSR-POLICY-SIG-OVERLAP and KSR-CHAIN-OVERLAP: also hold overlaps to the KSR's own stated range.
    pub overlap_match_zsk_policy: bool,
    /// KSR-POLICY-ALG: check the KSR's algorithms against the approved lists.
    pub signature_algorithms_match_zsk_policy: bool,
    /// KSR-POLICY-ALG: approved algorithms, by mnemonic (`RSASHA256`) or number.
    #[serde(deserialize_with = "algorithms")]
    pub approved_algorithms: Vec<SecurityAlgorithm>,
    /// KSR-POLICY-ALG: approved RSA public exponents.
    pub rsa_approved_exponents: Vec<u64>,
    /// KSR-POLICY-ALG: approved RSA modulus sizes in bits.
    pub rsa_approved_key_sizes: Vec<u32>,
    /// KSR-POLICY-SIG-VALIDITY: also hold bundles to the KSR's own stated validity range.
    pub signature_validity_match_zsk_policy: bool,
    /// KSR-POLICY-SIG-VALIDITY: the operator's shortest bundle validity.
    #[serde(deserialize_with = "xsd_duration")]
    pub min_signature_validity: Duration,
    /// KSR-POLICY-SIG-VALIDITY: the operator's longest bundle validity.
    #[serde(deserialize_with = "xsd_duration")]
    pub max_signature_validity: Duration,
    /// KSR-POLICY-KEYS: check key counts and TTL.
    pub check_keys_match_ksk_operator_policy: bool,
    /// KSR-POLICY-KEYS: keys in each bundle, by position; empty switches this part off.
    pub num_keys_per_bundle: Vec<usize>,
    /// KSR-POLICY-KEYS: distinct keys in the whole KSR; 0 switches this part off.
    pub num_different_keys_in_all_bundles: usize,
    /// KSR-POLICY-KEYS: the DNSKEY TTL every key must have.
    pub dns_ttl: u32,
    /// KSR-POLICY-SIG-HORIZON: check how far ahead signatures expire.
    pub signature_check_expire_horizon: bool,
    /// KSR-POLICY-SIG-HORIZON: the furthest expiration, in days from now.
    pub signature_horizon_days: i64,
    /// KSR-POLICY-BUNDLE-INTERVALS: check inception spacing.
    pub check_bundle_intervals: bool,
    /// KSR-CHAIN-KEYS: check the ZSK hand-over from the previous SKR.
    pub check_chain_keys: bool,
    /// KSR-CHAIN-KEYS: also require the signing key to have signed the previous SKR (at signing).
    pub check_chain_keys_in_hsm: bool,
    /// KSR-CHAIN-OVERLAP: check the overlap with the previous SKR.
    pub check_chain_overlap: bool,
    /// KSR-POLICY-SAFETY: check KSK publish safety.
    pub check_keys_publish_safety: bool,
    /// KSR-POLICY-SAFETY: check KSK retire safety.
    pub check_keys_retire_safety: bool,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        RequestPolicy {
            acceptable_domains: vec![".".to_owned()],
            num_bundles: 9,
            validate_signatures: true,
            keys_match_zsk_policy: true,
            rsa_exponent_match_zsk_policy: true,
            check_cycle_length: true,
            min_cycle_inception_length: Duration::from_days(79),
            max_cycle_inception_length: Duration::from_days(81),
            min_bundle_interval: Duration::from_days(9),
            max_bundle_interval: Duration::from_days(11),
            check_bundle_overlap: true,
            min_validity_overlap: Duration::from_days(9),
            max_validity_overlap: Duration::from_days(16),
            overlap_match_zsk_policy: true,
            signature_algorithms_match_zsk_policy: true,
            approved_algorithms: vec![SecurityAlgorithm::RSASHA256],
            rsa_approved_exponents: vec![65537],
            rsa_approved_key_sizes: vec![2048],
            signature_validity_match_zsk_policy: true,
            min_signature_validity: Duration::from_days(21),
            max_signature_validity: Duration::from_days(21),
            check_keys_match_ksk_operator_policy: true,
            num_keys_per_bundle: vec![2, 1, 1, 1, 1, 1, 1, 1, 2],
            num_different_keys_in_all_bundles: 3,
            dns_ttl: 172_800,
            signature_check_expire_horizon: true,
            signature_horizon_days: 180,
            check_bundle_intervals: true,
            check_chain_keys: true,
            check_chain_keys_in_hsm: true,
            check_chain_overlap: true,
            check_keys_publish_safety: true,
            check_keys_retire_safety: true,
        }
    }
}

/// Knobs for the SKR checks.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponsePolicy {
    /// The number of bundles an SKR must have; 0 accepts any.
    pub num_bundles: usize,
    /// SKR-VERIFY: verify every KSK signature.
    pub validate_signatures: bool,
}

impl Default for ResponsePolicy {
    fn default() -> Self {
        ResponsePolicy {
            num_bundles: 9,
            validate_signatures: true,
        }
    }
}

fn xsd_duration<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(de)?;
    Duration::parse_xsd(&text).map_err(serde::de::Error::custom)
}

/// Reads an algorithm by mnemonic (`RSASHA256`, `ECDSAP256SHA256`, `ED25519`) or number.
pub fn parse_algorithm(text: &str) -> Option<SecurityAlgorithm> {
    if let Ok(number) = text.parse::<u8>() {
        return Some(SecurityAlgorithm::from_int(number));
    }
    SecurityAlgorithm::from_mnemonic(text.to_ascii_uppercase().as_bytes())
}

fn algorithms<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<SecurityAlgorithm>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NameOrNumber {
        Name(String),
        Number(u8),
    }
    Vec::<NameOrNumber>::deserialize(de)?
        .into_iter()
        .map(|item| match item {
            NameOrNumber::Number(n) => Ok(SecurityAlgorithm::from_int(n)),
            NameOrNumber::Name(name) => parse_algorithm(&name).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown algorithm {name:?}; use a mnemonic such as RSASHA256, ECDSAP256SHA256, ED25519, or a number"
                ))
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_root_defaults() {
        let config = PolicyConfig::parse("", "empty.toml").expect("parses");
        assert_eq!(config, PolicyConfig::default());
        assert_eq!(
            config.request_policy.max_signature_validity,
            Duration::from_days(21)
        );
    }

    #[test]
    fn knobs_can_be_changed() {
        let config = PolicyConfig::parse(
            "[request_policy]\nrsa_approved_key_sizes = [1024, 2048]\nmin_signature_validity = \"P14DT23H59M59S\"\napproved_algorithms = [\"RSASHA256\", 13]\n",
            "c.toml",
        )
        .expect("parses");
        let request = config.request_policy;
        assert_eq!(request.rsa_approved_key_sizes, [1024, 2048]);
        assert_eq!(request.min_signature_validity.as_seconds(), 15 * 86400 - 1);
        assert_eq!(
            request.approved_algorithms,
            [
                SecurityAlgorithm::RSASHA256,
                SecurityAlgorithm::ECDSAP256SHA256
            ]
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let err =
            PolicyConfig::parse("[request_policy]\nnum_bundels = 9\n", "c.toml").expect_err("typo");
        let text = err.to_string();
        assert!(
            text.contains("c.toml") && text.contains("num_bundels"),
            "{text}"
        );
        let err = PolicyConfig::parse(
            "[request_policy]\nmin_bundle_interval = \"P1M\"\n",
            "c.toml",
        )
        .expect_err("months");
        assert!(
            err.to_string().contains("min_bundle_interval") || err.to_string().contains("P1M"),
            "{err}"
        );
        let err = PolicyConfig::parse(
            "[request_policy]\napproved_algorithms = [\"RSA-FOO\"]\n",
            "c.toml",
        )
        .expect_err("bad alg");
        assert!(err.to_string().contains("RSA-FOO"), "{err}");
    }
}
