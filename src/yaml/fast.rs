//! A fast path for the block-style YAML that kubectl and kubefetch write.
//!
//! Large kubeconfigs are megabytes of base64 in a few shapes: block
//! mappings and sequences, one plain or quoted scalar per line. This reader
//! handles exactly those shapes with a few comparisons per byte and gives
//! up (`None`) at the first thing outside them — comments, anchors, tags,
//! flow collections with content, block scalars, multi-line scalars,
//! non-ASCII text — leaving the document to the full reader. Where it
//! answers, the answer is the full reader's (a differential test and a fuzz
//! target hold it to that).

use serde_json::{Map, Value};

use super::read::{key_string, plain_value, MAX_DEPTH};

/// One line that holds something: its indentation and its text without
/// the indentation and trailing spaces.
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// The document's tree, or `None` when the full reader must decide.
pub fn read_block(text: &str) -> Option<Value> {
    if !text.is_ascii() {
        return None;
    }
    let mut lines = Vec::with_capacity(text.len() / 64);
    for raw in text.split('\n') {
        let content = raw.trim_end_matches(' ');
        let body = content.trim_start_matches(' ');
        if body.is_empty() {
            continue;
        }
        if body.starts_with('#') {
            return None;
        }
        lines.push(Line {
            indent: content.len() - body.len(),
            text: body,
        });
    }
    let mut reader = Reader { lines, next: 0 };
    let first = *reader.lines.first()?;
    if first.indent != 0 {
        return None;
    }
    let value = reader.block(0, 1)?;
    (reader.next == reader.lines.len()).then_some(value)
}

struct Reader<'a> {
    lines: Vec<Line<'a>>,
    next: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.next).copied()
    }

    /// The block node whose first line is the next one, at `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let line = self.peek()?;
        if is_item(line.text) {
            self.sequence(indent, depth)
        } else {
            self.mapping(indent, depth)
        }
    }

    fn mapping(&mut self, indent: usize, depth: usize) -> Option<Value> {
        let mut map = Map::new();
        while let Some(line) = self.peek().filter(|l| l.indent == indent) {
            if is_item(line.text) {
                // A sequence cannot follow a mapping's entries at its level.
                return None;
            }
            let (key, rest) = split_key(line.text)?;
            self.next += 1;
            let value = if rest.is_empty() {
                self.nested_value(indent, depth)?
            } else {
                let value = inline_value(rest)?;
                self.ends_at(indent)?;
                value
            };
            map.insert(key, value);
        }
        self.ends_at(indent)?;
        Some(Value::Object(map))
    }

    fn sequence(&mut self, indent: usize, depth: usize) -> Option<Value> {
        let mut items = Vec::new();
        // A key at this indentation ends a sequence that is a key's value.
        while let Some(line) = self
            .peek()
            .filter(|l| l.indent == indent && is_item(l.text))
        {
            let after_dash = &line.text[1..];
            let rest = after_dash.trim_start_matches(' ');
            let item = if rest.is_empty() {
                self.next += 1;
                match self.peek() {
                    Some(next) if next.indent > indent => self.block(next.indent, depth + 1)?,
                    _ => Value::Null,
                }
            } else if is_item(rest) {
                return None;
            } else if split_key(rest).is_some() {
                // `- key: value`: a mapping whose first entry shares the dash's line.
                let column = indent + 1 + (after_dash.len() - rest.len());
                self.lines[self.next] = Line {
                    indent: column,
                    text: rest,
                };
                self.mapping(column, depth + 1)?
            } else {
                self.next += 1;
                let value = inline_value(rest)?;
                self.ends_at(indent)?;
                value
            };
            items.push(item);
        }
        self.ends_at(indent)?;
        Some(Value::Array(items))
    }

    /// The value of `key:` with nothing after the colon: a block on the
    /// following lines (a sequence may sit at the key's own indentation), or null.
    fn nested_value(&mut self, indent: usize, depth: usize) -> Option<Value> {
        match self.peek() {
            Some(next) if next.indent > indent => self.block(next.indent, depth + 1),
            Some(next) if next.indent == indent && is_item(next.text) => {
                self.sequence(indent, depth + 1)
            }
            _ => Some(Value::Null),
        }
    }

    /// A collection at `indent` ends where a line is less indented; a more
    /// indented one fits no open collection, and after a one-line scalar it
    /// would continue the scalar.
    fn ends_at(&self, indent: usize) -> Option<()> {
        match self.peek() {
            Some(next) if next.indent > indent => None,
            _ => Some(()),
        }
    }
}

/// `-` alone or `- ...`: a sequence entry.
fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// `key:` or `key: value` with a plain key of ordinary characters.
fn split_key(text: &str) -> Option<(String, &str)> {
    let colon = text.find(':')?;
    let (key, after) = (&text[..colon], &text[colon + 1..]);
    let rest = match after.as_bytes().first() {
        None => "",
        Some(b' ') => after.trim_start_matches(' '),
        Some(_) => return None,
    };
    let bytes = key.as_bytes();
    let first = *bytes.first()?;
    let ordinary = |b: u8| b.is_ascii_alphanumeric() || b"-_./+@".contains(&b);
    if !(first.is_ascii_alphanumeric() || b"_./".contains(&first))
        || !bytes.iter().all(|&b| ordinary(b))
    {
        return None;
    }
    let key = key_string(plain_value(key).ok()?).ok()?;
    Some((key, rest))
}

/// A scalar or an empty collection that is the rest of a line.
fn inline_value(text: &str) -> Option<Value> {
    match text.as_bytes()[0] {
        b'"' => double_quoted(text).map(Value::String),
        b'\'' => single_quoted(text).map(Value::String),
        _ if text == "{}" => Some(Value::Object(Map::new())),
        _ if text == "[]" => Some(Value::Array(Vec::new())),
        _ if is_plain(text) => plain_value(text).ok(),
        _ => None,
    }
}

/// A one-line plain scalar of printable ASCII that nothing could read as
/// a comment, a key, a flow collection or another indicator.
fn is_plain(text: &str) -> bool {
    let bytes = text.as_bytes();
    let first = bytes[0];
    let starts_well = first.is_ascii_alphanumeric()
        || b"/._+~=(".contains(&first)
        || (first == b'-' && bytes.get(1).is_some_and(u8::is_ascii_alphanumeric));
    if !starts_well || bytes[bytes.len() - 1] == b':' {
        return false;
    }
    // Printable ASCII without flow indicators; no early exit, so the loop
    // is vectorised (base64 certificates are most of a kubeconfig's bytes).
    let odd = bytes.iter().fold(false, |odd, &b| {
        odd | !(0x20..0x7f).contains(&b)
            | (b == b'[')
            | (b == b']')
            | (b == b'{')
            | (b == b'}')
            | (b == b',')
    });
    !odd && !text.contains(" #") && !text.contains(": ")
}

/// `"..."` closing at the end of the line, with YAML's escapes.
fn double_quoted(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if has_control(inner) {
        return None;
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return None,
            '\\' => {
                let escaped = match chars.next()? {
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    't' => '\t',
                    'n' => '\n',
                    'v' => '\u{b}',
                    'f' => '\u{c}',
                    'r' => '\r',
                    'e' => '\u{1b}',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' => hex_char(&mut chars, 2)?,
                    'u' => hex_char(&mut chars, 4)?,
                    'U' => hex_char(&mut chars, 8)?,
                    _ => return None,
                };
                out.push(escaped);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

fn hex_char(chars: &mut std::str::Chars<'_>, digits: usize) -> Option<char> {
    let hex: String = chars.by_ref().take(digits).collect();
    if hex.len() != digits || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)
}

/// `'...'` closing at the end of the line; `''` is a quote.
fn single_quoted(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    if has_control(inner) || inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

/// YAML refuses raw control characters in quoted scalars (tabs aside,
/// which this path leaves to the full reader too).
fn has_control(text: &str) -> bool {
    text.bytes().any(|b| b < 0x20 || b == 0x7f)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::yaml::read::full_first;

    /// The fast path either declines or agrees with the full reader.
    fn agrees(text: &str) -> bool {
        match read_block(text) {
            None => false,
            Some(fast) => {
                assert_eq!(Ok(fast), full_first(text), "{text:?}");
                true
            }
        }
    }

    #[test]
    fn reads_what_kubectl_and_kubefetch_write() {
        let text = "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: Q0E=\n    \
                    server: https://1.2.3.4:6443\n  name: a\ncontexts:\n- context:\n    cluster: a\n    \
                    extensions:\n    - name: kubefetch\n      extension:\n        private: false\n        \
                    fetchedAt: \"2026-11-22T10:00:00Z\"\n    user: a\n  name: a\ncurrent-context: a\n\
                    kind: Config\npreferences: {}\nusers:\n- name: a\n  user:\n    token: 'it''s'\n    \
                    as-groups:\n    - x\n    - \"y\\u00e9\"\n    empty:\n    other: []\n";
        assert!(agrees(text));
        assert_eq!(
            read_block(text).unwrap()["users"][0]["user"]["token"],
            json!("it's")
        );
        assert!(agrees(
            "a:\n  - 1\n  -\n  - [] \n  - -x\nb:\n- k: v\n  l: w\n-   m: n\n    o: p\n"
        ));
    }

    #[test]
    fn declines_what_only_the_full_reader_handles() {
        for text in [
            "# comment\na: 1\n",
            "a: 1 # comment\n",
            "a: &x 1\nb: *x\n",
            "a: !t 1\n",
            "a: |\n  text\n",
            "a: {b: 1}\n",
            "a: [1]\n",
            "a: plain\n  continued\n",
            "- a\n  b\n",
            "---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a: é\n",
            "a:\tb\n",
            "a: b\r\n",
            "<<: {a: 1}\n",
            "\"q\": 1\n",
            "- - nested\n",
            "a: 1\n b: 2\n",
            "a:\n  b: 1\n c: 2\n",
            "a: .inf\n",
            "null: 1\n",
            "a: \"unterminated\n",
            "a: \"\\q\"\n",
            "a: \"tab\there\"\n",
            "a: b: c\n",
            "a: b:\n",
            "",
            "  a: 1\n",
        ] {
            assert!(read_block(text).is_none(), "{text:?}");
        }
    }

    /// Random documents of tricky lines: wherever the fast path answers,
    /// the full reader gives the same tree.
    #[test]
    fn random_documents_agree_with_the_full_reader() {
        struct Rng(u64);
        impl Rng {
            fn below(&mut self, n: usize) -> usize {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                (self.0 % n as u64) as usize
            }
            fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
                from[self.below(from.len())]
            }
        }
        // Entries at `indent`; the first may share a dash's line (`lead`).
        fn mapping(
            rng: &mut Rng,
            lines: &mut Vec<(usize, String)>,
            indent: usize,
            depth: usize,
            lead: Option<usize>,
        ) {
            for i in 0..1 + rng.below(3) {
                let tricky = rng.below(4) == 0;
                let key = rng.pick(if tricky { KEYS } else { &["a", "b", "c"] });
                let (at, prefix) = match (i, lead) {
                    (0, Some(dash)) => (dash, "- "),
                    _ => (indent, ""),
                };
                match rng.below(if depth > 3 { 2 } else { 5 }) {
                    0 => lines.push((at, format!("{prefix}{key}: {}", rng.pick(VALUES)))),
                    1 => lines.push((at, format!("{prefix}{key}:"))),
                    2 => {
                        lines.push((at, format!("{prefix}{key}:")));
                        mapping(rng, lines, indent + 2, depth + 1, None);
                    }
                    _ => {
                        lines.push((at, format!("{prefix}{key}:")));
                        let at = indent + 2 * rng.below(2);
                        sequence(rng, lines, at, depth + 1);
                    }
                }
            }
        }
        fn sequence(rng: &mut Rng, lines: &mut Vec<(usize, String)>, indent: usize, depth: usize) {
            for _ in 0..1 + rng.below(3) {
                match rng.below(if depth > 3 { 2 } else { 4 }) {
                    0 => lines.push((indent, format!("- {}", rng.pick(VALUES)))),
                    1 => lines.push((indent, "-".to_owned())),
                    2 => mapping(rng, lines, indent + 2, depth + 1, Some(indent)),
                    _ => {
                        lines.push((indent, "-".to_owned()));
                        mapping(rng, lines, indent + 2, depth + 1, None);
                    }
                }
            }
        }
        const KEYS: &[&str] = &[
            "a", "b", "yes", "No", "1", "0x1F", "1.5", "null", "~", "-k", "k k", "a.b", "<<",
            "\"q\"", "on", "_x", "/p", "a#b", "k:", "",
        ];
        const VALUES: &[&str] = &[
            "v",
            "yes",
            "0755",
            "1_000",
            "-1",
            "+.5",
            ".nan",
            "~",
            "null",
            "x y",
            "x  y",
            "a:b",
            "a: b",
            "a #c",
            "a#c",
            "'q''q'",
            "'q'q'",
            "\"e\\u00e9\\x41\\n\"",
            "\"a\\\"b\"",
            "\"a\"b\"",
            "{}",
            "[]",
            "{a: 1}",
            "[x]",
            "*x",
            "&x v",
            "!t v",
            "|",
            ">",
            "-",
            "- x",
            "@x",
            "%x",
            "`x",
            "?x",
            ":x",
            ",x",
            "x,",
            "x]",
            "(x)",
            "=x",
            "é",
            "x\\",
            "http://h:1/p",
            "2026-01-01",
            "0b11",
            "08",
            "1e3",
            "-.inf",
            "'",
            "\"",
            "x:",
            "#x",
            "x ",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut answered = 0;
        for _ in 0..20_000 {
            let mut lines = Vec::new();
            if rng.below(3) == 0 {
                sequence(&mut rng, &mut lines, 0, 0);
            } else {
                mapping(&mut rng, &mut lines, 0, 0, None);
            }
            let mut text = String::new();
            for (indent, line) in lines {
                // Now and then a line is misplaced by one column.
                let indent = match rng.below(40) {
                    0 => indent + 1,
                    1 => indent.saturating_sub(1),
                    _ => indent,
                };
                text.push_str(&" ".repeat(indent));
                text.push_str(&line);
                text.push_str(["\n", "\n", "\n", "\n\n", "  \n"][rng.below(5)]);
            }
            if agrees(&text) {
                answered += 1;
            }
        }
        // The generator must exercise the fast path, not only its refusals.
        assert!(
            answered > 3_000,
            "only {answered} documents took the fast path"
        );
    }
}
