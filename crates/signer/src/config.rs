//! The signer's configuration: our TOML, or the root signer's `ksrsigner.yaml` read as-is.
//!
//! Both formats map onto one model through serde; unknown keys are errors
//! that name the key. The sections are those of `ksrsigner.yaml`: `hsm`,
//! `keystore` (ours), `keys`, `ksk_policy`, `request_policy`,
//! `response_policy`, `schemas` and `filenames`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ceremony_dnssec::SecurityAlgorithm;
use ceremony_formats::Duration;
use ceremony_policy::{parse_algorithm, RequestPolicy, ResponsePolicy};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer};

use crate::schema::{Schema, SlotAction};
use crate::SignError;

/// Everything `ceremony sign` needs besides the KSR.
#[derive(Clone, Debug, Default)]
pub struct SignerConfig {
    /// PKCS#11 modules by name.
    pub hsm: BTreeMap<String, HsmConfig>,
    /// The software keystore, if keys live there.
    pub keystore: Option<KeystoreConfig>,
    /// The key inventory, by the names schemas use.
    pub keys: BTreeMap<String, KskConfig>,
    /// How the KSK signs: validity, TTL, safety periods.
    pub ksk_policy: KskPolicy,
    /// The KSR checks' knobs.
    pub request_policy: RequestPolicy,
    /// The SKR checks' knobs.
    pub response_policy: ResponsePolicy,
    /// Rollover schemas by name.
    pub schemas: BTreeMap<String, Schema>,
    /// Default file names.
    pub filenames: Filenames,
}

/// One PKCS#11 module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HsmConfig {
    /// Path of the PKCS#11 library.
    pub module: PathBuf,
    /// The user PIN, as written in the file (ksrsigner.yaml keeps it there).
    #[serde(default, deserialize_with = "string_or_number")]
    pub pin: Option<String>,
    /// The security officer PIN; read for compatibility, never used to sign.
    #[serde(default, deserialize_with = "string_or_number")]
    pub so_pin: Option<String>,
    /// Environment variable holding the PIN (ours).
    #[serde(default)]
    pub pin_env: Option<String>,
    /// File holding the PIN (ours).
    #[serde(default)]
    pub pin_file: Option<PathBuf>,
    /// The token to use; when absent, every token is searched for the key label.
    #[serde(default)]
    pub token_label: Option<String>,
    /// Environment set before the module is loaded, e.g. `SOFTHSM2_CONF`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// The software keystore.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeystoreConfig {
    /// Its directory.
    pub dir: PathBuf,
    /// Environment variable holding the passphrase.
    #[serde(default)]
    pub passphrase_env: Option<String>,
    /// File holding the passphrase.
    #[serde(default)]
    pub passphrase_file: Option<PathBuf>,
    /// The scrypt work factor (log2 N) for keys encrypted from now on. For tests
    /// and demos only, where a low factor (e.g. 10) keeps each unlock fast; a
    /// real keystore leaves it out and gets age's calibrated default (about a
    /// second or more per unlock).
    #[serde(default)]
    pub work_factor: Option<u8>,
}

/// One KSK of the inventory, as configured.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KskConfig {
    /// Free text for people.
    #[serde(default)]
    pub description: String,
    /// The label in the HSM or keystore, and the keyIdentifier in SKRs.
    pub label: String,
    /// The expected key tag (unrevoked).
    #[serde(default)]
    pub key_tag: Option<u16>,
    /// The algorithm, by mnemonic or number.
    #[serde(deserialize_with = "algorithm")]
    pub algorithm: SecurityAlgorithm,
    /// RSA modulus size in bits.
    #[serde(default)]
    pub rsa_size: Option<u32>,
    /// RSA public exponent, as the KSK policy states it.
    #[serde(default)]
    pub rsa_exponent: Option<u64>,
    /// The key may be used from this instant.
    #[serde(deserialize_with = "instant")]
    pub valid_from: Timestamp,
    /// The key may be used until this instant.
    #[serde(default, deserialize_with = "optional_instant")]
    pub valid_until: Option<Timestamp>,
    /// The expected DS SHA-256, hex.
    #[serde(default)]
    pub ds_sha256: Option<String>,
}

/// How the KSK signs (the `ksk_policy` section).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KskPolicy {
    /// Published before signing.
    #[serde(deserialize_with = "duration")]
    pub publish_safety: Duration,
    /// Kept published after signing.
    #[serde(deserialize_with = "duration")]
    pub retire_safety: Duration,
    /// Longest signature validity.
    #[serde(deserialize_with = "duration")]
    pub max_signature_validity: Duration,
    /// Shortest signature validity.
    #[serde(deserialize_with = "duration")]
    pub min_signature_validity: Duration,
    /// Largest overlap.
    #[serde(deserialize_with = "duration")]
    pub max_validity_overlap: Duration,
    /// Smallest overlap.
    #[serde(deserialize_with = "duration")]
    pub min_validity_overlap: Duration,
    /// TTL of the DNSKEY RRset and its RRSIGs.
    pub ttl: u32,
    /// The RRSIG signer name; the KSR's domain when absent.
    pub signers_name: Option<String>,
}

impl Default for KskPolicy {
    fn default() -> Self {
        KskPolicy {
            publish_safety: Duration::ZERO,
            retire_safety: Duration::from_days(28),
            max_signature_validity: Duration::from_days(21),
            min_signature_validity: Duration::from_days(21),
            max_validity_overlap: Duration::from_days(16),
            min_validity_overlap: Duration::from_days(9),
            ttl: 172_800,
            signers_name: None,
        }
    }
}

/// Default file names (the `filenames` section).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filenames {
    /// The previous SKR.
    #[serde(default)]
    pub previous_skr: Option<PathBuf>,
    /// The KSR to sign.
    #[serde(default)]
    pub input_ksr: Option<PathBuf>,
    /// Where the SKR goes.
    #[serde(default)]
    pub output_skr: Option<PathBuf>,
    /// Where trust anchors go.
    #[serde(default)]
    pub output_trustanchor: Option<PathBuf>,
}

/// The file as written, before schemas are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    hsm: BTreeMap<String, HsmConfig>,
    #[serde(default)]
    keystore: Option<KeystoreConfig>,
    #[serde(default)]
    keys: BTreeMap<String, KskConfig>,
    #[serde(default)]
    ksk_policy: KskPolicy,
    #[serde(default)]
    request_policy: RequestPolicy,
    #[serde(default)]
    response_policy: ResponsePolicy,
    #[serde(default)]
    schemas: BTreeMap<String, BTreeMap<SlotKey, RawAction>>,
    #[serde(default)]
    filenames: Filenames,
}

/// A slot number as YAML (integer) or TOML (string key) writes it.
#[derive(Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(untagged)]
enum SlotKey {
    Number(u64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAction {
    #[serde(default)]
    publish: OneOrMany,
    #[serde(default)]
    sign: OneOrMany,
    #[serde(default)]
    revoke: OneOrMany,
}

/// `publish: ksk_current` or `publish: [ksk_current, ksk_next]`.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(name) => vec![name],
            OneOrMany::Many(names) => names,
        }
    }
}

impl SignerConfig {
    /// Reads a configuration: YAML for `.yaml`/`.yml` files, TOML otherwise.
    ///
    /// # Errors
    /// [`SignError::Config`] naming the file and the key or place at fault.
    pub fn load(path: &Path) -> Result<SignerConfig, SignError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| SignError::Config {
            file: file.clone(),
            message: format!("cannot read: {err}"),
        })?;
        let yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        SignerConfig::parse(&text, &file, yaml)
    }

    /// Parses configuration text; `yaml` selects the root signer's format.
    ///
    /// # Errors
    /// [`SignError::Config`] naming the key or place at fault.
    pub fn parse(text: &str, file: &str, yaml: bool) -> Result<SignerConfig, SignError> {
        let config_error = |message: String| SignError::Config {
            file: file.to_owned(),
            message,
        };
        let raw: RawConfig = if yaml {
            serde_yaml::from_str(text).map_err(|err| config_error(err.to_string()))?
        } else {
            toml::from_str(text)
                .map_err(|err| config_error(err.to_string().trim_end().replace('\n', "\n  ")))?
        };
        let mut schemas = BTreeMap::new();
        for (name, slots) in raw.schemas {
            let mut parsed = BTreeMap::new();
            for (key, action) in slots {
                let slot = match &key {
                    SlotKey::Number(n) => Some(*n),
                    SlotKey::Text(t) => t.parse::<u64>().ok(),
                }
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    let shown = match &key {
                        SlotKey::Number(n) => n.to_string(),
                        SlotKey::Text(t) => t.clone(),
                    };
                    config_error(format!(
                        "schemas.{name}: {shown:?} is not a slot number (1, 2, …)"
                    ))
                })?;
                let action = SlotAction {
                    publish: action.publish.into_vec(),
                    sign: action.sign.into_vec(),
                    revoke: action.revoke.into_vec(),
                };
                for key_name in action.keys() {
                    if !raw.keys.contains_key(key_name) {
                        return Err(config_error(format!(
                            "schemas.{name}.{slot}: key {key_name:?} is not in the keys section"
                        )));
                    }
                }
                if action.sign.is_empty() {
                    return Err(config_error(format!("schemas.{name}.{slot}: no key signs")));
                }
                parsed.insert(slot as usize, action);
            }
            schemas.insert(
                name.clone(),
                Schema {
                    name,
                    slots: parsed,
                },
            );
        }
        for (name, key) in &raw.keys {
            if let Some(hex) = &key.ds_sha256 {
                if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(config_error(format!(
                        "keys.{name}.ds_sha256: expected 64 hex digits, found {hex:?}"
                    )));
                }
            }
        }
        Ok(SignerConfig {
            hsm: raw.hsm,
            keystore: raw.keystore,
            keys: raw.keys,
            ksk_policy: raw.ksk_policy,
            request_policy: raw.request_policy,
            response_policy: raw.response_policy,
            schemas,
            filenames: raw.filenames,
        })
    }

    /// The schema called `name`; `normal` falls back to the only key when the file has no schemas.
    ///
    /// # Errors
    /// [`SignError::Config`] when there is no such schema.
    pub fn schema(&self, name: &str, slots: usize) -> Result<Schema, SignError> {
        if let Some(schema) = self.schemas.get(name) {
            return Ok(schema.clone());
        }
        if name == "normal" && self.schemas.is_empty() && self.keys.len() == 1 {
            let key = self
                .keys
                .keys()
                .next()
                .map(String::as_str)
                .unwrap_or_default();
            return Ok(Schema::normal(key, slots));
        }
        Err(SignError::Config {
            file: "configuration".to_owned(),
            message: format!(
                "no schema {name:?}; the configuration has [{}]",
                self.schemas.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(de: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Text(String),
        Number(u64),
    }
    Ok(Option::<Value>::deserialize(de)?.map(|v| match v {
        Value::Text(t) => t,
        Value::Number(n) => n.to_string(),
    }))
}

fn algorithm<'de, D: Deserializer<'de>>(de: D) -> Result<SecurityAlgorithm, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Text(String),
        Number(u8),
    }
    match Value::deserialize(de)? {
        Value::Number(n) => Ok(SecurityAlgorithm::from_int(n)),
        Value::Text(t) => parse_algorithm(&t).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown algorithm {t:?}; use RSASHA256, ECDSAP256SHA256 or ED25519"
            ))
        }),
    }
}

fn instant<'de, D: Deserializer<'de>>(de: D) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(de)?;
    ceremony_formats::parse_datetime(&text).map_err(serde::de::Error::custom)
}

fn optional_instant<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Timestamp>, D::Error> {
    Option::<String>::deserialize(de)?
        .map(|text| ceremony_formats::parse_datetime(&text).map_err(serde::de::Error::custom))
        .transpose()
}

fn duration<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(de)?;
    Duration::parse_xsd(&text).map_err(serde::de::Error::custom)
}
