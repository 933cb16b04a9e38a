//! The process environment the commands see, injectable for tests.

use std::io::{Read, Write};

use jiff::Timestamp;

/// Streams and clock a command uses; tests substitute their own.
pub trait Env {
    /// Where results go.
    fn stdout(&mut self) -> &mut dyn Write;
    /// Where errors and progress go.
    fn stderr(&mut self) -> &mut dyn Write;
    /// Where `-` reads from.
    fn stdin(&mut self) -> &mut dyn Read;
    /// The current time, unless `--now` overrides it.
    fn now(&self) -> Timestamp;
}

/// The real process: standard streams and the system clock.
pub struct RealEnv {
    stdout: std::io::Stdout,
    stderr: std::io::Stderr,
    stdin: std::io::Stdin,
}

impl Default for RealEnv {
    fn default() -> Self {
        RealEnv {
            stdout: std::io::stdout(),
            stderr: std::io::stderr(),
            stdin: std::io::stdin(),
        }
    }
}

impl Env for RealEnv {
    fn stdout(&mut self) -> &mut dyn Write {
        &mut self.stdout
    }
    fn stderr(&mut self) -> &mut dyn Write {
        &mut self.stderr
    }
    fn stdin(&mut self) -> &mut dyn Read {
        &mut self.stdin
    }
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}
