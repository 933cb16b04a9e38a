//! A small sample ceremony shared by the tests: 6 entries in 3 acts, a
//! checkpoint after each act, each cosigned by one witness.
#![allow(dead_code)] // Each test binary uses a different part.

use std::path::Path;

use ceremony_transcript::entry::{
    CeremonyClosed, CeremonyOpened, CheckOutcome, CheckReport, CheckStatus, DeclaredKey, Digest,
    FileRead, FileWritten, ParticipantPresent,
};
use ceremony_transcript::{Cosigner, Event, Log, NewEntry, Signer, VerifierKey, Witness};
use jiff::Timestamp;

pub const ORIGIN: &str = "ceremony.example/KC-2026-Q4";
pub const LOG_SEED: [u8; 32] = [0x01; 32];
pub const WITNESS_SEED: [u8; 32] = [0x02; 32];
pub const WITNESS: &str = "witness.example/w1";
/// 2026-10-01T14:00:00Z
pub const START: i64 = 1_790_863_200;

pub fn signer() -> Signer {
    Signer::from_seed(ORIGIN, &LOG_SEED).expect("log key")
}

pub fn cosigner() -> Cosigner {
    Cosigner::from_seed(WITNESS, &WITNESS_SEED).expect("witness key")
}

pub fn log_key() -> VerifierKey {
    signer().verifier_key()
}

pub fn witness_key() -> VerifierKey {
    cosigner().verifier_key()
}

pub fn at(minutes: i64) -> Timestamp {
    Timestamp::from_second(START + minutes * 60).expect("time")
}

pub fn opened() -> Event {
    Event::CeremonyOpened(CeremonyOpened {
        origin: ORIGIN.to_owned(),
        script: "KC-2026-Q4 v1".to_owned(),
        log_key: log_key(),
        keys: vec![
            DeclaredKey {
                role: "ksk".to_owned(),
                name: "KSK-2017".to_owned(),
                key: "20326".to_owned(),
            },
            DeclaredKey {
                role: "witness".to_owned(),
                name: WITNESS.to_owned(),
                key: witness_key().to_string(),
            },
        ],
        approvals: 0,
    })
}

/// The three acts of the sample ceremony.
pub fn acts() -> Vec<Vec<NewEntry>> {
    vec![
        vec![
            NewEntry::new(at(0), "ca", opened()),
            NewEntry::new(
                at(1),
                "iw",
                Event::ParticipantPresent(ParticipantPresent {
                    name: "Alice".to_owned(),
                    role: "tcr".to_owned(),
                    identity_key: "age1alice".to_owned(),
                }),
            ),
        ],
        vec![
            NewEntry::new(
                at(10),
                "ca",
                Event::FileRead(FileRead {
                    name: "ksr.xml".to_owned(),
                    size: 13,
                    sha256: Digest::of(b"hello, world\n"),
                    pgp_words: "music customer waffle consensus".to_owned(),
                }),
            ),
            NewEntry::new(
                at(11),
                "ca",
                Event::CheckReport(CheckReport {
                    checks: vec![
                        CheckOutcome {
                            id: "KSR-BUNDLE-POP".to_owned(),
                            status: CheckStatus::Passed,
                        },
                        CheckOutcome {
                            id: "KSR-POLICY-SAFETY".to_owned(),
                            status: CheckStatus::Skipped,
                        },
                    ],
                }),
            ),
        ],
        vec![
            NewEntry::new(
                at(20),
                "ca",
                Event::FileWritten(FileWritten {
                    name: "skr.xml".to_owned(),
                    sha256: Digest::of(b"skr"),
                }),
            ),
            NewEntry::new(at(21), "ca", Event::CeremonyClosed(CeremonyClosed {})),
        ],
    ]
}

/// Has the log's latest checkpoint cosigned by `witness`, as the runner
/// would over HTTP.
pub fn witness_latest(log: &mut Log, witness: &mut Witness, now: u64) {
    let old = witness.state(ORIGIN).map_or(0, |s| s.size);
    let request = log.witness_request(old).expect("request");
    let lines = witness
        .add_checkpoint(request.to_string().as_bytes(), now)
        .expect("cosigned");
    let size = log
        .latest_checkpoint()
        .expect("checkpoint")
        .checkpoint()
        .size();
    let added = log
        .add_cosignatures(size, &lines, &[witness_key()])
        .expect("cosignatures added");
    assert_eq!(added, 1);
}

/// Writes the sample ceremony into `dir/transcript` (witness state in
/// `dir/witness`) and returns the transcript directory.
pub fn sample(dir: &Path) -> std::path::PathBuf {
    let tdir = dir.join("transcript");
    let mut log = Log::create(&tdir, signer()).expect("create");
    let mut witness =
        Witness::open(&dir.join("witness"), cosigner(), &[log_key()]).expect("witness");
    for (i, act) in acts().into_iter().enumerate() {
        log.append_batch(act).expect("append");
        log.checkpoint().expect("checkpoint");
        witness_latest(
            &mut log,
            &mut witness,
            (START + 600 * (i as i64 + 1)) as u64,
        );
    }
    tdir
}
