//! The `ceremony` command line: flags in, typed requests to the libraries, exit codes out.
//!
//! Exit codes (DESIGN §6): 0 success; 1 the input was read but fails a check
//! or a signature; 2 usage error, unreadable or malformed input, bad config;
//! 3 environment failure (HSM, network, I/O). Errors are printed once, here,
//! with a hint; library crates return typed errors and never print.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod args;
mod cmd;
mod env;
mod failure;
mod fingerprint;
mod fsutil;
mod render;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use env::{Env, RealEnv};
pub use failure::{Failure, EXIT_CHECKS_FAILED, EXIT_ENVIRONMENT, EXIT_USAGE};

/// Runs the command line `args` in `env` and returns the process exit code.
pub fn run<I, T>(args: I, env: &mut dyn Env) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { EXIT_USAGE } else { 0 };
            let text = err.render().ansi().to_string();
            let _ = if code == 0 {
                write!(env.stdout(), "{text}")
            } else {
                write!(env.stderr(), "{text}")
            };
            return ExitCode::from(code);
        }
    };
    match cmd::dispatch(cli, env) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            let _ = failure.print(env.stderr());
            ExitCode::from(failure.code)
        }
    }
}
