//! Where the user PIN comes from, and reading it without leaving copies about.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;

use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

use crate::KeyError;

/// The source of a token's user PIN.
///
/// The PIN itself is only ever held in a [`SecretString`] (zeroized on drop,
/// redacted in `Debug`) and never appears in an error message.
#[derive(Clone, Debug)]
pub enum Pin {
    /// Read from this environment variable when the token is opened.
    Env(String),
    /// Read from this file: the first line, without its line ending.
    File(PathBuf),
    /// Ask on the terminal without echo; when standard input is not a
    /// terminal, read one line from it.
    Prompt,
    /// A PIN already in memory, for in-process use (tests, a server that
    /// received it over an authenticated channel). Never take it from a
    /// command-line argument: those are visible to every user of the machine.
    Value(SecretString),
}

impl Pin {
    /// Obtains the PIN for `token` (the label is used in the prompt and in errors).
    ///
    /// # Errors
    /// [`KeyError::PinUnavailable`] when the variable is unset, the file
    /// unreadable, the terminal closed, or the PIN empty or not UTF-8.
    pub fn read(&self, token: &str) -> Result<SecretString, KeyError> {
        let unavailable = |from: String, reason: &str| KeyError::PinUnavailable {
            token: token.to_owned(),
            from,
            reason: reason.to_owned(),
        };
        let pin = match self {
            Pin::Value(pin) => pin.clone(),
            Pin::Env(var) => {
                let from = format!("environment variable {var}");
                match std::env::var(var) {
                    Ok(value) => secret_line(Zeroizing::new(value)),
                    Err(std::env::VarError::NotPresent) => {
                        return Err(unavailable(from, "not set"))
                    }
                    Err(std::env::VarError::NotUnicode(_)) => {
                        return Err(unavailable(from, "not valid UTF-8"))
                    }
                }
            }
            Pin::File(path) => {
                let from = format!("file {}", path.display());
                let bytes = Zeroizing::new(
                    std::fs::read(path).map_err(|e| unavailable(from.clone(), &e.to_string()))?,
                );
                let text = std::str::from_utf8(&bytes)
                    .map_err(|_| unavailable(from.clone(), "not valid UTF-8"))?;
                // Only the first line: a trailing newline is not part of the PIN.
                secret_line(Zeroizing::new(text.to_owned()))
            }
            Pin::Prompt => {
                let stdin = std::io::stdin();
                if stdin.is_terminal() {
                    let line =
                        rpassword::prompt_password(format!("PIN for token \"{token}\": "))
                            .map_err(|e| unavailable("the terminal".to_owned(), &e.to_string()))?;
                    secret_line(Zeroizing::new(line))
                } else {
                    let mut line = Zeroizing::new(String::new());
                    stdin
                        .lock()
                        .read_line(&mut line)
                        .map_err(|e| unavailable("standard input".to_owned(), &e.to_string()))?;
                    secret_line(line)
                }
            }
        };
        if pin.expose_secret().is_empty() {
            return Err(unavailable(self.source_name(), "empty"));
        }
        Ok(pin)
    }

    fn source_name(&self) -> String {
        match self {
            Pin::Env(var) => format!("environment variable {var}"),
            Pin::File(path) => format!("file {}", path.display()),
            Pin::Prompt => "the terminal".to_owned(),
            Pin::Value(_) => "memory".to_owned(),
        }
    }
}

/// The text up to the first line ending, as a secret.
fn secret_line(text: Zeroizing<String>) -> SecretString {
    let line = text.split(['\r', '\n']).next().unwrap_or_default();
    SecretString::from(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_pin_drops_the_line_ending() {
        let dir = std::env::temp_dir().join(format!("ceremony-pin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("pin");
        std::fs::write(&path, "123456\r\n").expect("write");
        let pin = Pin::File(path.clone()).read("t").expect("reads");
        assert_eq!(pin.expose_secret(), "123456");
        std::fs::write(&path, "\n").expect("write");
        let err = Pin::File(path).read("t").expect_err("empty");
        assert!(err.to_string().contains("empty"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn unset_variable_is_named_and_debug_hides_values() {
        let err = Pin::Env("CEREMONY_TEST_PIN_SURELY_UNSET".to_owned())
            .read("tok")
            .expect_err("unset");
        let text = err.to_string();
        assert!(
            text.contains("CEREMONY_TEST_PIN_SURELY_UNSET") && text.contains("tok"),
            "{text}"
        );
        let shown = format!("{:?}", Pin::Value(SecretString::from("987654")));
        assert!(!shown.contains("987654"), "{shown}");
    }
}
