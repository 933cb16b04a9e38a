//! Strict, bounded reading of XML elements with positions for error messages.
//!
//! Shared by the format readers: they walk the tree with these helpers, which
//! refuse anything the schema does not name and report the line and column.

use base64::Engine as _;
use jiff::Timestamp;
use roxmltree::{Node, NodeType, ParsingOptions};

use crate::{time, Duration, Error};

/// The deepest element nesting the formats allow is 6; anything far deeper is hostile.
const MAX_DEPTH: usize = 32;
/// No element of the formats has more than 3 attributes; anything far more is hostile.
const MAX_ATTRIBUTES: usize = 32;
/// Bounds the parser's memory (some 70 bytes each): a year of bundles has a few hundred.
const MAX_ALL_ATTRIBUTES: usize = 100_000;
/// Bounds the parser's memory: a year of bundles has a few thousand nodes.
const MAX_NODES: u32 = 500_000;

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// Parses well-formed XML without any DTD, within the nesting and attribute bounds.
pub(crate) fn parse_document<'input>(
    text: &'input str,
    file: &str,
) -> Result<roxmltree::Document<'input>> {
    if text.trim().is_empty() {
        return Err(Error::Empty {
            file: file.to_owned(),
        });
    }
    // Valid UTF-8, but never XML: a binary file that happens to decode.
    if let Some(at) = text.find('\0') {
        let (line, column) = position(text, at);
        return Err(Error::Xml {
            file: file.to_owned(),
            line,
            column,
            message: "a NUL byte, which XML text never holds; is this a binary file?".to_owned(),
        });
    }
    check_markup_bounds(text, file)?;
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    roxmltree::Document::parse_with_options(text, options).map_err(|err| xml_error(err, text, file))
}

/// Refuses deep nesting, crowds of attributes and of nodes before roxmltree sees the text.
///
/// roxmltree's tokenizer recurses once per level of nesting, so a file of
/// ten thousand nested elements overflows the stack (and aborts the
/// process) before any check on the finished tree could run; it looks for
/// a duplicate of each attribute among the element's earlier ones, so one
/// element with a million attributes takes hours; and it bounds nodes but
/// not attributes, which in 16 MiB can take 200 MB. This linear scan runs
/// first. Where the text is not well-formed it may count more than
/// roxmltree would, never less: roxmltree stops at the first error, and up
/// to that point the scan has seen the same tags.
fn check_markup_bounds(text: &str, file: &str) -> Result<()> {
    let bytes = text.as_bytes();
    let past =
        |from: usize, end: &[u8]| find(bytes, from, end).map_or(bytes.len(), |at| at + end.len());
    let mut depth = 0usize;
    let mut all_attributes = 0usize;
    // Elements, comments and processing instructions: each is a node to roxmltree.
    let mut nodes = 0u32;
    let mut at = 0;
    while let Some(found) = bytes[at..].iter().position(|&b| b == b'<') {
        let start = at + found;
        let rest = &bytes[start..];
        if !rest.starts_with(b"</") {
            nodes += 1;
            if nodes > MAX_NODES {
                return Err(invalid_at(text, start, file, too_many_nodes()));
            }
        }
        at = if rest.starts_with(b"<!--") {
            past(start + 4, b"-->")
        } else if rest.starts_with(b"<![CDATA[") {
            past(start + 9, b"]]>")
        } else if rest.starts_with(b"<?") {
            past(start + 2, b"?>")
        } else if rest.starts_with(b"<!") {
            // A DOCTYPE or junk: roxmltree refuses it right there.
            return Ok(());
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            past(start + 2, b">")
        } else {
            // A start tag: find its `>` outside quotes, counting `=` (one per attribute).
            let mut quote = None;
            let mut attributes = 0usize;
            let mut end = None;
            for (i, &b) in bytes.iter().enumerate().skip(start + 1) {
                match (quote, b) {
                    (Some(q), _) if b == q => quote = None,
                    (Some(_), _) => {}
                    (None, b'"' | b'\'') => quote = Some(b),
                    (None, b'=') => {
                        attributes += 1;
                        all_attributes += 1;
                        if all_attributes > MAX_ALL_ATTRIBUTES {
                            return Err(invalid_at(
                                text,
                                start,
                                file,
                                format!(
                                    "more than {MAX_ALL_ATTRIBUTES} attributes in the file; \
                                     a year of bundles has a few hundred"
                                ),
                            ));
                        }
                        if attributes > MAX_ATTRIBUTES {
                            return Err(invalid_at(
                                text,
                                start,
                                file,
                                format!(
                                    "<{}> has more than {MAX_ATTRIBUTES} attributes; \
                                     no element of a KSR, SKR or trust anchor has more than 3",
                                    tag_name(text, start)
                                ),
                            ));
                        }
                    }
                    (None, b'>') => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            // An unterminated tag: roxmltree refuses it without going deeper.
            let Some(end) = end else { return Ok(()) };
            if bytes[end - 1] != b'/' {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(invalid_at(
                        text,
                        start,
                        file,
                        format!(
                            "elements nested more than {MAX_DEPTH} deep; \
                             a KSR, SKR or trust anchor nests at most 6"
                        ),
                    ));
                }
            }
            end + 1
        };
    }
    Ok(())
}

fn too_many_nodes() -> String {
    format!("more than {MAX_NODES} XML nodes; a year of bundles has a few thousand")
}

/// The index of the first `needle` in `haystack` at or after `from`.
fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| from + at)
}

/// The name of the tag starting at byte `start` (at its `<`), shortened and made printable.
fn tag_name(text: &str, start: usize) -> String {
    let name: String = text[start + 1..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '/' | '>' | '='))
        .take(40)
        .collect();
    printable(&name)
}

/// The 1-based line and column (in characters) of byte `offset`, as roxmltree counts them.
fn position(text: &str, offset: usize) -> (u32, u32) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |nl| nl + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

fn invalid_at(text: &str, offset: usize, file: &str, message: String) -> Error {
    let (line, column) = position(text, offset);
    Error::Invalid {
        file: file.to_owned(),
        line,
        column,
        message,
    }
}

/// Control characters escaped, so a message cannot write raw bytes from a file to a terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Turns roxmltree's error into ours, with a real position where roxmltree has none.
fn xml_error(err: roxmltree::Error, text: &str, file: &str) -> Error {
    use roxmltree::Error as X;
    let xml = |offset: usize, message: String| {
        let (line, column) = position(text, offset);
        Error::Xml {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    };
    // Where a truncated file stops: after its last character that is not whitespace.
    let end = text.trim_end().len();
    let cut_short = || {
        xml(
            end,
            "the file ends in the middle of markup; is it truncated?".to_owned(),
        )
    };
    match err {
        // Well-formed XML, but refused: not an XML syntax error.
        X::DtdDetected => invalid_at(
            text,
            text.find("<!DOCTYPE").unwrap_or(0),
            file,
            "a DOCTYPE is not accepted: KSR, SKR and trust anchor files have no DTD, \
             and entities are never expanded"
                .to_owned(),
        ),
        X::UnclosedRootNode => xml(
            end,
            "the file ends before its document element is closed; is it truncated?".to_owned(),
        ),
        X::UnexpectedEndOfStream => cut_short(),
        // roxmltree says this of a file cut inside its first tag, too.
        X::NoRootNode if !text.trim_end().ends_with('>') => cut_short(),
        X::NoRootNode => xml(
            end,
            "the file holds no element; expected an XML document such as <KSR ...>".to_owned(),
        ),
        X::NodesLimitReached => invalid_at(text, 0, file, too_many_nodes()),
        // Any complaint about the place where the text stops, or about a
        // `<` it ends with, is about a cut.
        other
            if (other.pos().row, other.pos().col)
                >= position(text, end - usize::from(text[..end].ends_with('<'))) =>
        {
            cut_short()
        }
        X::UnknownToken(pos)
            if (pos.row, pos.col) == position(text, text.len() - text.trim_start().len()) =>
        {
            xml(
                text.len() - text.trim_start().len(),
                "the file does not start with XML markup; expected an XML document such as <KSR ...>"
                    .to_owned(),
            )
        }
        other => {
            let pos = other.pos();
            // roxmltree repeats the position in its message; ours leads with it already.
            let message = other.to_string().replace(&format!(" at {pos}"), "");
            Error::Xml {
                file: file.to_owned(),
                line: pos.row,
                column: pos.col,
                message: printable(&message),
            }
        }
    }
}

pub(crate) struct Reader<'a, 'input> {
    pub(crate) doc: &'a roxmltree::Document<'input>,
    pub(crate) file: &'a str,
}

impl<'a, 'input> Reader<'a, 'input> {
    pub(crate) fn invalid(&self, node: Node<'_, '_>, message: impl Into<String>) -> Error {
        let pos = self.doc.text_pos_at(node.range().start);
        Error::Invalid {
            file: self.file.to_owned(),
            line: pos.row,
            column: pos.col,
            message: message.into(),
        }
    }

    /// The element children of `node`, refusing stray text and processing instructions.
    pub(crate) fn elements<'n>(&self, node: Node<'n, 'input>) -> Result<Elements<'n, 'input>> {
        let mut items = Vec::new();
        for child in node.children() {
            match child.node_type() {
                NodeType::Element => items.push(child),
                NodeType::Text if child.text().unwrap_or("").trim().is_empty() => {}
                NodeType::Comment => {}
                NodeType::Text => {
                    return Err(self.invalid(
                        child,
                        format!("unexpected text inside <{}>", node.tag_name().name()),
                    ))
                }
                _ => {
                    return Err(self.invalid(
                        child,
                        format!(
                            "unexpected processing instruction inside <{}>",
                            node.tag_name().name()
                        ),
                    ))
                }
            }
        }
        Ok(Elements {
            parent: node,
            items,
            next: 0,
        })
    }

    pub(crate) fn expect<'n>(
        &self,
        els: &mut Elements<'n, 'input>,
        name: &str,
    ) -> Result<Node<'n, 'input>> {
        match els.peek() {
            Some(node) if node.tag_name().name() == name => {
                els.next += 1;
                Ok(node)
            }
            Some(node) => Err(self.invalid(
                node,
                format!(
                    "expected <{name}> in <{}>, found <{}>",
                    els.parent.tag_name().name(),
                    node.tag_name().name()
                ),
            )),
            None => Err(self.invalid(
                els.parent,
                format!(
                    "<{}> ends without the required <{name}>",
                    els.parent.tag_name().name()
                ),
            )),
        }
    }

    pub(crate) fn many<'n>(
        &self,
        els: &mut Elements<'n, 'input>,
        name: &str,
        at_least: usize,
    ) -> Result<Vec<Node<'n, 'input>>> {
        let mut found = Vec::new();
        while let Some(node) = els.peek().filter(|n| n.tag_name().name() == name) {
            els.next += 1;
            found.push(node);
        }
        if found.len() < at_least {
            self.expect(els, name)?;
        }
        Ok(found)
    }

    pub(crate) fn end(&self, els: &Elements<'_, 'input>) -> Result<()> {
        match els.peek() {
            None => Ok(()),
            Some(node) => Err(self.invalid(
                node,
                format!(
                    "unexpected <{}> in <{}>",
                    node.tag_name().name(),
                    els.parent.tag_name().name()
                ),
            )),
        }
    }

    /// Checks the attribute names against the schema: all `required` present, nothing unknown.
    pub(crate) fn attributes(
        &self,
        node: Node<'_, '_>,
        required: &[&str],
        optional: &[&str],
    ) -> Result<()> {
        for attr in node.attributes() {
            if !required.contains(&attr.name()) && !optional.contains(&attr.name()) {
                return Err(self.invalid(
                    node,
                    format!(
                        "unexpected attribute {:?} on <{}>",
                        attr.name(),
                        node.tag_name().name()
                    ),
                ));
            }
        }
        for name in required {
            if node.attribute(*name).is_none() {
                return Err(self.invalid(
                    node,
                    format!(
                        "<{}> lacks the required attribute {name:?}",
                        node.tag_name().name()
                    ),
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn attr<'n>(&self, node: Node<'n, 'input>, name: &str) -> &'n str {
        // `attributes` has checked that required ones exist.
        node.attribute(name).unwrap_or_default()
    }

    /// The trimmed text of a leaf element; comments may stand around the value, not inside it.
    pub(crate) fn text<'n>(&self, node: Node<'n, 'input>) -> Result<&'n str> {
        if let Some(child) = node.children().find(|c| !c.is_text() && !c.is_comment()) {
            return Err(self.invalid(
                child,
                format!("<{}> holds a value, not markup", node.tag_name().name()),
            ));
        }
        self.attributes(node, &[], &[])?;
        let mut parts = node
            .children()
            .filter_map(|c| c.is_text().then(|| c.text()).flatten())
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(text) = parts.next() else {
            return Err(self.invalid(node, format!("<{}> is empty", node.tag_name().name())));
        };
        // `<TTL>17<!-- -->2800</TTL>` must not read as 17.
        if parts.next().is_some() {
            return Err(self.invalid(
                node,
                format!(
                    "the value of <{}> is split by a comment; write it in one piece",
                    node.tag_name().name()
                ),
            ));
        }
        Ok(text)
    }

    /// The byte offset in the file of `text[index..]`, `text` being the value [`Self::text`] read from `node`.
    ///
    /// `None` when the value's text differs from its raw bytes (character
    /// references, CRLF), where offsets into one are not offsets into the other.
    fn offset_in_file(&self, node: Node<'_, '_>, text: &str, index: usize) -> Option<usize> {
        let child = node
            .children()
            .find(|c| c.is_text() && c.text().is_some_and(|t| !t.trim().is_empty()))?;
        let full = child.text()?;
        if self.doc.input_text().get(child.range())? != full {
            return None;
        }
        let lead = full.len() - full.trim_start().len();
        (full.trim() == text).then_some(child.range().start + lead + index)
    }

    pub(crate) fn leaf<'n>(
        &self,
        els: &mut Elements<'n, 'input>,
        name: &str,
    ) -> Result<(Node<'n, 'input>, &'n str)> {
        let node = self.expect(els, name)?;
        Ok((node, self.text(node)?))
    }

    pub(crate) fn uint(&self, node: Node<'_, '_>, what: &str, text: &str, max: u64) -> Result<u64> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.invalid(
                node,
                format!("{what} must be a non-negative integer, found {text:?}"),
            ));
        }
        let digits = text.trim_start_matches('0');
        let value = if digits.is_empty() {
            Some(0)
        } else {
            digits.parse::<u64>().ok()
        };
        match value {
            Some(v) if v <= max => Ok(v),
            _ => Err(self.invalid(
                node,
                format!("{what} {text} is out of range (at most {max})"),
            )),
        }
    }

    pub(crate) fn leaf_uint(
        &self,
        els: &mut Elements<'_, 'input>,
        name: &str,
        max: u64,
    ) -> Result<u64> {
        let (node, text) = self.leaf(els, name)?;
        self.uint(node, &format!("<{name}>"), text, max)
    }

    pub(crate) fn leaf_time(
        &self,
        els: &mut Elements<'_, 'input>,
        name: &str,
    ) -> Result<Timestamp> {
        let (node, text) = self.leaf(els, name)?;
        time::parse_datetime(text).map_err(|why| self.invalid(node, format!("<{name}>: {why}")))
    }

    pub(crate) fn leaf_duration(
        &self,
        els: &mut Elements<'_, 'input>,
        name: &str,
    ) -> Result<Duration> {
        let (node, text) = self.leaf(els, name)?;
        Duration::parse_xsd(text).map_err(|why| self.invalid(node, format!("<{name}>: {why}")))
    }

    pub(crate) fn leaf_base64(
        &self,
        els: &mut Elements<'_, 'input>,
        name: &str,
    ) -> Result<Vec<u8>> {
        let (node, text) = self.leaf(els, name)?;
        // xsd:base64Binary allows whitespace between characters; long keys get wrapped.
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact.as_bytes())
            .map_err(|err| self.base64_error(node, name, text, &err))
    }

    /// Says what is wrong with a base64 value, at the offending character where there is one.
    fn base64_error(
        &self,
        node: Node<'_, '_>,
        name: &str,
        text: &str,
        err: &base64::DecodeError,
    ) -> Error {
        use base64::DecodeError as D;
        // The decoder's offset counts bytes without whitespace; find the character in `text`.
        let at = |offset: usize| {
            let mut compact = 0;
            text.char_indices()
                .filter(|(_, c)| !c.is_ascii_whitespace())
                .enumerate()
                .find_map(|(nth, (index, c))| {
                    compact += c.len_utf8();
                    (offset < compact).then_some((index, nth + 1, c))
                })
        };
        let (spot, what) = match *err {
            D::InvalidByte(offset, b'=') => (
                at(offset),
                "'=' is padding, allowed only at the end".to_owned(),
            ),
            D::InvalidByte(offset, _) => {
                let spot = at(offset);
                let what = match spot {
                    Some((_, _, c)) => format!("{c:?} is not a base64 character"),
                    None => "a character is not base64".to_owned(),
                };
                (spot, what)
            }
            D::InvalidLastSymbol(offset, _) => (
                at(offset),
                "the last character has bits set that encode nothing; the value is damaged or cut short"
                    .to_owned(),
            ),
            D::InvalidLength(count) => (
                None,
                format!(
                    "{count} base64 characters cannot encode whole bytes; the value is cut short or has extra characters"
                ),
            ),
            D::InvalidPadding => (
                None,
                "the '=' padding at the end is missing or wrong".to_owned(),
            ),
        };
        let message = match spot {
            Some((_, nth, _)) => {
                format!("<{name}> is not valid base64: {what} (character {nth} of the value)")
            }
            None => format!("<{name}> is not valid base64: {what}"),
        };
        match spot.and_then(|(index, _, _)| self.offset_in_file(node, text, index)) {
            Some(offset) => {
                let pos = self.doc.text_pos_at(offset);
                Error::Invalid {
                    file: self.file.to_owned(),
                    line: pos.row,
                    column: pos.col,
                    message,
                }
            }
            None => self.invalid(node, message),
        }
    }
}

pub(crate) struct Elements<'n, 'input> {
    pub(crate) parent: Node<'n, 'input>,
    items: Vec<Node<'n, 'input>>,
    pub(crate) next: usize,
}

impl<'n, 'input> Elements<'n, 'input> {
    pub(crate) fn peek(&self) -> Option<Node<'n, 'input>> {
        self.items.get(self.next).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}{}", "<a>".repeat(levels), "</a>".repeat(levels))
    }

    #[test]
    fn nesting_up_to_the_bound_passes_the_scan() {
        assert!(check_markup_bounds(&nested(MAX_DEPTH), "f").is_ok());
        let err = check_markup_bounds(&nested(MAX_DEPTH + 1), "f").expect_err("too deep");
        assert!(
            err.to_string().starts_with("f:1:97: elements nested"),
            "{err}"
        );
    }

    #[test]
    fn only_real_start_tags_count() {
        // Self-closing tags, tags in comments, CDATA, PIs and quoted `>` do not nest.
        let mut text = String::from("<r>");
        for _ in 0..100 {
            text.push_str(
                "<e/><e x='>'/><e y=\">/>\" /><!-- <a><a> --><![CDATA[<a><a>]]><?p <a>?>",
            );
        }
        text.push_str(&nested(MAX_DEPTH - 1));
        text.push_str("</r>");
        assert!(check_markup_bounds(&text, "f").is_ok());
        assert!(roxmltree::Document::parse(&text).is_ok());
    }

    #[test]
    fn closing_tags_unwind_the_depth() {
        let text = format!("<r>{}</r>", nested(MAX_DEPTH - 1).repeat(1000));
        assert!(check_markup_bounds(&text, "f").is_ok());
    }

    #[test]
    fn attributes_are_bounded_per_element_and_per_file() {
        let element = |n: usize| {
            let attrs: Vec<String> = (0..n).map(|i| format!("a{i}='='")).collect();
            format!("<e {}/>", attrs.join(" "))
        };
        assert!(check_markup_bounds(&element(MAX_ATTRIBUTES), "f").is_ok());
        let err = check_markup_bounds(&element(MAX_ATTRIBUTES + 1), "f").expect_err("too many");
        assert!(err.to_string().contains("<e> has more than 32"), "{err}");
        let many = format!("<r>{}</r>", element(10).repeat(MAX_ALL_ATTRIBUTES / 10 + 1));
        let err = check_markup_bounds(&many, "f").expect_err("too many");
        assert!(err.to_string().contains("attributes in the file"), "{err}");
    }

    #[test]
    fn positions_count_lines_and_characters() {
        assert_eq!(position("ab\ncé<", 6), (2, 3));
        assert_eq!(position("", 0), (1, 1));
        assert_eq!(position("x\n", 99), (2, 1));
    }

    #[test]
    fn a_comment_may_surround_a_value_but_not_split_it() {
        let read = |text: &str| -> Result<String> {
            let doc = roxmltree::Document::parse(text).expect("well-formed");
            let reader = Reader {
                doc: &doc,
                file: "f",
            };
            reader.text(doc.root_element()).map(str::to_owned)
        };
        assert_eq!(
            read("<v><!-- c --> 42 <!-- c --></v>").expect("value"),
            "42"
        );
        let err = read("<v>4<!-- c -->2</v>").expect_err("split");
        assert!(err.to_string().contains("split by a comment"), "{err}");
    }
}
