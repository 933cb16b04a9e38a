//! KSKs in a PKCS#11 token (an HSM, or SoftHSM2 for tests), through `cryptoki`.
//!
//! Implements the [`KeySigner`] seam on top of PKCS#11 v2.40 / v3.0
//! (<https://docs.oasis-open.org/pkcs11/pkcs11-base/v3.0/pkcs11-base-v3.0.html>).
//! The private key never leaves the token; the DNSKEY is built from the
//! public key object, and every signature is verified on the host against
//! that DNSKEY before it is handed back (SKR-VERIFY at the seam).
//!
//! | algorithm | mechanism | what the host does |
//! |---|---|---|
//! | RSASHA256 (8) | `CKM_SHA256_RSA_PKCS`, or `CKM_RSA_X_509` ([`RsaMechanism::X509`]) | nothing, or the EMSA-PKCS1-v1_5 encoding |
//! | ECDSAP256SHA256 (13) | `CKM_ECDSA` | SHA-256 of the signed data (SoftHSM has no `CKM_ECDSA_SHA256`) |
//! | ED25519 (15) | `CKM_EDDSA` | nothing |
//!
//! ```text
//! let hsm = Hsm::open(&Pkcs11Config {
//!     module: "/usr/lib/softhsm/libsofthsm2.so".into(),
//!     token_label: "ksk-token".into(),
//!     pin: Pin::Prompt,
//!     env: vec![("SOFTHSM2_CONF".into(), "/etc/softhsm/softhsm2.conf".into())],
//! })?;
//! let key = hsm.key("KSK-2024", None)?;
//! let signature = key.sign(&signed_data)?;
//! ```
//!
//! In scope: opening a token, finding, generating, listing and deleting key
//! pairs, and signing. Out of scope: initialising tokens and setting PINs
//! (the HSM vendor's tools, or `softhsm2-util`), and backup of keys.
//!
//! # One module initialisation per process
//! `C_Initialize` may be called once per process and module. Each module is
//! loaded and initialised on first use and kept for the life of the process;
//! later [`Hsm::open`] calls share it, and an `env` that differs from the one
//! in force at initialisation is refused (SoftHSM reads `SOFTHSM2_CONF` only
//! then). PKCS#11 login state is per process and token: a second [`Hsm`] on a
//! token that is already logged in shares that login, so its PIN is not
//! checked again by the token.

mod pin;
mod public;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use ceremony_dnssec::{Dnskey, SecurityAlgorithm};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::Ulong;
use ring::rand::SecureRandom as _;

pub use pin::Pin;
pub use secrecy::SecretString;

use crate::soft::rsa_dnskey;
use crate::{KeyError, KeyIdentity, KeySigner};

/// Where Debian's `softhsm2` package puts the module.
pub const SOFTHSM2_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// How to reach a token.
#[derive(Clone, Debug)]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (shared library).
    pub module: PathBuf,
    /// The label of the token (`CK_TOKEN_INFO.label`, without its space padding).
    pub token_label: String,
    /// Where the user PIN comes from.
    pub pin: Pin,
    /// Environment variables set before the module is initialised, such as
    /// `SOFTHSM2_CONF`. Applied once per process, at the first [`Hsm::open`].
    pub env: Vec<(String, String)>,
}

/// How an RSA key is asked to sign.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RsaMechanism {
    /// `CKM_SHA256_RSA_PKCS`: the token hashes and pads.
    #[default]
    Sha256RsaPkcs,
    /// `CKM_RSA_X_509`: raw RSA over an EMSA-PKCS1-v1_5 encoding built on the
    /// host, for tokens that only offer the raw operation. The signature is
    /// the same, byte for byte.
    X509,
}

/// A module loaded and initialised in this process, with the environment it saw.
struct Module {
    context: Pkcs11,
    env: Vec<(String, String)>,
}

/// The modules initialised in this process, by canonical path.
fn modules() -> &'static Mutex<HashMap<PathBuf, Module>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Module>>> = OnceLock::new();
    MODULES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Loads and initialises `config.module` once per process.
fn context(config: &Pkcs11Config) -> Result<Pkcs11, KeyError> {
    let module_error = |reason: String| KeyError::Module {
        module: config.module.clone(),
        reason,
    };
    let path = match config.module.canonicalize() {
        Ok(path) => path,
        // A bare file name is left to the dynamic loader's search path.
        Err(_) if config.module.components().count() == 1 => config.module.clone(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(module_error("no such file".to_owned()))
        }
        Err(e) => return Err(module_error(e.to_string())),
    };
    let mut modules = modules()
        .lock()
        .map_err(|_| module_error("an earlier initialisation panicked".to_owned()))?;
    if let Some(module) = modules.get(&path) {
        for (name, value) in &config.env {
            let earlier = module.env.iter().find(|(n, _)| n == name).map(|(_, v)| v);
            if earlier != Some(value) {
                // Values are not shown: a module's environment may hold credentials.
                return Err(module_error(format!(
                    "already initialised in this process with a different {name}; \
                     a different environment needs a new process"
                )));
            }
        }
        return Ok(module.context.clone());
    }
    let context = Pkcs11::new(&path).map_err(|e| module_error(format!("cannot load: {e}")))?;
    // The module reads its configuration (SOFTHSM2_CONF …) in C_Initialize.
    for (name, value) in &config.env {
        std::env::set_var(name, value);
    }
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(module_error(format!("C_Initialize failed: {e}"))),
    }
    modules.insert(
        path,
        Module {
            context: context.clone(),
            env: config.env.clone(),
        },
    );
    Ok(context)
}

/// The logged-in session and what names it in messages.
struct Inner {
    token: String,
    slot: Slot,
    context: Pkcs11,
    session: Mutex<Session>,
}

impl Inner {
    /// The session, for one PKCS#11 operation at a time.
    fn session(&self) -> Result<MutexGuard<'_, Session>, KeyError> {
        self.session.lock().map_err(|_| KeyError::Hsm {
            what: format!("token \"{}\"", self.token),
            operation: "session lock".to_owned(),
            reason: "an earlier operation panicked".to_owned(),
        })
    }

    fn error(&self, what: &str, operation: &str, e: CkError) -> KeyError {
        KeyError::Hsm {
            what: what.to_owned(),
            operation: operation.to_owned(),
            reason: e.to_string(),
        }
    }

    fn token_what(&self) -> String {
        format!("token \"{}\"", self.token)
    }
}

/// An open, logged-in session with one token.
///
/// The [`HsmKey`]s it hands out share its session, which stays open while
/// any of them (or the `Hsm`) lives. All operations on one session take
/// turns.
pub struct Hsm {
    inner: Arc<Inner>,
    module: PathBuf,
}

impl std::fmt::Debug for Hsm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hsm")
            .field("module", &self.module)
            .field("token", &self.inner.token)
            .finish_non_exhaustive()
    }
}

impl Hsm {
    /// The labels of the initialised tokens the module offers, for configurations
    /// that name no token: the key is then looked for in each of them.
    ///
    /// # Errors
    /// [`KeyError::Module`] when the module does not load, [`KeyError::Hsm`] otherwise.
    pub fn token_labels(config: &Pkcs11Config) -> Result<Vec<String>, KeyError> {
        let context = context(config)?;
        let ck = |operation: &str, e: CkError| KeyError::Hsm {
            what: format!("PKCS#11 module {}", config.module.display()),
            operation: operation.to_owned(),
            reason: e.to_string(),
        };
        let mut labels = Vec::new();
        for slot in context
            .get_slots_with_initialized_token()
            .map_err(|e| ck("C_GetSlotList", e))?
        {
            let info = context
                .get_token_info(slot)
                .map_err(|e| ck("C_GetTokenInfo", e))?;
            labels.push(info.label().trim_end().to_owned());
        }
        Ok(labels)
    }

    /// Loads the module (once per process), finds the token by label, opens a
    /// read-write session and logs in as the user with the configured PIN.
    ///
    /// # Errors
    /// [`KeyError::Module`] naming the path when the module is missing or
    /// does not load; [`KeyError::TokenNotFound`] listing the labels present;
    /// [`KeyError::PinUnavailable`], [`KeyError::WrongPin`],
    /// [`KeyError::PinLocked`]; [`KeyError::Hsm`] for other failures.
    pub fn open(config: &Pkcs11Config) -> Result<Hsm, KeyError> {
        let context = context(config)?;
        let token = config.token_label.as_str();
        let module_what = format!("PKCS#11 module {}", config.module.display());
        let ck = |operation: &str, e: CkError| KeyError::Hsm {
            what: module_what.clone(),
            operation: operation.to_owned(),
            reason: e.to_string(),
        };
        // SoftHSM always adds an empty, uninitialised token: leave it out of the list.
        let slots = context
            .get_slots_with_initialized_token()
            .map_err(|e| ck("C_GetSlotList", e))?;
        let mut found = Vec::new();
        let mut matching = Vec::new();
        for slot in slots {
            let info = context
                .get_token_info(slot)
                .map_err(|e| ck("C_GetTokenInfo", e))?;
            let label = info.label().trim_end().to_owned();
            if label == token {
                matching.push((slot, info));
            }
            found.push(label);
        }
        let (slot, info) = match matching.len() {
            1 => matching.remove(0),
            0 => {
                return Err(KeyError::TokenNotFound {
                    token: token.to_owned(),
                    module: config.module.clone(),
                    found,
                })
            }
            n => {
                return Err(KeyError::Hsm {
                    what: format!("token \"{token}\""),
                    operation: "token lookup".to_owned(),
                    reason: format!("{n} tokens carry this label; relabel all but one"),
                })
            }
        };
        if info.user_pin_locked() {
            return Err(KeyError::PinLocked {
                token: token.to_owned(),
            });
        }
        let what = format!("token \"{token}\"");
        let session = context.open_rw_session(slot).map_err(|e| KeyError::Hsm {
            what: what.clone(),
            operation: "C_OpenSession".to_owned(),
            reason: e.to_string(),
        })?;
        let pin = config.pin.read(token)?;
        match session.login(UserType::User, Some(&pin)) {
            // Login state is per process and token; see the module docs.
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(
                RvError::PinIncorrect | RvError::PinLenRange | RvError::PinInvalid,
                _,
            )) => {
                let info = context.get_token_info(slot).ok();
                if info.as_ref().is_some_and(|i| i.user_pin_locked()) {
                    return Err(KeyError::PinLocked {
                        token: token.to_owned(),
                    });
                }
                return Err(KeyError::WrongPin {
                    token: token.to_owned(),
                    final_try: info.is_some_and(|i| i.user_pin_final_try()),
                });
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
                return Err(KeyError::PinLocked {
                    token: token.to_owned(),
                })
            }
            Err(e) => {
                return Err(KeyError::Hsm {
                    what,
                    operation: "C_Login".to_owned(),
                    reason: e.to_string(),
                })
            }
        }
        drop(pin);
        Ok(Hsm {
            inner: Arc::new(Inner {
                token: token.to_owned(),
                slot,
                context,
                session: Mutex::new(session),
            }),
            module: config.module.clone(),
        })
    }

    /// The token's label.
    pub fn token_label(&self) -> &str {
        &self.inner.token
    }

    /// The module the token was reached through.
    pub fn module(&self) -> &Path {
        &self.module
    }

    /// The mechanisms the token offers, as `CKM_…` names, for diagnostics.
    ///
    /// # Errors
    /// [`KeyError::Hsm`] when the token cannot be asked.
    pub fn mechanisms(&self) -> Result<Vec<String>, KeyError> {
        let list = self
            .inner
            .context
            .get_mechanism_list(self.inner.slot)
            .map_err(|e| {
                self.inner
                    .error(&self.inner.token_what(), "C_GetMechanismList", e)
            })?;
        Ok(list.iter().map(ToString::to_string).collect())
    }

    /// The key pair with this `CKA_LABEL` (and `CKA_ID`, if given).
    ///
    /// # Errors
    /// [`KeyError::KeyNotFound`] naming label and token,
    /// [`KeyError::KeyAmbiguous`] when several private keys match,
    /// [`KeyError::Unsupported`] for key types other than RSA, P-256 and
    /// Ed25519, [`KeyError::BadKey`] when the public key does not decode.
    pub fn key(&self, label: &str, id: Option<&[u8]>) -> Result<HsmKey, KeyError> {
        let session = self.inner.session()?;
        let mut template = vec![
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        if let Some(id) = id {
            template.push(Attribute::Id(id.to_vec()));
        }
        let what = format!("key \"{label}\" in token \"{}\"", self.inner.token);
        let found = session
            .find_objects(&template)
            .map_err(|e| self.inner.error(&what, "C_FindObjects", e))?;
        let private = match found.as_slice() {
            [one] => *one,
            [] => {
                return Err(KeyError::KeyNotFound {
                    label: label.to_owned(),
                    id: id.map(public::hex),
                    token: self.inner.token.clone(),
                })
            }
            many => {
                return Err(KeyError::KeyAmbiguous {
                    label: label.to_owned(),
                    token: self.inner.token.clone(),
                    count: many.len(),
                })
            }
        };
        self.load(&session, label, private)
    }

    /// Builds the [`HsmKey`] for a private key object.
    fn load(
        &self,
        session: &Session,
        label: &str,
        private: ObjectHandle,
    ) -> Result<HsmKey, KeyError> {
        let what = format!("key \"{label}\" in token \"{}\"", self.inner.token);
        let attrs = session
            .get_attributes(private, &[AttributeType::KeyType, AttributeType::Id])
            .map_err(|e| self.inner.error(&what, "C_GetAttributeValue", e))?;
        let mut key_type = None;
        let mut id = Vec::new();
        for attr in attrs {
            match attr {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::Id(bytes) => id = bytes,
                _ => {}
            }
        }
        let bad = |reason: String| KeyError::BadKey {
            what: what.clone(),
            reason,
        };
        let key_type = key_type.ok_or_else(|| bad("no CKA_KEY_TYPE".to_owned()))?;
        let public = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::Label(label.as_bytes().to_vec()),
                Attribute::Id(id.clone()),
            ])
            .map_err(|e| self.inner.error(&what, "C_FindObjects", e))?;
        let public = match public.as_slice() {
            [one] => Some(*one),
            [] => None,
            many => {
                return Err(bad(format!(
                    "{} public keys share its label and id",
                    many.len()
                )))
            }
        };
        let read = |object: ObjectHandle, types: &[AttributeType]| {
            session
                .get_attributes(object, types)
                .map_err(|e| self.inner.error(&what, "C_GetAttributeValue", e))
        };
        let (algorithm, public_key, bits, modulus_len) = if key_type == KeyType::RSA {
            // The private object of an RSA pair carries the public parts too.
            let attrs = read(
                public.unwrap_or(private),
                &[AttributeType::Modulus, AttributeType::PublicExponent],
            )?;
            let (mut n, mut e) = (Vec::new(), Vec::new());
            for attr in attrs {
                match attr {
                    Attribute::Modulus(v) => n = v,
                    Attribute::PublicExponent(v) => e = v,
                    _ => {}
                }
            }
            let (n, e) = (public::strip_zeros(&n), public::strip_zeros(&e));
            if n.is_empty() || e.is_empty() {
                return Err(bad("no modulus or public exponent".to_owned()));
            }
            let bits = public::bit_length(n);
            (
                SecurityAlgorithm::RSASHA256,
                rsa_dnskey(e, n),
                bits,
                n.len(),
            )
        } else if key_type == KeyType::EC || key_type == KeyType::EC_EDWARDS {
            let public = public
                .ok_or_else(|| bad("no public key object with the same label and id".to_owned()))?;
            let attrs = read(public, &[AttributeType::EcParams, AttributeType::EcPoint])?;
            let (mut params, mut point) = (Vec::new(), Vec::new());
            for attr in attrs {
                match attr {
                    Attribute::EcParams(v) => params = v,
                    Attribute::EcPoint(v) => point = v,
                    _ => {}
                }
            }
            match (key_type == KeyType::EC, public::curve(&params)) {
                (true, Some(public::Curve::P256)) => {
                    let xy = public::p256_point(&point).ok_or_else(|| {
                        bad("CKA_EC_POINT is not an uncompressed P-256 point".to_owned())
                    })?;
                    (SecurityAlgorithm::ECDSAP256SHA256, xy, 256, 0)
                }
                (false, Some(public::Curve::Ed25519)) => {
                    let key = public::ed25519_point(&point).ok_or_else(|| {
                        bad("CKA_EC_POINT is not a 32-byte Ed25519 key".to_owned())
                    })?;
                    (SecurityAlgorithm::ED25519, key, 256, 0)
                }
                _ => {
                    return Err(KeyError::Unsupported {
                        what,
                        reason: format!(
                            "{key_type} key on curve {} (use P-256 or Ed25519)",
                            public::hex(&params)
                        ),
                    })
                }
            }
        } else {
            return Err(KeyError::Unsupported {
                what,
                reason: format!("{key_type} key (use RSA, EC P-256 or Ed25519)"),
            });
        };
        let dnskey = Dnskey::new(257, 3, algorithm, public_key).map_err(|e| bad(e.to_string()))?;
        Ok(HsmKey {
            identity: KeyIdentity {
                label: label.to_owned(),
                algorithm,
                bits,
            },
            dnskey,
            id,
            private,
            modulus_len,
            rsa_mechanism: RsaMechanism::default(),
            inner: Arc::clone(&self.inner),
        })
    }

    /// Generates a key pair in the token: RSA of `bits` (2048, 3072, 4096)
    /// with e = 65537, ECDSA P-256 or Ed25519 (`bits` 256).
    ///
    /// Both objects are token objects with the label and a fresh random
    /// 16-byte `CKA_ID`; the private key is sensitive, not extractable, and
    /// may sign but not decrypt or unwrap.
    ///
    /// # Errors
    /// [`KeyError::KeyExists`] when any object already has the label,
    /// [`KeyError::Unsupported`] for other algorithms and sizes,
    /// [`KeyError::Hsm`] when the token refuses.
    pub fn generate(
        &self,
        label: &str,
        algorithm: SecurityAlgorithm,
        bits: u32,
    ) -> Result<HsmKey, KeyError> {
        let what = format!("key \"{label}\" in token \"{}\"", self.inner.token);
        let unsupported = |reason: String| KeyError::Unsupported {
            what: what.clone(),
            reason,
        };
        let (mechanism, public_params) = match (algorithm, bits) {
            (SecurityAlgorithm::RSASHA256, 2048 | 3072 | 4096) => (
                Mechanism::RsaPkcsKeyPairGen,
                vec![
                    Attribute::ModulusBits(Ulong::from(u64::from(bits))),
                    Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                ],
            ),
            (SecurityAlgorithm::RSASHA256, _) => {
                return Err(unsupported(format!("RSA-{bits} (use 2048, 3072 or 4096)")))
            }
            (SecurityAlgorithm::ECDSAP256SHA256, 256) => (
                Mechanism::EccKeyPairGen,
                vec![Attribute::EcParams(public::P256_OID.to_vec())],
            ),
            (SecurityAlgorithm::ED25519, 256) => (
                Mechanism::EccEdwardsKeyPairGen,
                vec![Attribute::EcParams(public::ED25519_OID.to_vec())],
            ),
            (SecurityAlgorithm::ECDSAP256SHA256 | SecurityAlgorithm::ED25519, _) => {
                return Err(unsupported(format!(
                    "{bits} bits for algorithm {} (use 256)",
                    algorithm.to_int()
                )))
            }
            (other, _) => {
                return Err(unsupported(format!(
                    "algorithm {} (use 8, 13 or 15)",
                    other.to_int()
                )))
            }
        };
        let session = self.inner.session()?;
        let taken = session
            .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
            .map_err(|e| self.inner.error(&what, "C_FindObjects", e))?;
        if !taken.is_empty() {
            return Err(KeyError::KeyExists {
                label: label.to_owned(),
                token: self.inner.token.clone(),
            });
        }
        let mut id = vec![0u8; 16];
        ring::rand::SystemRandom::new()
            .fill(&mut id)
            .map_err(|_| KeyError::Hsm {
                what: what.clone(),
                operation: "CKA_ID generation".to_owned(),
                reason: "the system random generator failed".to_owned(),
            })?;
        let common = [
            Attribute::Token(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id),
        ];
        let mut public_template = common.to_vec();
        public_template.extend([
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
        ]);
        public_template.extend(public_params);
        let mut private_template = common.to_vec();
        private_template.extend([
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Decrypt(false),
            Attribute::Unwrap(false),
        ]);
        let operation = format!("C_GenerateKeyPair ({})", mechanism.mechanism_type());
        let (_, private) = session
            .generate_key_pair(&mechanism, &public_template, &private_template)
            .map_err(|e| self.inner.error(&what, &operation, e))?;
        self.load(&session, label, private)
    }

    /// The key objects in the token, one entry per (label, id) pair.
    ///
    /// # Errors
    /// [`KeyError::Hsm`] when the token cannot be searched.
    pub fn list(&self) -> Result<Vec<KeyObjectInfo>, KeyError> {
        let what = self.inner.token_what();
        let mut pairs: BTreeMap<(String, Vec<u8>), KeyObjectInfo> = BTreeMap::new();
        let mut privates = Vec::new();
        {
            let session = self.inner.session()?;
            for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
                let objects = session
                    .find_objects(&[Attribute::Class(class)])
                    .map_err(|e| self.inner.error(&what, "C_FindObjects", e))?;
                for object in objects {
                    let attrs = session
                        .get_attributes(
                            object,
                            &[
                                AttributeType::Label,
                                AttributeType::Id,
                                AttributeType::KeyType,
                            ],
                        )
                        .map_err(|e| self.inner.error(&what, "C_GetAttributeValue", e))?;
                    let (mut label, mut id, mut key_type) = (String::new(), Vec::new(), None);
                    for attr in attrs {
                        match attr {
                            Attribute::Label(v) => label = String::from_utf8_lossy(&v).into_owned(),
                            Attribute::Id(v) => id = v,
                            Attribute::KeyType(t) => key_type = Some(t),
                            _ => {}
                        }
                    }
                    let entry =
                        pairs
                            .entry((label.clone(), id.clone()))
                            .or_insert_with(|| KeyObjectInfo {
                                label: label.clone(),
                                id: public::hex(&id),
                                key_type: key_type
                                    .map_or_else(|| "unknown".to_owned(), key_type_name),
                                has_private: false,
                                has_public: false,
                                algorithm: None,
                                bits: None,
                                key_tag: None,
                            });
                    if class == ObjectClass::PRIVATE_KEY {
                        entry.has_private = true;
                        privates.push((label, id, object));
                    } else {
                        entry.has_public = true;
                    }
                }
            }
            for (label, id, object) in privates {
                // Keys we cannot use are still listed, without a DNSKEY.
                if let Ok(key) = self.load(&session, &label, object) {
                    if let Some(entry) = pairs.get_mut(&(label, id)) {
                        entry.algorithm = Some(key.identity.algorithm);
                        entry.bits = Some(key.identity.bits);
                        entry.key_tag = Some(key.dnskey.key_tag().0);
                    }
                }
            }
        }
        Ok(pairs.into_values().collect())
    }

    /// Destroys the private and public key objects labelled `label`, and
    /// returns how many objects went.
    ///
    /// # Errors
    /// [`KeyError::KeyNotFound`] when no key object has the label,
    /// [`KeyError::KeyAmbiguous`] when the label names several key pairs
    /// (different `CKA_ID`s): nothing is destroyed then.
    pub fn delete(&self, label: &str) -> Result<usize, KeyError> {
        let what = format!("key \"{label}\" in token \"{}\"", self.inner.token);
        let session = self.inner.session()?;
        let mut objects = Vec::new();
        let mut ids = Vec::new();
        for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
            for object in session
                .find_objects(&[
                    Attribute::Class(class),
                    Attribute::Label(label.as_bytes().to_vec()),
                ])
                .map_err(|e| self.inner.error(&what, "C_FindObjects", e))?
            {
                let id = session
                    .get_attributes(object, &[AttributeType::Id])
                    .map_err(|e| self.inner.error(&what, "C_GetAttributeValue", e))?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
                objects.push(object);
            }
        }
        match ids.len() {
            0 => {
                return Err(KeyError::KeyNotFound {
                    label: label.to_owned(),
                    id: None,
                    token: self.inner.token.clone(),
                })
            }
            1 => {}
            count => {
                return Err(KeyError::KeyAmbiguous {
                    label: label.to_owned(),
                    token: self.inner.token.clone(),
                    count,
                })
            }
        }
        for object in &objects {
            session
                .destroy_object(*object)
                .map_err(|e| self.inner.error(&what, "C_DestroyObject", e))?;
        }
        Ok(objects.len())
    }
}

fn key_type_name(key_type: KeyType) -> String {
    if key_type == KeyType::RSA {
        "RSA".to_owned()
    } else if key_type == KeyType::EC {
        "EC".to_owned()
    } else if key_type == KeyType::EC_EDWARDS {
        "EC_EDWARDS".to_owned()
    } else {
        key_type.to_string()
    }
}

/// One key pair (or a lone half of one) in a token, as [`Hsm::list`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyObjectInfo {
    /// `CKA_LABEL`.
    pub label: String,
    /// `CKA_ID` in lower-case hex (empty when the objects have none).
    pub id: String,
    /// `CKA_KEY_TYPE`: `RSA`, `EC`, `EC_EDWARDS`, or the module's name for others.
    pub key_type: String,
    /// A private key object (`CKO_PRIVATE_KEY`) has this label and id.
    pub has_private: bool,
    /// A public key object (`CKO_PUBLIC_KEY`) has this label and id.
    pub has_public: bool,
    /// The DNSSEC algorithm, when the pair is one this backend can sign with.
    pub algorithm: Option<SecurityAlgorithm>,
    /// The key size in bits, likewise.
    pub bits: Option<u32>,
    /// The key tag of its KSK DNSKEY (flags 257), likewise.
    pub key_tag: Option<u16>,
}

/// The protection attributes of a private key in a token.
///
/// An attribute the token would not reveal reads as the unsafe value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyProtection {
    /// `CKA_SENSITIVE`: the private value cannot be read in the clear.
    pub sensitive: bool,
    /// `CKA_EXTRACTABLE`: the key can be wrapped out of the token.
    pub extractable: bool,
    /// `CKA_ALWAYS_SENSITIVE`: it has been sensitive since it was made.
    pub always_sensitive: bool,
    /// `CKA_NEVER_EXTRACTABLE`: it has never been extractable.
    pub never_extractable: bool,
    /// `CKA_LOCAL`: the token generated it (it was not imported).
    pub local: bool,
}

/// A KSK whose private half stays in the token.
pub struct HsmKey {
    identity: KeyIdentity,
    dnskey: Dnskey,
    id: Vec<u8>,
    private: ObjectHandle,
    /// RSA modulus length in bytes; 0 for other algorithms.
    modulus_len: usize,
    rsa_mechanism: RsaMechanism,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for HsmKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HsmKey")
            .field("identity", &self.identity)
            .field("id", &public::hex(&self.id))
            .field("token", &self.inner.token)
            .field("rsa_mechanism", &self.rsa_mechanism)
            .finish_non_exhaustive()
    }
}

impl HsmKey {
    /// The same key, signing RSA with `mechanism` (no effect on other algorithms).
    #[must_use]
    pub fn with_rsa_mechanism(mut self, mechanism: RsaMechanism) -> HsmKey {
        self.rsa_mechanism = mechanism;
        self
    }

    /// The mechanism RSA signatures use.
    pub fn rsa_mechanism(&self) -> RsaMechanism {
        self.rsa_mechanism
    }

    /// The key pair's `CKA_ID`.
    pub fn id(&self) -> &[u8] {
        &self.id
    }

    /// The label of the token that holds the key.
    pub fn token_label(&self) -> &str {
        &self.inner.token
    }

    /// What the token says about the private key's protection, for the
    /// ceremony record (PKCS#11 v3.0 §4.9): a key generated in the token
    /// and never extractable shows `local`, `sensitive`, `always_sensitive`
    /// and `never_extractable`, and not `extractable`.
    ///
    /// # Errors
    /// [`KeyError::Hsm`] when the attributes cannot be read.
    pub fn protection(&self) -> Result<KeyProtection, KeyError> {
        let what = format!(
            "key \"{}\" in token \"{}\"",
            self.identity.label, self.inner.token
        );
        let attrs = self
            .inner
            .session()?
            .get_attributes(
                self.private,
                &[
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::AlwaysSensitive,
                    AttributeType::NeverExtractable,
                    AttributeType::Local,
                ],
            )
            .map_err(|e| self.inner.error(&what, "C_GetAttributeValue", e))?;
        // Unreadable attributes count as the unsafe answer.
        let mut protection = KeyProtection {
            sensitive: false,
            extractable: true,
            always_sensitive: false,
            never_extractable: false,
            local: false,
        };
        for attr in attrs {
            match attr {
                Attribute::Sensitive(v) => protection.sensitive = v,
                Attribute::Extractable(v) => protection.extractable = v,
                Attribute::AlwaysSensitive(v) => protection.always_sensitive = v,
                Attribute::NeverExtractable(v) => protection.never_extractable = v,
                Attribute::Local(v) => protection.local = v,
                _ => {}
            }
        }
        Ok(protection)
    }

    fn sign_in_token(&self, signed_data: &[u8]) -> Result<Vec<u8>, KeyError> {
        let what = format!(
            "key \"{}\" in token \"{}\"",
            self.identity.label, self.inner.token
        );
        let sha256 = || ring::digest::digest(&ring::digest::SHA256, signed_data);
        let (mechanism, input) = match self.identity.algorithm {
            SecurityAlgorithm::RSASHA256 => match self.rsa_mechanism {
                RsaMechanism::Sha256RsaPkcs => (Mechanism::Sha256RsaPkcs, signed_data.to_vec()),
                RsaMechanism::X509 => {
                    let em = public::emsa_pkcs1_sha256(sha256().as_ref(), self.modulus_len)
                        .ok_or_else(|| KeyError::Unsupported {
                            what: what.clone(),
                            reason: "modulus too short for EMSA-PKCS1-v1_5 with SHA-256".to_owned(),
                        })?;
                    (Mechanism::RsaX509, em)
                }
            },
            // RFC 6605 §4: ECDSA over SHA-256 of the data; the token gets the hash.
            SecurityAlgorithm::ECDSAP256SHA256 => (Mechanism::Ecdsa, sha256().as_ref().to_vec()),
            SecurityAlgorithm::ED25519 => (
                Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                signed_data.to_vec(),
            ),
            other => {
                return Err(KeyError::Unsupported {
                    what,
                    reason: format!("algorithm {}", other.to_int()),
                })
            }
        };
        let mechanism_type = mechanism.mechanism_type();
        let session = self.inner.session()?;
        match session.sign(&mechanism, self.private, &input) {
            Ok(signature) => Ok(signature),
            Err(CkError::Pkcs11(RvError::MechanismInvalid, _)) => Err(KeyError::Unsupported {
                what,
                reason: format!(
                    "the token does not offer {mechanism_type}{}",
                    if mechanism_type == MechanismType::SHA256_RSA_PKCS {
                        "; RsaMechanism::X509 uses CKM_RSA_X_509 instead"
                    } else {
                        ""
                    }
                ),
            }),
            Err(e) => Err(KeyError::SignFailed {
                what,
                reason: format!("C_Sign ({mechanism_type}): {e}"),
            }),
        }
    }
}

impl KeySigner for HsmKey {
    fn identity(&self) -> &KeyIdentity {
        &self.identity
    }

    fn dnskey(&self) -> &Dnskey {
        &self.dnskey
    }

    /// Signs in the token, then verifies the signature on the host against
    /// the DNSKEY (SKR-VERIFY): a token that returns a wrong signature, or a
    /// key object whose public half does not match, is caught here.
    fn sign(&self, signed_data: &[u8]) -> Result<Vec<u8>, KeyError> {
        let signature = self.sign_in_token(signed_data)?;
        ceremony_dnssec::verify(&self.dnskey, signed_data, &signature).map_err(|e| {
            KeyError::SignatureMismatch {
                what: format!(
                    "key \"{}\" in token \"{}\"",
                    self.identity.label, self.inner.token
                ),
                key_tag: self.dnskey.key_tag().0,
                reason: e.to_string(),
            }
        })?;
        Ok(signature)
    }
}
