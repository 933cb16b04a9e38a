//! Fuzzes the ICANN KSR/SKR reader with arbitrary bytes.
//!
//! Properties checked for every input:
//! * reading never panics, whatever the bytes (errors are fine);
//! * whatever the reader accepts, the writer writes back in a form the reader
//!   accepts again, with an equal model (round trip);
//! * writing that model once more gives the same bytes (the writer is stable).
#![no_main]

use ceremony_formats::{icann, text_from_bytes, Document};
use libfuzzer_sys::fuzz_target;

fn write(doc: &Document) -> String {
    match doc {
        Document::Ksr(ksr) => icann::write_ksr(ksr),
        Document::Skr(skr) => icann::write_skr(skr),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = match text_from_bytes(data.to_vec(), "fuzz.xml") {
        Ok(text) => text,
        Err(err) => {
            // Error messages are user-facing: formatting them must not panic either.
            let _ = err.to_string();
            return;
        }
    };
    let doc = match icann::parse(&text, "fuzz.xml") {
        Ok(doc) => doc,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    let written = write(&doc);
    let reparsed = match icann::parse(&written, "written.xml") {
        Ok(reparsed) => reparsed,
        Err(err) => panic!(
            "round trip: the writer produced a document the reader refuses: {err}\n--- input ---\n{text}\n--- written ---\n{written}"
        ),
    };
    assert_eq!(
        doc, reparsed,
        "round trip: the model changed through write and read\n--- written ---\n{written}"
    );
    let rewritten = write(&reparsed);
    assert_eq!(written, rewritten, "the writer is not stable");
});
