//! Finding the configured KSKs: in the software keystore or in a PKCS#11 token.
//!
//! Every key of the inventory is looked up by its label, first in the
//! keystore when one is configured, then in each configured HSM. Secrets
//! (passphrase, PIN) come from the configuration's env var or file, or from
//! a prompt the caller supplies; never from the command line.

use std::path::{Path, PathBuf};

use ceremony_keys::keystore::{Keystore, Unlock};
use ceremony_keys::pkcs11::{Hsm, Pin, Pkcs11Config};
use ceremony_keys::{KeyError, KeySigner};

use crate::config::{HsmConfig, SignerConfig};
use crate::{KeyRing, SignError};

/// Asks a person for a secret; the CLI prompts on the terminal.
pub trait Prompt {
    /// Returns the secret for `what` (e.g. "passphrase of keystore ./keys").
    ///
    /// # Errors
    /// [`KeyError`] when no answer can be had.
    fn secret(&self, what: &str) -> Result<secrecy::SecretString, KeyError>;
}

/// The KSKs loaded for one ceremony, by their names in the configuration.
pub struct LoadedKeys {
    keys: Vec<(String, Box<dyn KeySigner>)>,
    /// Where each came from, for the ceremony's record: (name, "keystore DIR" or "token T").
    pub sources: Vec<(String, String)>,
}

impl LoadedKeys {
    /// The keys as the signer takes them.
    pub fn ring(&self) -> KeyRing<'_> {
        self.keys
            .iter()
            .map(|(name, key)| (name.clone(), key.as_ref()))
            .collect()
    }

    /// One key by name.
    pub fn get(&self, name: &str) -> Option<&dyn KeySigner> {
        self.keys
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| k.as_ref())
    }
}

/// Resolves a path in the configuration relative to the configuration's directory.
pub fn resolve(config_dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        config_dir.join(path)
    }
}

/// The PKCS#11 settings of one `hsm` entry for `token_label`; the PIN source
/// follows pin, pin_env, pin_file, prompt.
pub fn pkcs11_config(hsm: &HsmConfig, token_label: &str, config_dir: &Path) -> Pkcs11Config {
    let pin = if let Some(pin) = &hsm.pin {
        Pin::Value(secrecy::SecretString::from(pin.clone()))
    } else if let Some(var) = &hsm.pin_env {
        Pin::Env(var.clone())
    } else if let Some(file) = &hsm.pin_file {
        Pin::File(resolve(config_dir, file))
    } else {
        Pin::Prompt
    };
    let env = hsm
        .env
        .iter()
        .map(|(k, v)| {
            // SOFTHSM2_CONF and friends are paths relative to the configuration too.
            let value = if v.contains('/') || v.ends_with(".conf") {
                resolve(config_dir, Path::new(v)).display().to_string()
            } else {
                v.clone()
            };
            (k.clone(), value)
        })
        .collect();
    Pkcs11Config {
        module: hsm.module.clone(),
        token_label: token_label.to_owned(),
        pin,
        env,
    }
}

/// Opens the tokens of one `hsm` entry: the named one, or, as the root signer
/// does when the configuration names none, every initialised token.
fn open_tokens(hsm: &HsmConfig, config_dir: &Path) -> Result<Vec<Hsm>, SignError> {
    let labels = match &hsm.token_label {
        Some(label) => vec![label.clone()],
        None => Hsm::token_labels(&pkcs11_config(hsm, "", config_dir))?,
    };
    labels
        .iter()
        .map(|label| Ok(Hsm::open(&pkcs11_config(hsm, label, config_dir))?))
        .collect()
}

/// The keystore's unlock secret: env var, file, or the prompt.
fn keystore_unlock(
    config: &SignerConfig,
    config_dir: &Path,
    prompt: &dyn Prompt,
) -> Result<Unlock, SignError> {
    let Some(store) = &config.keystore else {
        return Err(SignError::Config {
            file: "configuration".to_owned(),
            message: "no keystore section".to_owned(),
        });
    };
    if let Some(var) = &store.passphrase_env {
        return Ok(Unlock::passphrase_from_env(var)?);
    }
    if let Some(file) = &store.passphrase_file {
        return Ok(Unlock::passphrase_from_file(&resolve(config_dir, file))?);
    }
    let what = format!(
        "passphrase of keystore {}",
        resolve(config_dir, &store.dir).display()
    );
    Ok(Unlock::Passphrase(prompt.secret(&what)?))
}

/// Loads the keys named `names` (all configured keys when empty).
///
/// # Errors
/// [`SignError::MissingKey`] naming a key found nowhere, or the backend's error.
pub fn load_keys(
    config: &SignerConfig,
    config_dir: &Path,
    names: &[String],
    prompt: &dyn Prompt,
) -> Result<LoadedKeys, SignError> {
    load_keys_unlocked(config, config_dir, names, prompt, None)
}

/// [`load_keys`], opening keystore keys with `unlock` (for instance the KEK a
/// quorum of holders rebuilt) instead of the configured passphrase; `unlock`
/// is `None` to use the configuration's secret or the prompt.
///
/// # Errors
/// As [`load_keys`]; a key not encrypted to `unlock` fails to open, named.
pub fn load_keys_unlocked(
    config: &SignerConfig,
    config_dir: &Path,
    names: &[String],
    prompt: &dyn Prompt,
    unlock: Option<&Unlock>,
) -> Result<LoadedKeys, SignError> {
    let wanted: Vec<String> = if names.is_empty() {
        config.keys.keys().cloned().collect()
    } else {
        names.to_vec()
    };
    let keystore = open_keystore(config, config_dir, false)?;
    let given = unlock;
    let mut unlock: Option<Unlock> = None;
    let mut hsms: Vec<(String, Hsm)> = Vec::new();
    let mut loaded = LoadedKeys {
        keys: Vec::new(),
        sources: Vec::new(),
    };
    for name in wanted {
        let Some(key_config) = config.keys.get(&name) else {
            return Err(SignError::Config {
                file: "configuration".to_owned(),
                message: format!("key {name:?} is not in the keys section"),
            });
        };
        let label = &key_config.label;
        if let Some(store) = &keystore {
            if store.info(label).is_ok() {
                if given.is_none() && unlock.is_none() {
                    unlock = Some(keystore_unlock(config, config_dir, prompt)?);
                }
                let secret = given
                    .or(unlock.as_ref())
                    .ok_or_else(|| SignError::MissingKey {
                        name: name.clone(),
                        label: label.clone(),
                        reason: "no keystore secret".to_owned(),
                    })?;
                let key = store.load(label, secret)?;
                loaded
                    .sources
                    .push((name.clone(), format!("keystore {}", store.dir().display())));
                loaded.keys.push((name, Box::new(key)));
                continue;
            }
        }
        if hsms.is_empty() {
            hsms = open_hsms(config, config_dir)?;
        }
        let mut found = None;
        let mut reasons = Vec::new();
        for (hsm_name, hsm) in &hsms {
            match hsm.key(label, None) {
                Ok(key) => {
                    found = Some((format!("hsm {hsm_name}, token {}", hsm.token_label()), key));
                    break;
                }
                Err(err) => reasons.push(err.to_string()),
            }
        }
        match found {
            Some((source, key)) => {
                loaded.sources.push((name.clone(), source));
                loaded.keys.push((name, Box::new(key)));
            }
            None => {
                if let Some(store) = &keystore {
                    reasons.insert(0, format!("not in keystore {}", store.dir().display()));
                }
                if config.hsm.is_empty() {
                    reasons.push("no hsm is configured".to_owned());
                }
                let place = reasons.join("; ");
                return Err(SignError::MissingKey {
                    name,
                    label: label.clone(),
                    reason: place,
                });
            }
        }
    }
    Ok(loaded)
}

/// Where a key lives, for the inventory commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The software keystore.
    Keystore,
    /// The `hsm` entry of that name.
    Hsm(String),
}

/// One key as the inventory shows it.
#[derive(Clone, Debug)]
pub struct InventoryEntry {
    /// Its label.
    pub label: String,
    /// Keystore or token, in words.
    pub place: String,
    /// The KSK DNSKEY, when the pair is usable.
    pub dnskey: Option<ceremony_dnssec::Dnskey>,
    /// Whether the private half is there.
    pub has_private: bool,
    /// Whether the public half is there.
    pub has_public: bool,
    /// The configured key with this label, if any.
    pub config_name: Option<String>,
}

fn open_hsms(config: &SignerConfig, config_dir: &Path) -> Result<Vec<(String, Hsm)>, SignError> {
    config
        .hsm
        .iter()
        .map(|(name, hsm)| {
            Ok(open_tokens(hsm, config_dir)?
                .into_iter()
                .map(|t| (name.clone(), t)))
        })
        .collect::<Result<Vec<_>, SignError>>()
        .map(|tokens| tokens.into_iter().flatten().collect())
}

fn open_keystore(
    config: &SignerConfig,
    config_dir: &Path,
    create: bool,
) -> Result<Option<Keystore>, SignError> {
    match &config.keystore {
        None => Ok(None),
        Some(store) => {
            let dir = resolve(config_dir, &store.dir);
            if !create && !dir.is_dir() {
                // Reading must not create: a typo in the path would make an empty keystore.
                return Err(SignError::Config {
                    file: "configuration".to_owned(),
                    message: format!(
                        "keystore.dir {}: no such directory (`ceremony key generate` creates it)",
                        dir.display()
                    ),
                });
            }
            let mut keystore = if create && !dir.exists() {
                Keystore::create(dir)?
            } else {
                Keystore::open(dir)?
            };
            if let Some(log_n) = store.work_factor {
                keystore.set_work_factor(log_n)?;
            }
            Ok(Some(keystore))
        }
    }
}

/// Every key in the keystore and the tokens, paired with the configuration.
///
/// # Errors
/// The backend's error when a store cannot be opened.
pub fn inventory(
    config: &SignerConfig,
    config_dir: &Path,
) -> Result<Vec<InventoryEntry>, SignError> {
    let by_label = |label: &str| {
        config
            .keys
            .iter()
            .find(|(_, k)| k.label == label)
            .map(|(n, _)| n.clone())
    };
    let mut entries = Vec::new();
    let keystore_exists = config
        .keystore
        .as_ref()
        .is_some_and(|k| resolve(config_dir, &k.dir).is_dir());
    // A keystore not created yet holds no keys.
    let keystore = if keystore_exists {
        open_keystore(config, config_dir, false)?
    } else {
        None
    };
    if let Some(store) = keystore {
        for info in store.list()? {
            entries.push(InventoryEntry {
                config_name: by_label(&info.label),
                place: format!("keystore {}", store.dir().display()),
                dnskey: Some(info.dnskey.clone()),
                has_private: true,
                has_public: true,
                label: info.label,
            });
        }
    }
    for (name, hsm) in open_hsms(config, config_dir)? {
        for object in hsm.list()? {
            let dnskey = if object.has_private && object.has_public {
                hsm.key(&object.label, None)
                    .ok()
                    .map(|k| KeySigner::dnskey(&k).clone())
            } else {
                None
            };
            entries.push(InventoryEntry {
                config_name: by_label(&object.label),
                place: format!("hsm {name}, token {}", hsm.token_label()),
                dnskey,
                has_private: object.has_private,
                has_public: object.has_public,
                label: object.label,
            });
        }
    }
    Ok(entries)
}

/// Tags no new key may have, nor have once revoked: those of every configured and stored key.
fn taken_tags(config: &SignerConfig, entries: &[InventoryEntry]) -> Vec<u16> {
    let mut tags: Vec<u16> = config.keys.values().filter_map(|k| k.key_tag).collect();
    for entry in entries {
        if let Some(key) = &entry.dnskey {
            tags.push(key.key_tag().0);
            tags.push(key.revoked().key_tag().0);
        }
    }
    tags.sort_unstable();
    tags.dedup();
    tags
}

/// Generates a KSK in `place`, refusing a label that exists and any tag clash (revoked tag included).
///
/// # Errors
/// [`SignError::Config`] for a clash or a missing store; the backend's error otherwise.
pub fn generate(
    config: &SignerConfig,
    config_dir: &Path,
    place: &Place,
    label: &str,
    algorithm: ceremony_dnssec::SecurityAlgorithm,
    bits: u32,
    prompt: &dyn Prompt,
) -> Result<ceremony_dnssec::Dnskey, SignError> {
    if *place == Place::Keystore {
        // Generating is what creates the keystore; the inventory then reads it.
        open_keystore(config, config_dir, true)?;
    }
    let entries = inventory(config, config_dir)?;
    if let Some(existing) = entries.iter().find(|e| e.label == label) {
        return Err(SignError::Config {
            file: "inventory".to_owned(),
            message: format!(
                "a key labelled {label:?} already exists in {}",
                existing.place
            ),
        });
    }
    let taken = taken_tags(config, &entries);
    match place {
        Place::Keystore => {
            let store =
                open_keystore(config, config_dir, true)?.ok_or_else(|| SignError::Config {
                    file: "configuration".to_owned(),
                    message: "no keystore section: where should the key go?".to_owned(),
                })?;
            let unlock = keystore_unlock(config, config_dir, prompt)?;
            Ok(store
                .generate_avoiding(label, algorithm, bits, &unlock, &taken)?
                .dnskey)
        }
        Place::Hsm(name) => {
            let hsm_config = config.hsm.get(name).ok_or_else(|| SignError::Config {
                file: "configuration".to_owned(),
                message: format!("no hsm named {name:?}"),
            })?;
            let label_of_token =
                hsm_config
                    .token_label
                    .as_deref()
                    .ok_or_else(|| SignError::Config {
                        file: "configuration".to_owned(),
                        message: format!(
                            "hsm.{name}: token_label is needed to choose where a new key goes"
                        ),
                    })?;
            let hsm = Hsm::open(&pkcs11_config(hsm_config, label_of_token, config_dir))?;
            // An HSM picks the key; on a tag clash, delete it and try again.
            for _ in 0..16 {
                let key = hsm.generate(label, algorithm, bits)?;
                let dnskey = KeySigner::dnskey(&key).clone();
                if !taken.contains(&dnskey.key_tag().0)
                    && !taken.contains(&dnskey.revoked().key_tag().0)
                {
                    return Ok(dnskey);
                }
                drop(key);
                hsm.delete(label)?;
            }
            Err(SignError::Config {
                file: "inventory".to_owned(),
                message: "16 generated keys in a row clashed with existing key tags".to_owned(),
            })
        }
    }
}

/// Deletes the key labelled `label` wherever it is.
///
/// # Errors
/// [`SignError::MissingKey`] when no store has it.
pub fn delete(config: &SignerConfig, config_dir: &Path, label: &str) -> Result<String, SignError> {
    if let Some(store) = open_keystore(config, config_dir, false)? {
        if store.info(label).is_ok() {
            store.delete(label)?;
            return Ok(format!("keystore {}", store.dir().display()));
        }
    }
    for (name, hsm) in open_hsms(config, config_dir)? {
        if hsm.list()?.iter().any(|o| o.label == label) {
            hsm.delete(label)?;
            return Ok(format!("hsm {name}, token {}", hsm.token_label()));
        }
    }
    Err(SignError::MissingKey {
        name: label.to_owned(),
        label: label.to_owned(),
        reason: "in no keystore or token".to_owned(),
    })
}

/// Imports a PEM private key into the keystore (never into an HSM: keys there are born there).
///
/// # Errors
/// [`SignError::Config`] without a keystore; the keystore's error otherwise.
pub fn import_pem(
    config: &SignerConfig,
    config_dir: &Path,
    label: &str,
    pem: &str,
    prompt: &dyn Prompt,
) -> Result<ceremony_dnssec::Dnskey, SignError> {
    let store = open_keystore(config, config_dir, true)?.ok_or_else(|| SignError::Config {
        file: "configuration".to_owned(),
        message: "no keystore section to import into".to_owned(),
    })?;
    // An imported key cannot be regenerated: a tag clash with any other configured
    // or stored key (revoked tags included) is refused, as generation avoids it.
    let entries = inventory(config, config_dir)?;
    let others: Vec<InventoryEntry> = entries.into_iter().filter(|e| e.label != label).collect();
    let mut taken: Vec<u16> = config
        .keys
        .values()
        .filter(|k| k.label != label)
        .filter_map(|k| k.key_tag)
        .collect();
    taken.extend(taken_tags(&SignerConfig::default(), &others));
    let key = ceremony_keys::soft::SoftKey::from_pem(label, pem)?;
    let unlock = keystore_unlock(config, config_dir, prompt)?;
    Ok(store.import(&key, &unlock, &taken)?.dnskey)
}
