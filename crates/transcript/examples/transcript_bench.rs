//! Builds and verifies large transcripts, for `bench/transcript.sh`.
//!
//! ```text
//! transcript_bench build DIR ENTRIES [CHECKPOINT_EVERY]   acts of 10 entries, one fsync pair each
//! transcript_bench verify DIR                            verify_dir, timed
//! ```
//!
//! The log and witness keys are fixed test seeds; every checkpoint is
//! cosigned by the witness, as in a real ceremony.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use ceremony_transcript::entry::{
    Approval, BundleHash, CeremonyOpened, CheckOutcome, CheckReport, CheckStatus, DeclaredKey,
    Digest, FileRead, FileWritten, PartialSignatureReceived, SignatureProduced,
};
use ceremony_transcript::{verify_dir, Cosigner, Event, Log, NewEntry, Signer, Witness};
use jiff::Timestamp;

const ORIGIN: &str = "ceremony.example/KC-BENCH";
const ACT: usize = 10;

fn keys() -> (Signer, Cosigner) {
    (
        Signer::from_seed(ORIGIN, &[0x01; 32]).expect("log key"),
        Cosigner::from_seed("witness.example/w1", &[0x02; 32]).expect("witness key"),
    )
}

/// A rotating mix of the events a ceremony records, 150–700 bytes each.
fn event(i: u64) -> Event {
    let digest = Digest::of(&i.to_be_bytes());
    match i % 6 {
        0 => Event::FileRead(FileRead {
            name: format!("ksr-root-2026-q4-{i}.xml"),
            size: 60_000 + i,
            sha256: digest,
            pgp_words: "music customer waffle consensus sugar examine tracker whimsical quadrant hideaway drifter impetus".to_owned(),
        }),
        1 => Event::CheckReport(CheckReport {
            checks: [
                "KSR-DOMAIN", "KSR-ID", "KSR-BUNDLE-UNIQUE", "KSR-BUNDLE-KEYS", "KSR-BUNDLE-POP",
                "KSR-BUNDLE-COUNT", "KSR-POLICY-KEYS", "KSR-POLICY-ALG", "KSR-POLICY-SIG-OVERLAP",
                "KSR-POLICY-SIG-VALIDITY", "KSR-CHAIN-KEYS", "KSR-CHAIN-OVERLAP",
            ]
            .iter()
            .map(|id| CheckOutcome {
                id: (*id).to_owned(),
                status: CheckStatus::Passed,
            })
            .collect(),
        }),
        2 => Event::Approval(Approval {
            tcr: format!("tcr-{}", i % 7),
            bundles: (0..3)
                .map(|b| BundleHash {
                    bundle: format!("bundle-{b}"),
                    signed_data: Digest::of(&[b as u8; 4]),
                })
                .collect(),
            signature: vec![0x5a; 64],
        }),
        3 => Event::PartialSignatureReceived(PartialSignatureReceived {
            holder: format!("tcr-{}", i % 7),
            bundle: format!("bundle-{}", i % 9),
            share: digest,
        }),
        4 => Event::SignatureProduced(SignatureProduced {
            bundle: format!("bundle-{}", i % 9),
            key_tag: 20326,
        }),
        _ => Event::FileWritten(FileWritten {
            name: format!("skr-root-2026-q4-{i}.xml"),
            sha256: digest,
        }),
    }
}

fn build(dir: &Path, entries: u64, every: u64) -> Result<(), String> {
    let (signer, cosigner) = keys();
    let log_key = signer.verifier_key();
    let witness_key = cosigner.verifier_key();
    let tdir = dir.join("transcript");
    let mut log = Log::create(&tdir, signer).map_err(|e| e.to_string())?;
    let mut witness = Witness::open(
        &dir.join("witness"),
        cosigner,
        std::slice::from_ref(&log_key),
    )
    .map_err(|e| e.to_string())?;
    let t0 = Timestamp::from_second(1_790_863_200).map_err(|e| e.to_string())?;
    let opened = Event::CeremonyOpened(CeremonyOpened {
        origin: ORIGIN.to_owned(),
        script: "bench".to_owned(),
        log_key: log_key.clone(),
        keys: vec![DeclaredKey {
            role: "witness".to_owned(),
            name: "witness.example/w1".to_owned(),
            key: witness_key.to_string(),
        }],
        approvals: 0,
    });
    let start = Instant::now();
    let mut next = 0u64;
    let mut acts = 0u64;
    while next < entries {
        let n = (entries - next).min(ACT as u64);
        let batch: Vec<NewEntry> = (next..next + n)
            .map(|i| {
                let event = if i == 0 { opened.clone() } else { event(i) };
                NewEntry::new(t0, "ca", event)
            })
            .collect();
        log.append_batch(batch).map_err(|e| e.to_string())?;
        next += n;
        acts += 1;
        if next % every == 0 || next == entries {
            log.checkpoint().map_err(|e| e.to_string())?;
            let old = witness.state(ORIGIN).map_or(0, |s| s.size);
            let request = log.witness_request(old).map_err(|e| e.to_string())?;
            let lines = witness
                .add_checkpoint(request.to_string().as_bytes(), 1_790_863_200 + next)
                .map_err(|e| e.to_string())?;
            log.add_cosignatures(next, &lines, std::slice::from_ref(&witness_key))
                .map_err(|e| e.to_string())?;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "built {entries} entries in {acts} acts of {ACT} in {secs:.2} s: {:.0} entries/s, {:.0} acts/s (one fsync pair per act, checkpoint + witness every {every})",
        entries as f64 / secs,
        acts as f64 / secs
    );
    Ok(())
}

fn verify(dir: &Path) -> Result<(), String> {
    let (signer, cosigner) = keys();
    let start = Instant::now();
    let timeline = verify_dir(
        &dir.join("transcript"),
        &signer.verifier_key(),
        &[cosigner.verifier_key()],
    )
    .map_err(|e| e.to_string())?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "verified {} entries and {} checkpoints in {:.3} s ({:.0} entries/s)",
        timeline.size(),
        timeline.checkpoints().len(),
        secs,
        timeline.size() as f64 / secs
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["build", dir, n] => n
            .parse()
            .map_err(|e| format!("{e}"))
            .and_then(|n| build(Path::new(dir), n, 1000)),
        ["build", dir, n, every] => match (n.parse(), every.parse::<u64>()) {
            (Ok(n), Ok(every)) if every > 0 && every % ACT as u64 == 0 => {
                build(Path::new(dir), n, every)
            }
            _ => Err(
                "ENTRIES and CHECKPOINT_EVERY are numbers; CHECKPOINT_EVERY a multiple of 10"
                    .to_owned(),
            ),
        },
        ["verify", dir] => verify(Path::new(dir)),
        _ => Err(
            "usage: transcript_bench build DIR ENTRIES [CHECKPOINT_EVERY] | verify DIR".to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("transcript_bench: {e}");
            ExitCode::FAILURE
        }
    }
}
