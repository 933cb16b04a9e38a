//! The `ceremony` command line: flags in, typed requests to the libraries, exit codes out.
//!
//! Exit codes (DESIGN §6): 0 success; 1 the input was read but fails a check
//! or a signature; 2 usage error, unreadable or malformed input, bad config;
//! 3 environment failure (HSM, network, I/O). Errors are printed once, here,
//! with a hint; library crates return typed errors and never print.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod args;
mod ceremony_log;
mod cmd;
mod env;
mod failure;
mod fsutil;
mod render;
mod sealed;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::fake::FakeEnv;

    fn run_fake(args: &[&str], stdin: &[u8]) -> (ExitCode, String, String) {
        let mut env = FakeEnv::new(stdin);
        let code = run(
            std::iter::once("ceremony").chain(args.iter().copied()),
            &mut env,
        );
        (
            code,
            String::from_utf8_lossy(&env.stdout).into_owned(),
            String::from_utf8_lossy(&env.stderr).into_owned(),
        )
    }

    #[test]
    fn hash_json_in_process() {
        let (code, out, err) = run_fake(&["hash", "--json", "-"], b"hello, world\n");
        assert_eq!(code, ExitCode::SUCCESS, "{err}");
        let json: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(json[0]["words"][3], "consensus");
        assert_eq!(json[0]["size"], 13);
    }

    #[test]
    fn the_clock_is_the_environments() {
        // Judged as of the fake clock (1970), the 2017 KSR expires far beyond the horizon.
        let ksr = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/ksr-root-2017-q2-0.xml");
        let (code, out, _) = run_fake(&["ksr", "validate", "--json", ksr], b"");
        assert_eq!(code, ExitCode::from(EXIT_CHECKS_FAILED));
        let json: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(json["now"], "1970-01-01T00:00:00Z");
        let (code, _, _) = run_fake(
            &["ksr", "validate", "--now", "2017-03-15T00:00:00Z", ksr],
            b"",
        );
        assert_eq!(code, ExitCode::SUCCESS);
    }

    #[test]
    fn usage_errors_go_to_stderr_with_exit_2() {
        let (code, out, err) = run_fake(&["hash"], b"");
        assert_eq!(code, ExitCode::from(EXIT_USAGE));
        assert!(out.is_empty());
        assert!(err.contains("FILES"), "{err}");
    }
}
