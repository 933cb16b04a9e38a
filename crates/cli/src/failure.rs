//! Errors at the edge: a message, a hint, and the exit code they map to.

use std::io::Write;

/// Exit code when the input was read but fails a check or a signature.
pub const EXIT_CHECKS_FAILED: u8 = 1;
/// Exit code for a usage error, unreadable or malformed input, or a bad config.
pub const EXIT_USAGE: u8 = 2;
/// Exit code for an environment failure: HSM, network, file system.
pub const EXIT_ENVIRONMENT: u8 = 3;

/// A command that could not do its job, as the user is told.
#[derive(Debug)]
pub struct Failure {
    /// The process exit code.
    pub code: u8,
    /// What went wrong, naming the file and place.
    pub message: String,
    /// What to do about it, if there is something to say.
    pub hint: Option<String>,
}

impl Failure {
    /// Unreadable or malformed input, or a bad invocation (exit 2).
    pub fn input(message: impl std::fmt::Display) -> Failure {
        Failure {
            code: EXIT_USAGE,
            message: message.to_string(),
            hint: None,
        }
    }

    /// The environment failed (exit 3).
    pub fn environment(message: impl std::fmt::Display) -> Failure {
        Failure {
            code: EXIT_ENVIRONMENT,
            message: message.to_string(),
            hint: None,
        }
    }

    /// Adds advice for the user.
    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// Writes the message and hint the way every command reports errors.
    ///
    /// # Errors
    /// When the stream cannot be written.
    pub fn print(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            writeln!(out, "hint: {hint}")?;
        }
        Ok(())
    }
}

impl From<ceremony_formats::Error> for Failure {
    fn from(err: ceremony_formats::Error) -> Failure {
        let hint = match &err {
            ceremony_formats::Error::TooLarge { .. } => {
                Some("a quarter's KSR or SKR is about 20 KB; check that this is the right file")
            }
            ceremony_formats::Error::NotText { .. } | ceremony_formats::Error::Empty { .. } => {
                Some("check that this is the right file and that it was transferred completely")
            }
            _ => None,
        };
        // Unreadable or malformed input is exit 2 (DESIGN §6), whatever the cause.
        Failure {
            code: EXIT_USAGE,
            message: err.to_string(),
            hint: hint.map(str::to_owned),
        }
    }
}

impl From<ceremony_policy::ConfigError> for Failure {
    fn from(err: ceremony_policy::ConfigError) -> Failure {
        Failure::input(err).hint("see config/ in the source tree for commented examples")
    }
}
