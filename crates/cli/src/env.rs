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

#[cfg(test)]
pub(crate) mod fake {
    //! An in-memory environment for running whole commands inside a test.

    use super::*;

    /// Captured output, fixed input and a fixed clock.
    pub struct FakeEnv {
        pub stdout: Vec<u8>,
        pub stderr: Vec<u8>,
        pub stdin: std::io::Cursor<Vec<u8>>,
        pub now: Timestamp,
    }

    impl FakeEnv {
        pub fn new(stdin: &[u8]) -> FakeEnv {
            FakeEnv {
                stdout: Vec::new(),
                stderr: Vec::new(),
                stdin: std::io::Cursor::new(stdin.to_vec()),
                now: Timestamp::UNIX_EPOCH,
            }
        }
    }

    impl Env for FakeEnv {
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
            self.now
        }
    }
}
