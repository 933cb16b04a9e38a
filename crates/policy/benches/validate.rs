//! What a KSK operator waits for: parse a real 9-bundle KSR, run every check, verify every proof of possession.
//!
//! Run with `cargo bench -p ceremony-policy`; divan prints the median.

use std::path::PathBuf;

use ceremony_formats::{icann, read_text_file, Ksr, Skr};
use ceremony_policy::{validate_ksr, KsrContext, RequestPolicy};

fn main() {
    divan::main();
}

fn read(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(rel);
    read_text_file(&path).expect("shared data")
}

fn context<'a>(policy: &'a RequestPolicy, previous: Option<&'a Skr>) -> KsrContext<'a> {
    KsrContext {
        policy,
        previous,
        now: "2017-03-15T00:00:00Z".parse().expect("instant"),
        ksk_tags: &[],
    }
}

/// Parse + all KSR checks (11 POP signatures) of the 2017 Q2 root KSR.
#[divan::bench]
fn parse_and_validate_ksr_2017_q2(bencher: divan::Bencher) {
    let text = read("icann/root/ksr-root-2017-q2-0.xml");
    let policy = RequestPolicy::default();
    bencher.bench(|| {
        let ksr: Ksr = icann::parse_ksr(divan::black_box(&text), "ksr").expect("parses");
        let report = validate_ksr(&ksr, &context(&policy, None));
        assert!(report.is_ok());
    });
}

/// The same with the chain checks: the previous SKR is parsed and its 9 KSK signatures verified too.
#[divan::bench]
fn parse_and_validate_with_previous_skr(bencher: divan::Bencher) {
    let text = read("icann/root/ksr-root-2017-q2-0.xml");
    let previous_text = read("icann/root/skr-root-2017-q1-0.xml");
    let policy = RequestPolicy::default();
    bencher.bench(|| {
        let ksr = icann::parse_ksr(divan::black_box(&text), "ksr").expect("parses");
        let previous = icann::parse_skr(divan::black_box(&previous_text), "skr").expect("parses");
        let report = validate_ksr(&ksr, &context(&policy, Some(&previous)));
        assert!(report.is_ok());
    });
}

/// Parsing alone, to see where the time goes.
#[divan::bench]
fn parse_only(bencher: divan::Bencher) {
    let text = read("icann/root/ksr-root-2017-q2-0.xml");
    bencher.bench(|| icann::parse_ksr(divan::black_box(&text), "ksr").expect("parses"));
}
