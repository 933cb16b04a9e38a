//! How long unlocking a keystore key takes at age's calibrated scrypt work factor.
//!
//! Run with `cargo bench -p ceremony-keys`. This is the price of a passphrase
//! at rest: age calibrates scrypt to about a second on the machine, and the
//! memory cost makes it slower on a busy one.

use ceremony_dnssec::SecurityAlgorithm;
use ceremony_keys::keystore::{Keystore, Unlock};

fn main() {
    divan::main();
}

/// Load (decrypt and check) an Ed25519 key stored with age's default work factor.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn load_at_default_work_factor(bencher: divan::Bencher) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Keystore::open(dir.path().join("keys")).expect("keystore");
    let unlock = Unlock::passphrase("bench passphrase");
    store
        .generate("K", SecurityAlgorithm::ED25519, 256, &unlock)
        .expect("generates");
    bencher.bench(|| store.load("K", &unlock).expect("loads"));
}
