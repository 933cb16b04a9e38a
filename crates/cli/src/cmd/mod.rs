//! One module per command; each turns parsed flags into library calls.

mod anchor;
mod convert;
mod demo;
mod hash;
mod key;
mod ksr;
mod ksr_generate;
pub(crate) mod quorum;
mod selftest;
mod sign;
mod skr;
pub(crate) mod threshold;
mod transcript;

use std::path::Path;

use ceremony_formats::Document;
use ceremony_policy::PolicyConfig;
use jiff::Timestamp;

use crate::args::{Cli, Command, Format, Global};
use crate::render::FileFacts;
use crate::{Env, Failure};
use ceremony_formats::Fingerprint;

/// Runs the parsed command; `Ok` carries the exit code (0, or 1 for failed checks).
pub fn dispatch(cli: Cli, env: &mut dyn Env) -> Result<u8, Failure> {
    let global = &cli.global;
    match cli.command {
        Command::Demo { dir, format, key } => demo::run(&dir, format, key, global, env),
        Command::Hash { files } => hash::run(&files, global, env),
        Command::Ksr(command) => ksr::run(command, global, env),
        Command::Skr(command) => skr::run(command, global, env),
        Command::Anchor(command) => anchor::run(command, global, env),
        Command::Key(command) => key::run(command, global, env),
        Command::Quorum(command) => quorum::run(command, global, env),
        Command::Sign {
            ksr,
            config,
            schema,
            previous_skr,
            output,
            yes,
            text,
            ceremony,
            quorum,
        } => sign::run(
            &sign::SignArgs {
                ksr,
                config,
                schema,
                previous_skr,
                output,
                yes,
                text,
                ceremony,
                quorum,
            },
            global,
            env,
        ),
        Command::Convert {
            input,
            to,
            format,
            output,
        } => convert::run(&input, to, format, &output, global, env),
        Command::Threshold(command) => threshold::run(command, global, env),
        Command::Selftest { config } => selftest::run(config.as_deref(), global, env),
        Command::Transcript(command) => transcript::run(command, global, env),
    }
}

/// The instant checks are judged at: `--now`, or the clock.
fn now(global: &Global, env: &dyn Env) -> Result<Timestamp, Failure> {
    match &global.now {
        None => Ok(env.now()),
        Some(text) => text.parse().map_err(|err| {
            Failure::input(format!("--now {text:?} is not an RFC 3339 instant: {err}"))
                .hint("write it like 2017-03-15T00:00:00Z")
        }),
    }
}

/// A KSR or SKR as read from disk, with the facts the report shows.
struct Input {
    name: String,
    /// The format the document was read in.
    format: ceremony_formats::Format,
    size: usize,
    fingerprint: Fingerprint,
    document: Document,
}

impl Input {
    fn facts(&self) -> FileFacts<'_> {
        FileFacts {
            name: &self.name,
            size: self.size,
            fingerprint: &self.fingerprint,
        }
    }
}

/// Reads, hashes and parses a document; the hash is of the exact bytes, as people compare it.
fn read_document(path: &Path, format: Format) -> Result<Input, Failure> {
    let name = path.display().to_string();
    let bytes = ceremony_formats::read_bounded(path)?;
    let fingerprint = Fingerprint::of(&bytes);
    let size = bytes.len();
    let text = ceremony_formats::text_from_bytes(bytes, &name)?;
    let format = match format {
        Format::Icann => ceremony_formats::Format::Icann,
        Format::Knot => ceremony_formats::Format::Knot,
        Format::Bind => ceremony_formats::Format::Bind,
        // Neither XML nor a text header: the XML reader says precisely what the file is not.
        Format::Auto => ceremony_formats::detect(&text).unwrap_or(ceremony_formats::Format::Icann),
    };
    let document = format.parse(&text, &name)?;
    Ok(Input {
        name,
        format,
        size,
        fingerprint,
        document,
    })
}

fn load_config(path: Option<&Path>) -> Result<(PolicyConfig, String), Failure> {
    match path {
        None => Ok((PolicyConfig::default(), "root defaults".to_owned())),
        Some(path) => Ok((
            PolicyConfig::load(path)?,
            format!("policy {}", path.display()),
        )),
    }
}

fn expect_ksr(input: Input) -> Result<(Input, ceremony_formats::Ksr), Failure> {
    match input.document.clone() {
        Document::Ksr(ksr) => Ok((input, ksr)),
        Document::Skr(_) => Err(Failure::input(format!(
            "{}: this is an SKR (<Response>), but a KSR was expected",
            input.name
        ))),
    }
}

fn expect_skr(input: Input) -> Result<(Input, ceremony_formats::Skr), Failure> {
    match input.document.clone() {
        Document::Skr(skr) => Ok((input, skr)),
        Document::Ksr(_) => Err(Failure::input(format!(
            "{}: this is a KSR (<Request>), but an SKR was expected",
            input.name
        ))),
    }
}

/// An output file as written: its name, size and hash, for the report.
pub(crate) struct Written {
    name: String,
    size: usize,
    fingerprint: Fingerprint,
}

impl Written {
    /// The facts of `bytes`, written to `path`.
    pub(crate) fn of(path: &Path, bytes: &[u8]) -> Written {
        Written {
            name: path.display().to_string(),
            size: bytes.len(),
            fingerprint: Fingerprint::of(bytes),
        }
    }

    fn facts(&self) -> FileFacts<'_> {
        FileFacts {
            name: &self.name,
            size: self.size,
            fingerprint: &self.fingerprint,
        }
    }
}

/// Writes an output file atomically and returns what the room reads aloud about it.
fn write_output(path: &Path, text: &str) -> Result<Written, Failure> {
    crate::fsutil::write_atomic(path, text.as_bytes())?;
    Ok(Written::of(path, text.as_bytes()))
}

/// Asks `question` and succeeds only if the answer is exactly `Yes`.
fn confirm(env: &mut dyn Env, question: &str, refused: &str) -> Result<(), Failure> {
    // The question goes to stderr, so that --json output on stdout stays one document.
    let _ = write!(env.stderr(), "{question} Type Yes to go on: ");
    let _ = env.stderr().flush();
    let mut answer = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(env.stdin()), &mut answer)
        .map_err(|err| Failure::environment(format!("cannot read the answer: {err}")))?;
    if answer.trim_end_matches(['\r', '\n']) == "Yes" {
        Ok(())
    } else {
        Err(Failure::input(format!("{refused}: the answer was not Yes"))
            .hint("type exactly Yes, or pass --yes"))
    }
}

/// Writes text to stdout, mapping a closed pipe to an environment failure.
fn emit(env: &mut dyn Env, text: &str) -> Result<(), Failure> {
    env.stdout()
        .write_all(text.as_bytes())
        .and_then(|()| env.stdout().flush())
        .map_err(|err| Failure::environment(format!("cannot write to standard output: {err}")))
}

fn emit_json(env: &mut dyn Env, value: &serde_json::Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    emit(env, &format!("{text}\n"))
}

/// The exit code for a report: 0 when every check that ran passed, else 1.
fn verdict(report: &ceremony_policy::Report) -> u8 {
    if report.is_ok() {
        0
    } else {
        crate::EXIT_CHECKS_FAILED
    }
}
