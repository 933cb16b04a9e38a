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
//! ```text
//! ceremony.example/KC-2026-Q4
//! 6
//! dufVuI4HtsrzjFM7tGpxazj8g4VuNUxJCyyHf7YVHfQ=
//!
//! — ceremony.example/KC-2026-Q4 Ff1CnhMeuE9I5cE5j0ofNEvL1p3T…
//! — witness.example/w1 3xwKNQAAAABpLpfQ…
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
//!   library (no HTTP).
//! * [`entry`], [`log`]: the typed events and their canonical encoding; the
//!   durable append-only store with crash recovery, and checkpoint signing.
//! * [`verify`], [`proof`]: offline verification of a transcript directory
//!   into a readable [`Timeline`], and tlog-proofs and consistency proofs.
//!
//! # Out of scope
//!
//! HTTP (the server wraps [`Witness::add_checkpoint`]), the command line,
//! key storage (signers are built from 32-byte seeds), and the rules that
//! need files outside the transcript — that each output file still has the
//! hash logged, that the story makes sense. [`Timeline::files_written`] and
//! friends are the hooks for those.
//!
//! # Where to start
//!
//! A ceremony runner: [`Log::create`], [`Log::append_batch`] once per act,
//! [`Log::checkpoint`] after it, [`Log::witness_request`] and
//! [`Log::add_cosignatures`] to have it witnessed. An auditor:
//! [`verify_dir`]. A witness: [`Witness::open`] and
//! [`Witness::add_checkpoint`].
//!
//! [RFC 6962]: https://www.rfc-editor.org/rfc/rfc6962
//! [C2SP tlog-checkpoint]: https://c2sp.org/tlog-checkpoint
//! [C2SP signed-note]: https://c2sp.org/signed-note
//! [C2SP tlog-cosignature]: https://c2sp.org/tlog-cosignature
//! [C2SP tlog-witness]: https://c2sp.org/tlog-witness
//! [C2SP tlog-proof]: https://c2sp.org/tlog-proof
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checkpoint;
pub mod cosignature;
pub mod entry;
mod error;
mod fsutil;
pub mod log;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod verify;
pub mod witness;

pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use cosignature::Cosigner;
pub use entry::{Entry, Event};
pub use error::Error;
pub use log::{Log, NewEntry, Recovery};
pub use note::{Signer, VerifierKey};
pub use proof::{ConsistencyProof, TlogProof};
pub use verify::{verify_dir, Timeline};
pub use witness::{Witness, WitnessError};
