//! Which of the three formats a document is in, from its content (`--format auto`).

use std::fmt;
use std::str::FromStr;

use crate::model::Document;
use crate::{bind, icann, knot, Error};

/// The KSR/SKR formats Ceremony reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// The root zone's XML (`ksr.rnc`), with proof of possession.
    Icann,
    /// Knot DNS `keymgr` text.
    Knot,
    /// BIND 9 `dnssec-ksr` text.
    Bind,
}

impl Format {
    /// Every format, in the order `--format` lists them.
    pub const ALL: [Format; 3] = [Format::Icann, Format::Knot, Format::Bind];

    /// The name `--format` takes: `icann`, `knot` or `bind`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Icann => "icann",
            Format::Knot => "knot",
            Format::Bind => "bind",
        }
    }

    /// Whether requests in this format carry proof of possession (KSR-BUNDLE-POP).
    pub fn has_proof_of_possession(self) -> bool {
        self == Format::Icann
    }

    /// Parses a KSR or SKR in this format into the format-neutral model,
    /// leaving out what only the text formats carry (CDS/CDNSKEY, the
    /// generator's name).
    ///
    /// # Errors
    /// What the format's reader reports, with file, line and column.
    pub fn parse(self, text: &str, file: &str) -> Result<Document, Error> {
        match self {
            Format::Icann => icann::parse(text, file),
            Format::Knot => knot::parse(text, file).map(|d| d.into_document()),
            Format::Bind => bind::parse(text, file).map(|d| d.into_document()),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .ok_or_else(|| format!("unknown format {text:?}: expected icann, knot or bind"))
    }
}

/// Tells the format of a KSR or SKR from its first lines, or `None` when it is none of them.
///
/// XML (anything whose first non-blank character is `<`) is ICANN. A text
/// file's first `;;` header decides between Knot DNS
/// (`;; KeySigningRequest 1.0 1795959383 (2026-11-29T13:36:23Z) =========`)
/// and BIND (`;; KeySigningRequest 1.0 20261129133750 (Sun Nov 29 …)`).
/// Detection only looks: the chosen reader still checks everything.
pub fn detect(text: &str) -> Option<Format> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('<') {
        return Some(Format::Icann);
    }
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let Some(rest) = line
            .strip_prefix(";; KeySigningRequest 1.0 ")
            .or_else(|| line.strip_prefix(";; SignedKeyResponse 1.0 "))
        else {
            if line.starts_with(';') && !line.starts_with(";;") {
                continue; // a comment line before the first header
            }
            return None;
        };
        return header_format(rest);
    }
    None
}

fn header_format(rest: &str) -> Option<Format> {
    if let Some(time) = rest.strip_prefix("generated at ") {
        // Knot writes ISO 8601 in UTC, BIND ctime(3).
        let bytes = time.as_bytes();
        return match (bytes.get(3), bytes.get(4)) {
            (_, Some(b'-')) => Some(Format::Knot),
            (Some(b' '), _) => Some(Format::Bind),
            _ => None,
        };
    }
    let (first, after) = rest.split_once(' ')?;
    if !first.bytes().all(|b| b.is_ascii_digit()) || first.is_empty() {
        return None;
    }
    if rest.trim_end().ends_with('=') && after.as_bytes().get(5) == Some(&b'-') {
        Some(Format::Knot)
    } else if first.len() == 14 && after.starts_with('(') && after.ends_with(')') {
        Some(Format::Bind)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_tell_the_formats_apart() {
        let cases = [
            ("<KSR id=\"x\">", Some(Format::Icann)),
            ("\u{feff}  \n<?xml version=\"1.0\"?>", Some(Format::Icann)),
            (
                ";; KeySigningRequest 1.0 1795959383 (2026-11-29T13:36:23Z) =========\n",
                Some(Format::Knot),
            ),
            (
                ";; SignedKeyResponse 1.0 20261129133750 (Sun Nov 29 13:37:50 2026)\n",
                Some(Format::Bind),
            ),
            (
                "; note\n\n;; SignedKeyResponse 1.0 generated at 2026-11-29T13:36:27Z by Knot DNS 3.2.6\n",
                Some(Format::Knot),
            ),
            (
                ";; KeySigningRequest 1.0 generated at Sun Nov 29 13:37:50 2026 by 9.20\n",
                Some(Format::Bind),
            ),
            ("example. 3600 IN DNSKEY 256 3 8 AwEAAQ==\n", None),
            (";; KeySigningRequest 2.0 1795959383 (x) ===\n", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(detect(text), expected, "{text:?}");
        }
    }

    #[test]
    fn names_parse_back() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
        }
        assert!("xml".parse::<Format>().is_err());
    }
}
