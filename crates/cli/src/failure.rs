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
            ceremony_formats::Error::TooLarge { .. } => Some(
                "a quarter's KSR or SKR is about 20 KB, a trust anchor file 1 KB; \
                 check that this is the right file"
                    .to_owned(),
            ),
            ceremony_formats::Error::NotText { .. } | ceremony_formats::Error::Empty { .. } => {
                Some(
                    "check that this is the right file and that it was transferred completely"
                        .to_owned(),
                )
            }
            ceremony_formats::Error::WrongEncoding { file, encoding } => Some(format!(
                "convert it first, e.g. iconv -f {encoding} -t UTF-8 {} > converted.xml",
                shell_word(file)
            )),
            _ => None,
        };
        // Unreadable or malformed input is exit 2 (DESIGN §6), whatever the cause.
        Failure {
            code: EXIT_USAGE,
            message: err.to_string(),
            hint,
        }
    }
}

/// `word` as one shell word, for a command line the user may paste.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:,@%=".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

impl From<ceremony_policy::ConfigError> for Failure {
    fn from(err: ceremony_policy::ConfigError) -> Failure {
        Failure::input(err).hint("see config/ in the source tree for commented examples")
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("/tmp/ksr-2017.xml"), "/tmp/ksr-2017.xml");
        assert_eq!(shell_word("my ksr.xml"), "'my ksr.xml'");
        assert_eq!(shell_word("it's.xml"), r"'it'\''s.xml'");
        assert_eq!(shell_word(""), "''");
    }
}
