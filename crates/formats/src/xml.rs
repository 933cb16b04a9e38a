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
/// Bounds the parser's memory: a year of bundles has a few thousand nodes.
const MAX_NODES: u32 = 500_000;

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// Parses well-formed XML without any DTD, and checks its nesting depth.
pub(crate) fn parse_document<'input>(
    text: &'input str,
    file: &str,
) -> Result<roxmltree::Document<'input>> {
    if text.trim().is_empty() {
        return Err(Error::Empty {
            file: file.to_owned(),
        });
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
    };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|err| {
        let pos = err.pos();
        let message = match err {
            roxmltree::Error::DtdDetected => {
                "a DOCTYPE is not accepted: KSR and SKR files have no DTD, and entities are never expanded".to_owned()
            }
            other => other.to_string(),
        };
        Error::Xml {
            file: file.to_owned(),
            line: pos.row,
            column: pos.col,
            message,
        }
    })?;
    Reader { doc: &doc, file }.check_depth()?;
    Ok(doc)
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

    /// Refuses absurd nesting before anything walks the tree.
    fn check_depth(&self) -> Result<()> {
        let mut stack = vec![(self.doc.root(), 0usize)];
        while let Some((node, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                return Err(self.invalid(
                    node,
                    format!(
                        "elements nested more than {MAX_DEPTH} deep; a KSR or SKR nests at most 6"
                    ),
                ));
            }
            stack.extend(
                node.children()
                    .filter(Node::is_element)
                    .map(|c| (c, depth + 1)),
            );
        }
        Ok(())
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

    /// The trimmed text of a leaf element.
    pub(crate) fn text<'n>(&self, node: Node<'n, 'input>) -> Result<&'n str> {
        if let Some(child) = node.children().find(|c| !c.is_text() && !c.is_comment()) {
            return Err(self.invalid(
                child,
                format!("<{}> holds a value, not markup", node.tag_name().name()),
            ));
        }
        self.attributes(node, &[], &[])?;
        let text = node.text().unwrap_or("").trim();
        if text.is_empty() {
            return Err(self.invalid(node, format!("<{}> is empty", node.tag_name().name())));
        }
        Ok(text)
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
            .map_err(|err| self.invalid(node, format!("<{name}> is not valid base64: {err}")))
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
