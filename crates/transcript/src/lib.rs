//! The public record of a key ceremony: a tamper-evident, witnessable log.
//!
//! Every act of a ceremony — who was present, which files were read and
//! their hashes, which checks ran, who approved what, which signatures and
//! files came out — is appended to a Merkle log with [RFC 6962] hashing. The
//! log signs a checkpoint after each act ([C2SP tlog-checkpoint], a
//! [C2SP signed-note]); remote witnesses cosign it ([C2SP tlog-cosignature],
//! requested with [C2SP tlog-witness]), so that nobody can show two
//! witnesses two different histories. Anyone can then check the whole
//! record offline, or a single entry with a [C2SP tlog-proof].
//!
//! The checkpoint of a six-entry test ceremony, cosigned by one witness (the
//! log and witness keys are the test seeds 32×`0x01` and 32×`0x02`):
//!
//! ```text
//! ceremony.example/KC-2026-Q4
//! 6
//! Re2CcjaY21opVwwzFVGnksWqyBXGnSvYggklsx6Uh3w=
//!
//! — ceremony.example/KC-2026-Q4 nMCvgfF48KGqPHvit6ZUSbcvlTTsg2EvaKbdUNyCJjLAJh/oqnAxAE8m4Hcuxqbn4NsyGXNVkNuXPFAbqedUScTNFA0=
//! — witness.example/w1 3xwKNQAAAABqvm5oor1k9s9Q+btloJgdFuZS1e6h7jf1M0SC3qvZgekFz2BHg7YgMHDBvOFlbFdxCfvPS5y84Le5Fzyk2qzWufeJBw==
//! ```
//!
//! # In scope
//!
//! * [`merkle`]: leaf and node hashing, roots, inclusion and consistency
//!   proofs (RFC 6962 `PATH`/`SUBPROOF`, RFC 9162 §2.1.3.2/§2.1.4.2
//!   verification).
//! * [`note`], [`checkpoint`], [`cosignature`]: signed notes, verifier keys,
//!   checkpoints, Ed25519 log signatures and `cosignature/v1`.
//! * [`witness`]: a witness's state and its `add-checkpoint` answers, as a
//!   library (no HTTP); [`attach`]: an offline witness's cosignature,
//!   returned after the fact, stored with its checkpoint.
//! * [`entry`], [`log`]: the typed events and their canonical encoding; the
//!   durable append-only store with crash recovery, and checkpoint signing.
//! * [`verify`], [`proof`]: offline verification of a transcript directory
//!   into a readable [`Timeline`], and tlog-proofs and consistency proofs.
//! * [`outputs`]: each output file beside the transcript against the
//!   SHA-256 its `file_written` entry logged.
//!
//! # Out of scope
//!
//! HTTP (the server wraps [`Witness::add_checkpoint`]), the command line,
//! key storage (signers are built from 32-byte seeds), and the story rules
//! that know what a DNSSEC ceremony is (which keys may sign, which checks
//! must pass): [`Timeline::entries`] is the hook for those, and
//! `ceremony transcript verify` (the CLI) checks them.
//!
//! # Where to start
//!
//! A ceremony runner: [`Log::create`], [`Log::append_batch`] once per act,
//! [`Log::checkpoint`] after it, [`Log::witness_request`] and
//! [`Log::add_cosignatures`] to have it witnessed. An auditor:
//! [`verify_dir`]. A witness: [`Witness::open`] and
//! [`Witness::add_checkpoint`].
//!
//! ```
//! use ceremony_transcript::entry::{CeremonyClosed, CeremonyOpened};
//! use ceremony_transcript::{verify_dir, Event, Log, NewEntry, Signer};
//!
//! let ceremony = tempfile::tempdir()?;
//! let dir = ceremony.path().join(ceremony_transcript::log::TRANSCRIPT_DIR);
//! let signer = Signer::from_seed("ceremony.example/KC-2026-Q4", &[1; 32])?;
//! let log_key = signer.verifier_key();
//! let now = jiff::Timestamp::from_second(1_790_863_200)?;
//!
//! let mut log = Log::create(&dir, signer)?;
//! log.append_batch(vec![
//!     NewEntry::new(now, "ca", Event::CeremonyOpened(CeremonyOpened {
//!         origin: "ceremony.example/KC-2026-Q4".to_owned(),
//!         script: "KC-2026-Q4".to_owned(),
//!         log_key: log_key.clone(),
//!         keys: vec![],
//!         approvals: 0,
//!     })),
//!     NewEntry::new(now, "ca", Event::CeremonyClosed(CeremonyClosed {})),
//! ])?;
//! log.checkpoint()?;
//!
//! let timeline = verify_dir(&dir, &log_key, &[])?;
//! assert_eq!(timeline.size(), 2);
//! let proof = timeline.prove_inclusion(1)?; // C2SP tlog-proof text via Display
//! proof.verify(proof.extra().unwrap_or_default(), &log_key, &[])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [RFC 6962]: https://www.rfc-editor.org/rfc/rfc6962
//! [C2SP tlog-checkpoint]: https://c2sp.org/tlog-checkpoint
//! [C2SP signed-note]: https://c2sp.org/signed-note
//! [C2SP tlog-cosignature]: https://c2sp.org/tlog-cosignature
//! [C2SP tlog-witness]: https://c2sp.org/tlog-witness
//! [C2SP tlog-proof]: https://c2sp.org/tlog-proof
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod attach;
pub mod checkpoint;
pub mod cosignature;
pub mod entry;
mod error;
mod fsutil;
pub mod log;
pub mod merkle;
pub mod note;
pub mod outputs;
pub mod proof;
pub mod verify;
pub mod witness;

pub use attach::{attach_cosignature, Attached};
pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use cosignature::Cosigner;
pub use entry::{Entry, Event};
pub use error::Error;
pub use log::{Log, NewEntry, Recovery};
pub use note::{Signer, VerifierKey};
pub use outputs::{check_outputs, OutputCheck, OutputStatus};
pub use proof::{ConsistencyProof, TlogProof};
pub use verify::{read_opening, verify_committed, verify_dir, Timeline};
pub use witness::{Witness, WitnessError};
