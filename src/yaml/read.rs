//! YAML text to the JSON tree kubectl sees.
//!
//! kubectl decodes YAML with go-yaml v2 and converts the result to JSON
//! (sigs.k8s.io/yaml) before reading it. This reader builds that JSON tree
//! from saphyr-parser's events: plain scalars resolve as YAML 1.1
//! ([`super::resolve`]), quoted ones are strings, `<<` merge keys apply
//! where they stand (as in go-yaml v2: over the keys before them, under the
//! keys after them), a repeated key keeps its last value, and map keys
//! become strings as sigs.k8s.io/yaml makes them. Anchors are expanded
//! within a budget and nesting is bounded, so a hostile document is refused
//! in linear time instead of exhausting memory or the stack.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, StrInput, Tag};
use serde_json::{Map, Number, Value};

use super::resolve::{float_key, resolve_plain, Scalar};

/// Deeper nesting is refused (saphyr-parser has the same bound for flow
/// collections). Kubeconfigs nest about eight levels.
pub const MAX_DEPTH: usize = 256;
/// Nodes that aliases may add in one document: far above any real file's
/// use of anchors, far below what a billion-laughs document asks for.
pub const MAX_ALIAS_NODES: usize = 1_000_000;

const MERGE_NEEDS_MAPPINGS: &str = "a merge key (<<) needs a mapping or a list of mappings";

/// Where in the text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// One step of a path into the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Renders a path as `users[2].user.exec`.
pub struct PathDisplay<'a>(pub &'a [Segment]);

impl fmt::Display for PathDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Why a text cannot be read, and where. Never quotes the text: a
/// kubeconfig holds secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ReadError {
    pub position: Option<Position>,
    pub path: Vec<Segment>,
    pub reason: String,
    /// kubectl refuses the file for the same reason (not so for this
    /// reader's own limits).
    pub kubectl_refuses: bool,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(at) = self.position {
            write!(f, "line {}, column {}", at.line, at.column)?;
            if !self.path.is_empty() {
                write!(f, ", ")?;
            }
        }
        if !self.path.is_empty() {
            write!(f, "at {}", PathDisplay(&self.path))?;
        }
        if self.position.is_some() || !self.path.is_empty() {
            write!(f, ": ")?;
        }
        write!(f, "{}", self.reason)?;
        if self.kubectl_refuses {
            write!(f, " (kubectl cannot load it either)")?;
        }
        Ok(())
    }
}

/// The first document, as kubectl reads only that one; an empty text is `null`.
pub fn read_first(text: &str) -> Result<Value, ReadError> {
    match super::fast::read_block(text) {
        Some(tree) => Ok(tree),
        None => full_first(text),
    }
}

/// The first document through the full reader, without the fast path.
pub(super) fn full_first(text: &str) -> Result<Value, ReadError> {
    let text = yaml_1_1_breaks(text);
    let mut documents = Builder::new(&text).documents(1)?;
    Ok(documents.pop().unwrap_or(Value::Null))
}

/// Every document of a multi-document text (manifests, not kubeconfigs).
pub fn read_all(text: &str) -> Result<Vec<Value>, ReadError> {
    Builder::new(&yaml_1_1_breaks(text)).documents(usize::MAX)
}

/// NEL (U+0085) is a line break in YAML 1.1 and libyaml reads it as `\n`
/// (so `"x<NEL>y"` is `"x y"` to kubectl); YAML 1.2 parsers read a character.
/// LS and PS need nothing: YAML 1.1 keeps them in quoted text, and they
/// break nothing else in a file kubectl loads.
fn yaml_1_1_breaks(text: &str) -> Cow<'_, str> {
    if text.contains('\u{85}') {
        Cow::Owned(text.replace('\u{85}', "\n"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Where the node at `path` starts in the first document, to place an
/// error found in the tree. With a repeated key, the last one counts.
pub fn position_of(text: &str, path: &[Segment]) -> Option<Position> {
    // Open collections: a sequence's next index, a mapping's current key
    // (`None` while a key is expected).
    enum Open {
        Sequence(usize),
        Mapping(Option<String>),
    }
    let mut open: Vec<Open> = Vec::new();
    let mut found = None;
    let text = yaml_1_1_breaks(text);
    for item in Parser::new_from_str(&text) {
        let Ok((event, span)) = item else { break };
        if let Some(Open::Mapping(key @ None)) = open.last_mut() {
            if let Event::Scalar(text, style, _, tag) = &event {
                *key = Some(
                    scalar_value(text, *style, tag.as_deref())
                        .ok()
                        .and_then(|value| key_string(value).ok())
                        .unwrap_or_else(|| text.to_string()),
                );
                continue;
            }
        }
        let here = open.iter().filter_map(|frame| match frame {
            Open::Sequence(index) => Some(Segment::Index(*index)),
            Open::Mapping(key) => key.clone().map(Segment::Key),
        });
        let completes_node = match event {
            Event::Scalar(..) | Event::Alias(_) => {
                if here.eq(path.iter().cloned()) {
                    found = Some(position(span));
                }
                true
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if here.eq(path.iter().cloned()) {
                    found = Some(position(span));
                }
                open.push(match event {
                    Event::MappingStart(..) => Open::Mapping(None),
                    _ => Open::Sequence(0),
                });
                false
            }
            Event::MappingEnd | Event::SequenceEnd => {
                open.pop();
                true
            }
            Event::DocumentEnd => break,
            _ => false,
        };
        if completes_node {
            match open.last_mut() {
                Some(Open::Sequence(index)) => *index += 1,
                Some(Open::Mapping(key)) => *key = None,
                None => {}
            }
        }
    }
    found
}

fn position(span: Span) -> Position {
    Position {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

/// A value being built from events.
enum Frame {
    Sequence {
        items: Vec<Value>,
        anchor: usize,
    },
    Mapping {
        map: Map<String, Value>,
        slot: Slot,
        anchor: usize,
    },
}

/// What a mapping expects next.
enum Slot {
    Key,
    Value(String),
    MergeValue,
}

/// An anchored value with its size, for the alias budget.
struct Anchored {
    value: Value,
    nodes: usize,
    depth: usize,
}

struct Builder<'a> {
    parser: Parser<'a, StrInput<'a>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    alias_nodes: usize,
}

type Step = Result<Option<Value>, ReadError>;

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
        Builder {
            parser: Parser::new_from_str(text),
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
        }
    }

    /// Reads up to `limit` documents; what follows them is not parsed.
    fn documents(mut self, limit: usize) -> Result<Vec<Value>, ReadError> {
        let mut documents = Vec::new();
        let mut root = None;
        while documents.len() < limit {
            let Some(item) = self.parser.next() else {
                break;
            };
            let (event, span) = item.map_err(|e| self.scan_error(&e))?;
            match event {
                Event::DocumentEnd => {
                    documents.push(root.take().unwrap_or(Value::Null));
                    self.anchors.clear();
                    self.alias_nodes = 0;
                }
                Event::StreamEnd => break,
                event => {
                    if let Some(value) = self.event(event, span)? {
                        root = Some(value);
                    }
                }
            }
        }
        Ok(documents)
    }

    /// Handles one event; returns the document's root once it is complete.
    fn event(&mut self, event: Event<'_>, span: Span) -> Step {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = match scalar_value(&text, style, tag.as_deref()) {
                    Err(_) if self.expects_key() && is_non_finite(&text, style, tag.as_deref()) => {
                        Value::String(non_finite_key(&text).to_owned())
                    }
                    value => value.map_err(|reason| self.error(span, reason, true))?,
                };
                if self.expects_key() {
                    let merge = style == ScalarStyle::Plain
                        && text == "<<"
                        && tag.as_deref().is_none_or(|t| is_core(t, "merge"));
                    if anchor != 0 {
                        self.remember(anchor, &value);
                    }
                    if merge {
                        self.set_slot(Slot::MergeValue);
                    } else {
                        let key = key_string(value).map_err(|r| self.error(span, r, true))?;
                        self.set_slot(Slot::Value(key));
                    }
                    return Ok(None);
                }
                self.deliver(value, anchor, span)
            }
            Event::Alias(id) => {
                let Some(anchored) = self.anchors.get(&id) else {
                    return Err(self.error(
                        span,
                        "an alias refers to a node that contains it",
                        true,
                    ));
                };
                self.alias_nodes += anchored.nodes;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(self.error(
                        span,
                        format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                        false,
                    ));
                }
                if self.stack.len() + anchored.depth > MAX_DEPTH {
                    return Err(self.too_deep(span));
                }
                let value = anchored.value.clone();
                if self.expects_key() {
                    let key = key_string(value).map_err(|r| self.error(span, r, true))?;
                    self.set_slot(Slot::Value(key));
                    return Ok(None);
                }
                // go-yaml v2 merges an alias only when it names a mapping
                // (a list of mappings must be written out).
                if self.expects_merge() && !value.is_object() {
                    return Err(self.error(span, MERGE_NEEDS_MAPPINGS, true));
                }
                self.deliver(value, 0, span)
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                if self.expects_key() {
                    return Err(self.error(span, "a key is a list or a mapping", true));
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Err(self.too_deep(span));
                }
                self.stack
                    .push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Mapping {
                            map: Map::new(),
                            slot: Slot::Key,
                            anchor,
                        }
                    } else {
                        Frame::Sequence {
                            items: Vec::new(),
                            anchor,
                        }
                    });
                Ok(None)
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let (value, anchor) = match self.stack.pop() {
                    Some(Frame::Sequence { items, anchor }) => (Value::Array(items), anchor),
                    Some(Frame::Mapping { map, anchor, .. }) => (Value::Object(map), anchor),
                    None => unreachable!("the parser balances collection events"),
                };
                self.deliver(value, anchor, span)
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) => {
                Ok(None)
            }
            Event::DocumentEnd => unreachable!("handled by the document loop"),
        }
    }

    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Mapping {
                slot: Slot::Key,
                ..
            })
        )
    }

    fn expects_merge(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Mapping {
                slot: Slot::MergeValue,
                ..
            })
        )
    }

    fn set_slot(&mut self, next: Slot) {
        if let Some(Frame::Mapping { slot, .. }) = self.stack.last_mut() {
            *slot = next;
        }
    }

    /// Hands a complete value to its parent; the root is returned.
    fn deliver(&mut self, value: Value, anchor: usize, span: Span) -> Step {
        if anchor != 0 {
            self.remember(anchor, &value);
        }
        match self.stack.last_mut() {
            None => Ok(Some(value)),
            Some(Frame::Sequence { items, .. }) => {
                items.push(value);
                Ok(None)
            }
            Some(Frame::Mapping { map, slot, .. }) => {
                match std::mem::replace(slot, Slot::Key) {
                    Slot::Value(key) => {
                        map.insert(key, value);
                    }
                    Slot::MergeValue => {
                        let sources = match value {
                            Value::Object(source) => vec![source],
                            Value::Array(items) if items.iter().all(Value::is_object) => items
                                .into_iter()
                                .filter_map(|item| match item {
                                    Value::Object(source) => Some(source),
                                    _ => None,
                                })
                                .collect(),
                            _ => return Err(self.error(span, MERGE_NEEDS_MAPPINGS, true)),
                        };
                        // go-yaml v2 merges where the `<<` stands: over the keys
                        // before it, and the earlier of several mappings wins.
                        for source in sources.into_iter().rev() {
                            map.extend(source);
                        }
                    }
                    Slot::Key => unreachable!("keys are taken before values are delivered"),
                }
                Ok(None)
            }
        }
    }

    fn remember(&mut self, anchor: usize, value: &Value) {
        let (nodes, depth) = measure(value);
        self.anchors.insert(
            anchor,
            Anchored {
                value: value.clone(),
                nodes,
                depth,
            },
        );
    }

    /// The path of the node being read, from the open collections.
    fn path(&self) -> Vec<Segment> {
        self.stack
            .iter()
            .filter_map(|frame| match frame {
                Frame::Sequence { items, .. } => Some(Segment::Index(items.len())),
                Frame::Mapping {
                    slot: Slot::Value(key),
                    ..
                } => Some(Segment::Key(key.clone())),
                Frame::Mapping {
                    slot: Slot::MergeValue,
                    ..
                } => Some(Segment::Key("<<".to_owned())),
                Frame::Mapping { .. } => None,
            })
            .collect()
    }

    fn error(&self, span: Span, reason: impl Into<String>, kubectl_refuses: bool) -> ReadError {
        ReadError {
            position: Some(position(span)),
            path: self.path(),
            reason: reason.into(),
            kubectl_refuses,
        }
    }

    fn too_deep(&self, span: Span) -> ReadError {
        self.error(
            span,
            format!("nested more than {MAX_DEPTH} levels deep"),
            false,
        )
    }

    fn scan_error(&self, e: &ScanError) -> ReadError {
        if e.info() == "recursion limit exceeded" {
            return self.too_deep(Span::empty(*e.marker()));
        }
        // The parser is stricter than go-yaml in a few corners (a tab after
        // a colon, under-indented continuation lines): kubectl may load
        // what it refuses, so this claims nothing about kubectl.
        self.error(
            Span::empty(*e.marker()),
            format!("not valid YAML: {}", e.info()),
            false,
        )
    }
}

/// Node count and depth of a value, for the alias budget.
fn measure(value: &Value) -> (usize, usize) {
    match value {
        Value::Array(items) => items
            .iter()
            .map(measure)
            .fold((1, 1), |(n, d), (cn, cd)| (n + cn, d.max(cd + 1))),
        Value::Object(map) => map
            .values()
            .map(measure)
            .fold((1, 1), |(n, d), (cn, cd)| (n + cn, d.max(cd + 1))),
        _ => (1, 1),
    }
}

fn is_core(tag: &Tag, suffix: &str) -> bool {
    tag.is_yaml_core_schema() && tag.suffix == suffix
}

/// A scalar's JSON value, as go-yaml v2 decodes it into an interface value.
fn scalar_value(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let Some(tag) = tag.filter(|t| t.is_yaml_core_schema()) else {
        // No tag, or one go-yaml does not know: the text itself, or its
        // plain meaning when untagged and unquoted.
        return if style == ScalarStyle::Plain && tag.is_none() {
            plain_value(text)
        } else {
            Ok(Value::String(text.to_owned()))
        };
    };
    let wrong = |what: &str| format!("a value tagged !!{what} is not a valid {what}");
    match tag.suffix.as_str() {
        "binary" => {
            let bytes = decode_go_base64(text)
                .ok_or_else(|| "a !!binary value is not valid base64".to_owned())?;
            Ok(Value::String(go_json_text(&bytes)))
        }
        "int" => match resolve_plain(text) {
            Scalar::Int(_) | Scalar::Uint(_) => plain_value(text),
            _ => Err(wrong("int")),
        },
        "float" => match resolve_plain(text) {
            // go-yaml v2 converts a signed integer only, not one above 2^63-1.
            Scalar::Int(i) => Ok(float(i as f64)),
            Scalar::Float(_) | Scalar::NonFinite => plain_value(text),
            _ => Err(wrong("float")),
        },
        "bool" => match resolve_plain(text) {
            Scalar::Bool(b) => Ok(Value::Bool(b)),
            _ => Err(wrong("bool")),
        },
        "null" => match resolve_plain(text) {
            Scalar::Null => Ok(Value::Null),
            _ => Err(wrong("null")),
        },
        _ => Ok(Value::String(text.to_owned())),
    }
}

/// Base64 as Go's `base64.StdEncoding` decodes it (for `!!binary` and for
/// `[]byte` fields): padded, `\r` and `\n` skipped, unused trailing bits
/// allowed.
fn decode_go_base64(text: &str) -> Option<Vec<u8>> {
    const GO_STD: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
            .with_decode_allow_trailing_bits(true),
    );
    if text.contains(['\r', '\n']) {
        let joined: Vec<u8> = text
            .bytes()
            .filter(|b| !matches!(b, b'\r' | b'\n'))
            .collect();
        GO_STD.decode(joined).ok()
    } else {
        GO_STD.decode(text).ok()
    }
}

/// Whether [`decode_go_base64`] would succeed, without decoding: the
/// `*-data` fields hold megabytes of base64 in a large kubeconfig, so the
/// body is checked in passes the compiler can vectorise.
pub(crate) fn is_go_base64(text: &str) -> bool {
    let bytes = text.as_bytes();
    let is_break = |b: u8| b == b'\r' || b == b'\n';
    // Padding may only close the text, with line breaks around it.
    let body_end = bytes
        .iter()
        .rposition(|&b| b != b'=' && !is_break(b))
        .map_or(0, |last| last + 1);
    let (body, tail) = bytes.split_at(body_end);
    let padding = tail.iter().filter(|&&b| b == b'=').count();
    let valid = body.iter().fold(true, |valid, &b| {
        valid & (b.is_ascii_alphanumeric() | (b == b'+') | (b == b'/') | is_break(b))
    });
    let breaks = body.iter().filter(|&&b| is_break(b)).count();
    valid && padding <= 2 && (body.len() - breaks + padding) % 4 == 0
}

/// Bytes as a JSON string, the way Go's encoder writes them: every byte
/// that does not begin valid UTF-8 becomes U+FFFD.
fn go_json_text(mut bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                text.push_str(valid);
                return text;
            }
            Err(e) => {
                let (valid, invalid) = bytes.split_at(e.valid_up_to());
                text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                text.push('\u{FFFD}');
                bytes = &invalid[1..];
            }
        }
    }
}

pub(super) fn plain_value(text: &str) -> Result<Value, String> {
    Ok(match resolve_plain(text) {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Bool(b),
        Scalar::Int(i) => Value::Number(i.into()),
        Scalar::Uint(u) => Value::Number(u.into()),
        Scalar::Float(f) => float(f),
        Scalar::NonFinite => {
            return Err("infinity and NaN (.inf, .nan) have no JSON form".to_owned())
        }
        Scalar::Str => Value::String(text.to_owned()),
    })
}

fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// `.inf`, `-.inf` or `.nan`, plain or tagged `!!float`.
fn is_non_finite(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> bool {
    let float = match tag {
        None => style == ScalarStyle::Plain,
        Some(tag) => is_core(tag, "float"),
    };
    float && resolve_plain(text) == Scalar::NonFinite
}

/// A non-finite float key as sigs.k8s.io/yaml writes it: JSON has no
/// infinity, but a key is text.
fn non_finite_key(text: &str) -> &'static str {
    if text.starts_with('-') {
        "-.inf"
    } else if text.to_ascii_lowercase().contains("nan") {
        ".nan"
    } else {
        ".inf"
    }
}

/// A map key as sigs.k8s.io/yaml turns it into a JSON object key.
pub(super) fn key_string(key: Value) -> Result<String, String> {
    match key {
        Value::String(text) => Ok(text),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) if n.is_i64() => Ok(n.to_string()),
        Value::Number(n) if n.is_f64() => Ok(float_key(n.as_f64().unwrap_or_default())),
        Value::Number(_) => Err("a key is an integer above 2^63-1".to_owned()),
        Value::Null => Err("a key is null".to_owned()),
        Value::Array(_) | Value::Object(_) => Err("a key is a list or a mapping".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(text: &str) -> Value {
        read_first(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn plain_scalars_take_kubectl_meaning_and_quoted_ones_stay_strings() {
        let value = read(
            "a: yes\nb: 'yes'\nc: \"on\"\nd: off\ne: 0755\nf: 1_000\ng: 0x1F\nh: ~\ni:\n\
             j: 1.5\nk: [x, y]\nl: !!str 12\nm: !!binary aGVsbG8=\nt: !custom 12\no: |\n  yes\nn: key\n",
        );
        assert_eq!(
            value,
            json!({"a": true, "b": "yes", "c": "on", "d": false, "e": 493, "f": 1000,
                   "g": 31, "h": null, "i": null, "j": 1.5, "k": ["x", true], "l": "12",
                   "m": "hello", "t": "12", "o": "yes\n", "false": "key"})
        );
    }

    #[test]
    fn explicit_core_tags_convert_or_refuse() {
        assert_eq!(
            read("a: !!int '12'\nb: !!float 3\nc: !!bool 'Y'\nd: !!null ''\n"),
            json!({"a": 12, "b": 3.0, "c": true, "d": null})
        );
        for bad in [
            "a: !!int x\n",
            "a: !!bool 1\n",
            "a: !!float 18446744073709551615\n",
            "a: !!null x\n",
            "a: !!binary '%%'\n",
        ] {
            let err = read_first(bad).unwrap_err();
            assert!(err.kubectl_refuses, "{bad}: {err}");
            assert_eq!(err.path, [Segment::Key("a".into())], "{bad}");
        }
    }

    #[test]
    fn merge_keys_apply_where_they_stand() {
        let value = read(
            "base: &base {server: 'https://a', ca: x}\n\
             other: &other {ca: y, proxy: z}\n\
             one: {<<: *base}\n\
             two:\n  server: https://b\n  <<: [*base, *other]\n\
             three: {ca: mine, <<: *base}\n\
             four: {<<: *base, ca: mine}\n\
             quoted: {'<<': *base}\n",
        );
        assert_eq!(value["one"], json!({"server": "https://a", "ca": "x"}));
        // As kubectl reads them: a key before the `<<` is overwritten, a
        // key after it wins, and the earlier of merged mappings wins.
        assert_eq!(
            value["two"],
            json!({"server": "https://a", "ca": "x", "proxy": "z"})
        );
        assert_eq!(value["three"], json!({"ca": "x", "server": "https://a"}));
        assert_eq!(value["four"], json!({"server": "https://a", "ca": "mine"}));
        assert_eq!(
            value["quoted"],
            json!({"<<": {"server": "https://a", "ca": "x"}})
        );
        for bad in ["a: {<<: [1]}\n", "l: &l [{a: 1}]\nm: {<<: *l}\n"] {
            let err = read_first(bad).unwrap_err();
            assert!(err.reason.contains("merge") && err.kubectl_refuses, "{err}");
        }
    }

    #[test]
    fn a_repeated_key_keeps_the_last_value_at_the_first_place() {
        let value = read("a: 1\nb: 2\na: 3\n");
        assert_eq!(value, json!({"a": 3, "b": 2}));
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn keys_become_strings_as_sigs_k8s_yaml_makes_them() {
        assert_eq!(
            read(&format!("{}: big\n", "8".repeat(100))),
            json!({".inf": "big"})
        );
        assert_eq!(
            read("1: a\ntrue: b\n1.5: c\n0x10: d\nyes: e\n"),
            json!({"1": "a", "true": "e", "1.5": "c", "16": "d"})
        );
        for bad in [
            "~: a\n",
            "18446744073709551615: a\n",
            "? [a]\n: b\n",
            "? {a: 1}\n: b\n",
        ] {
            assert!(read_first(bad).unwrap_err().kubectl_refuses, "{bad}");
        }
    }

    #[test]
    fn non_finite_keys_are_text_as_kubectl_makes_them() {
        assert_eq!(
            read("{.inf: a, +.Inf: b, -.INF: c, .NaN: d, !!float .nan: e}\n"),
            json!({".inf": "b", "-.inf": "c", ".nan": "e"})
        );
        assert!(read_first("{a: .inf}\n").unwrap_err().kubectl_refuses);
    }

    #[test]
    fn binary_is_go_base64_and_invalid_utf8_becomes_one_replacement_per_byte() {
        assert_eq!(
            read("a: !!binary QR==\nb: !!binary YeKCYg==\nc: !!binary gA==\n"),
            json!({"a": "A", "b": "a\u{FFFD}\u{FFFD}b", "c": "\u{FFFD}"})
        );
    }

    #[test]
    fn nel_is_a_line_break_as_in_yaml_1_1() {
        assert_eq!(
            read("a: \"x\u{85}  y\"\nb: 'x\u{85}\u{85} y'\nc: \"x\u{2028}y\"\nd: \"\\N\"\n"),
            json!({"a": "x y", "b": "x\ny", "c": "x\u{2028}y", "d": "\u{85}"})
        );
        // Lines are counted as kubectl counts them.
        let at = position_of("a: 1\u{85}b: 2\n", &[Segment::Key("b".into())]);
        assert_eq!(at, Some(Position { line: 2, column: 4 }));
    }

    #[test]
    fn base64_is_checked_as_it_is_decoded() {
        for text in [
            "",
            "QQ==",
            "QR==",
            "QUI=",
            "QUJD",
            "QQ==\n",
            "Q\r\nQ==",
            "QQ=\n=",
            "QQ",
            "QQ=",
            "Q===",
            "====",
            "QQ=Q",
            "QQ==QQ==",
            "QQ== ",
            " QQ==",
            "QQ-_",
            "QUJD\nQUJD",
            "QUJDQQ",
            "Zg==\n\n",
        ] {
            assert_eq!(
                is_go_base64(text),
                decode_go_base64(text).is_some(),
                "{text:?}"
            );
        }
        // Every text of up to six characters from a small alphabet.
        let alphabet = ['Q', 'A', '=', '\n', '+', '-'];
        let mut texts = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            for text in &longer {
                assert_eq!(
                    is_go_base64(text),
                    decode_go_base64(text).is_some(),
                    "{text:?}"
                );
            }
            texts = longer;
        }
    }

    #[test]
    fn only_the_first_document_counts() {
        assert_eq!(read("a: 1\n---\nb: [unclosed\n"), json!({"a": 1}));
        assert_eq!(read("---\na: 1\n...\n"), json!({"a": 1}));
        assert_eq!(read(""), Value::Null);
        assert_eq!(read("# comment only\n"), Value::Null);
        assert_eq!(
            read_all("a: 1\n---\nb: 2\n").unwrap(),
            [json!({"a": 1}), json!({"b": 2})]
        );
    }

    #[test]
    fn non_finite_floats_are_refused_as_kubectl_does() {
        let err = read_first("x:\n  z: .inf\n").unwrap_err();
        assert!(err.kubectl_refuses);
        assert_eq!(err.position, Some(Position { line: 2, column: 6 }));
        assert_eq!(err.to_string(), "line 2, column 6, at x.z: infinity and NaN (.inf, .nan) have no JSON form (kubectl cannot load it either)");
    }

    #[test]
    fn billion_laughs_is_refused_quickly() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        let err = read_first(&text).unwrap_err();
        assert!(err.reason.contains("aliases expand"), "{err}");
        assert!(!err.kubectl_refuses);
    }

    #[test]
    fn nesting_is_bounded_in_flow_and_block_style() {
        for depth in [MAX_DEPTH + 1, 200_000] {
            let flow = format!("deep: {}{}", "[".repeat(depth), "]".repeat(depth));
            assert!(read_first(&flow).unwrap_err().reason.contains("nested"));
        }
        let mut block = String::from("deep:\n");
        for level in 0..=MAX_DEPTH {
            block.push_str(&" ".repeat(level + 1));
            block.push_str("-\n");
        }
        assert!(read_first(&block).unwrap_err().reason.contains("nested"));
        // Aliases cannot stack past the bound either.
        let mut stacked = format!("a0: &a0 {}{}\n", "[".repeat(200), "]".repeat(200));
        stacked.push_str("a1: &a1 [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a0]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n");
        assert!(read_first(&stacked).unwrap_err().reason.contains("nested"));
    }

    #[test]
    fn syntax_errors_give_position_and_path_without_content() {
        let err = read_first("users:\n- name: u\n  user:\n    token: \"s3cr3t\n").unwrap_err();
        assert!(err.position.is_some(), "{err}");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        // saphyr-parser is stricter than go-yaml in corners: no claim about kubectl.
        assert!(!err.kubectl_refuses);
        let tab_after_colon = read_first("a:\tb\n");
        if let Err(err) = tab_after_colon {
            assert!(!err.kubectl_refuses, "{err}");
        }
    }

    #[test]
    fn positions_are_found_by_path() {
        let text = "users:\n- name: a\n  user: {}\n- name: b\n  user:\n    exec:\n      provideClusterInfo: 5\n";
        let path = [
            Segment::Key("users".into()),
            Segment::Index(1),
            Segment::Key("user".into()),
            Segment::Key("exec".into()),
            Segment::Key("provideClusterInfo".into()),
        ];
        assert_eq!(
            position_of(text, &path),
            Some(Position {
                line: 7,
                column: 27
            })
        );
        assert_eq!(
            PathDisplay(&path).to_string(),
            "users[1].user.exec.provideClusterInfo"
        );
        assert_eq!(position_of(text, &[Segment::Key("nope".into())]), None);
    }
}
