//! The command-line grammar: nouns, then verbs (DESIGN §6).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Offline-KSK key ceremonies for DNSSEC: check KSRs, verify SKRs, hash files for reading aloud.
#[derive(Debug, Parser)]
#[command(name = "ceremony", version, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Print machine-readable JSON instead of the human report.
    #[arg(long, global = true)]
    pub json: bool,
    /// Judge times as of this instant (RFC 3339, e.g. 2017-03-15T00:00:00Z) instead of now.
    #[arg(long, global = true, value_name = "RFC3339")]
    pub now: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a small ceremony on embedded data and explain each step.
    Demo {
        /// Directory to write the ceremony's files into (created if missing).
        #[arg(long, default_value = "ceremony-demo")]
        dir: PathBuf,
    },
    /// Print the SHA-256 of files in hex and as PGP words, for reading aloud.
    Hash {
        /// Files to hash; `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Key Signing Requests.
    #[command(subcommand)]
    Ksr(KsrCommand),
    /// Signed Key Responses.
    #[command(subcommand)]
    Skr(SkrCommand),
    /// Trust anchors (RFC 9718 root-anchors.xml).
    #[command(subcommand)]
    Anchor(AnchorCommand),
}

/// `ceremony ksr …`
#[derive(Debug, Subcommand)]
pub enum KsrCommand {
    /// Check a KSR against policy: every check by its published id.
    Validate {
        /// The KSR file.
        ksr: PathBuf,
        /// The SKR answering the previous KSR, to check the chain.
        #[arg(long, value_name = "SKR")]
        previous_skr: Option<PathBuf>,
        /// Policy configuration (TOML); the root's practice when absent.
        #[arg(long, value_name = "CFG")]
        config: Option<PathBuf>,
        /// The KSR's format.
        #[arg(long, value_enum, default_value_t = Format::Auto)]
        format: Format,
    },
}

/// `ceremony skr …`
#[derive(Debug, Subcommand)]
pub enum SkrCommand {
    /// Verify an SKR's signatures, and with --ksr that it answers that KSR.
    Verify {
        /// The SKR file.
        skr: PathBuf,
        /// The KSR it answers: adds SKR-MATCH and SKR-PAIR.
        #[arg(long, value_name = "KSR")]
        ksr: Option<PathBuf>,
        /// The previous SKR: adds KSR-POLICY-SAFETY for the KSK hand-over.
        #[arg(long, value_name = "SKR")]
        previous_skr: Option<PathBuf>,
        /// Trust anchors (root-anchors.xml); for the root zone the built-in IANA anchors are the default.
        #[arg(long, value_name = "FILE")]
        trust_anchor: Option<PathBuf>,
        /// Policy configuration (TOML).
        #[arg(long, value_name = "CFG")]
        config: Option<PathBuf>,
    },
}

/// `ceremony anchor …`
#[derive(Debug, Subcommand)]
pub enum AnchorCommand {
    /// Check that each KeyDigest's PublicKey, Flags and Algorithm hash to its Digest and KeyTag.
    Verify {
        /// The root-anchors.xml file.
        file: PathBuf,
    },
}

/// Document formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Detect the format from the content.
    Auto,
    /// The root zone's KSR/SKR XML.
    Icann,
}
