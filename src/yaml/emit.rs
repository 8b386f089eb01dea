//! A block-style YAML writer for JSON trees (what kubectl's reader makes
//! of YAML), laid out as kubectl writes kubeconfigs.
//!
//! Writing through a general emitter inspects every character through
//! layers of machinery; kubeconfigs only need a small part of YAML, so this
//! writer covers exactly that part, and covers all of it: every JSON tree
//! is written, and reads back as itself.
//!
//! Strings are written plain only when no YAML 1.1 or 1.2 reader (kubectl
//! reads YAML 1.1) could take them for anything but the same string;
//! everything else is double-quoted with escapes.

use serde_json::{Map, Number, Value};

use super::resolve::{resolve_plain, Scalar};

/// YAML readers take a key without `? ` only up to 1024 characters; a
/// longer one (counted in bytes here, which is never fewer) is written as
/// an explicit key.
const LONGEST_IMPLICIT_KEY: usize = 1024;

/// The document as block YAML, ending with a newline.
pub fn to_block_yaml(value: &Value) -> String {
    // Sized up front: a kubeconfig can be tens of megabytes, and growing
    // the text by doubling would hold two copies of it at once.
    let mut out = String::with_capacity(estimated_len(value, 0));
    match value {
        Value::Object(map) if !map.is_empty() => mapping(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => sequence(&mut out, items, 0),
        other => {
            inline(&mut out, other);
            out.push('\n');
        }
    }
    out
}

/// A top-level mapping written entry by entry to `sink`, so that a large
/// document never exists as one text: each list item can be made, written
/// and dropped in turn. The text is exactly what `to_block_yaml` writes
/// for the same mapping.
pub struct BlockWriter<W: std::io::Write> {
    buffer: String,
    sink: W,
}

/// Written to the sink in pieces of about this size.
const FLUSH_AT: usize = 64 * 1024;

impl<W: std::io::Write> BlockWriter<W> {
    pub fn new(sink: W) -> Self {
        BlockWriter {
            buffer: String::with_capacity(FLUSH_AT * 2),
            sink,
        }
    }

    /// `key: value` at the top level.
    pub fn entry(&mut self, key: &str, value: &Value) -> std::io::Result<()> {
        entry(&mut self.buffer, key, value, 0);
        self.flush_if_full()
    }

    /// `key:` and a list whose items are made one at a time.
    pub fn list_entry(
        &mut self,
        key: &str,
        items: impl IntoIterator<Item = Value>,
    ) -> std::io::Result<()> {
        let mut items = items.into_iter().peekable();
        if items.peek().is_none() {
            return self.entry(key, &Value::Array(Vec::new()));
        }
        let indent = if push_key(&mut self.buffer, key, 0) {
            2
        } else {
            0
        };
        self.buffer.push_str(":\n");
        for item in items {
            sequence(&mut self.buffer, std::slice::from_ref(&item), indent);
            self.flush_if_full()?;
        }
        Ok(())
    }

    /// Writes what is left and hands back the sink.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.sink.write_all(self.buffer.as_bytes())?;
        Ok(self.sink)
    }

    fn flush_if_full(&mut self) -> std::io::Result<()> {
        if self.buffer.len() >= FLUSH_AT {
            self.sink.write_all(self.buffer.as_bytes())?;
            self.buffer.clear();
        }
        Ok(())
    }
}

/// About the written size: text, keys, indentation and punctuation.
fn estimated_len(value: &Value, indent: usize) -> usize {
    match value {
        Value::String(text) => text.len() + 8,
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| indent + key.len() + 4 + estimated_len(value, indent + 2))
            .sum(),
        Value::Array(items) => items
            .iter()
            .map(|item| indent + 2 + estimated_len(item, indent + 2))
            .sum(),
        _ => 24,
    }
}

/// Entries at `indent`; with `continues_line` the first one follows a
/// sequence dash already written on the current line.
fn mapping(out: &mut String, map: &Map<String, Value>, indent: usize, continues_line: bool) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !continues_line {
            push_indent(out, indent);
        }
        entry(out, key, value, indent);
    }
}

/// `key: value` once the indentation is written.
fn entry(out: &mut String, key: &str, value: &Value, indent: usize) {
    if push_key(out, key, indent) {
        value_after_colon(out, value, indent + 2, indent + 2);
    } else {
        // A sequence under a key sits at the key's own indentation, as
        // kubectl writes `clusters:` followed by `- name: ...`.
        value_after_colon(out, value, indent + 2, indent);
    }
}

/// Writes a key (indentation already written); a key too long to be
/// implicit becomes `? key` with the colon on the next line at `indent`,
/// and `true` says the value then nests one level deeper.
fn push_key(out: &mut String, key: &str, indent: usize) -> bool {
    let key_start = out.len();
    push_string(out, key);
    if out.len() - key_start <= LONGEST_IMPLICIT_KEY {
        return false;
    }
    let written = out.split_off(key_start);
    out.push_str("? ");
    out.push_str(&written);
    out.push('\n');
    push_indent(out, indent);
    true
}

/// `:` and the value: nested collections on the next lines, anything else inline.
fn value_after_colon(out: &mut String, value: &Value, map_indent: usize, seq_indent: usize) {
    out.push(':');
    match value {
        Value::Object(inner) if !inner.is_empty() => {
            out.push('\n');
            mapping(out, inner, map_indent, false);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            sequence(out, items, seq_indent);
        }
        other => {
            out.push(' ');
            inline(out, other);
            out.push('\n');
        }
    }
}

fn sequence(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        push_indent(out, indent);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                mapping(out, map, indent + 2, true);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                sequence(out, inner, indent + 2);
            }
            other => {
                out.push(' ');
                inline(out, other);
                out.push('\n');
            }
        }
    }
}

/// A scalar or an empty collection, on the current line.
fn inline(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => push_number(out, number),
        Value::String(text) => push_string(out, text),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn push_string(out: &mut String, text: &str) {
    if is_plain_safe(text) {
        out.push_str(text);
    } else {
        push_double_quoted(out, text);
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn push_number(out: &mut String, number: &Number) {
    // JSON's numbers are YAML 1.1 numbers: integers, and floats that always
    // carry a `.` or an exponent (`1.0`, `1e21`).
    use std::fmt::Write;
    let _ = write!(out, "{number}");
}

/// Bytes a plain scalar may hold: no space, comment, quote, flow or other
/// indicator character, and ASCII only. No early exit: the loop is
/// vectorised, and base64 certificates are most of a kubeconfig's bytes.
fn plain_bytes_only(bytes: &[u8]) -> bool {
    bytes.iter().fold(true, |ok, &b| {
        ok & (b.is_ascii_alphanumeric()
            | (b == b'-')
            | (b == b'_')
            | (b == b'.')
            | (b == b'/')
            | (b == b'+')
            | (b == b'=')
            | (b == b':')
            | (b == b'@'))
    })
}

/// Whether `text` reads back as this very string when written plain, in
/// YAML 1.2 and in YAML 1.1 alike. Deliberately narrow: a string outside
/// it is merely quoted.
fn is_plain_safe(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    (first.is_ascii_alphanumeric() || b"/._+".contains(&first))
        && last != b':'
        && plain_bytes_only(bytes)
        && !may_read_as_another_type(text)
        && resolve_plain(text) == Scalar::Str
}

/// Numbers of either YAML version (including YAML 1.1 sexagesimal and `_`
/// separators) are digits and these signs, or carry a base prefix;
/// booleans and nulls are a short list; dates start `dddd-`.
fn may_read_as_another_type(text: &str) -> bool {
    let bytes = text.as_bytes();
    let unsigned = text.trim_start_matches(['+', '-']);
    let base_prefixed = ["0x", "0o", "0b"].iter().any(|prefix| {
        unsigned
            .get(..2)
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    });
    const KEYWORDS: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", ".inf", "+.inf", "-.inf",
        ".nan",
    ];
    base_prefixed
        || bytes
            .iter()
            .all(|&b| b.is_ascii_digit() || b".+-_:eE".contains(&b))
        || KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(text))
        || (bytes.len() >= 5 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-')
}

/// A YAML double-quoted scalar; JSON's escapes are a subset of YAML's.
fn push_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // Controls, the characters YAML treats as line breaks or a BOM,
            // and the two noncharacters YAML readers refuse to read raw.
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::yaml::read_first;

    fn round_trips(value: &Value) {
        let text = to_block_yaml(value);
        let back =
            read_first(&text).unwrap_or_else(|err| panic!("unparseable output {text:?}: {err}"));
        assert_eq!(&back, value, "written as {text:?}");
    }

    fn read(text: &str) -> Value {
        read_first(text).unwrap()
    }

    const TRICKY: &[&str] = &[
        "",
        " ",
        "true",
        "True",
        "FALSE",
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "N",
        "null",
        "Null",
        "~",
        "0",
        "-1",
        "+1",
        "1.5",
        "1e5",
        "0x1F",
        "-0X1f",
        "0o17",
        "0b101",
        "+0b1",
        "017",
        "1_000",
        "1:20",
        ".5",
        ".inf",
        "-.Inf",
        ".NaN",
        "-",
        "--",
        "---",
        "...",
        "- a",
        "a: b",
        "a:",
        "a:b",
        "a #b",
        "#c",
        "@x",
        "`x",
        "!x",
        "&a",
        "*a",
        "%x",
        "|",
        ">",
        "?",
        "? x",
        "?x",
        ":x",
        "-x",
        "=",
        "<<",
        "'q'",
        "\"dq\"",
        "[a]",
        "{a}",
        "a,b",
        "a b",
        " lead",
        "trail ",
        "multi\nline",
        "ends with newline\n",
        "tab\there",
        "cr\rlf",
        "back\\slash",
        "unicode é 日本",
        "\u{85}",
        "\u{2028}",
        "\u{7f}",
        "\u{1}",
        "\u{feff}bom",
        "2026-11-22T10:00:00Z",
        "2026-11-22",
        "https://1.2.3.4:6443",
        "system:masters",
        "cls-65r1c5nu",
        "deadbeef",
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM=",
        "/etc/kubernetes/pki",
        "a/b+c=",
    ];

    #[test]
    fn every_tricky_string_reads_back_as_itself() {
        for text in TRICKY {
            round_trips(&Value::String((*text).to_owned()));
            round_trips(&json!([{ *text: *text }]));
        }
    }

    #[test]
    fn random_strings_read_back_as_themselves() {
        const ALPHABET: &[char] = &[
            'a', 'Z', '0', '1', 'e', 'x', '.', '-', '+', '_', ':', '/', '=', '@', ' ', '#', '\'',
            '"', '\\', '\n', '\t', '!', '&', '*', '?', '|', '>', '%', '`', ',', '[', ']', '{', '}',
            '~', 'é', '\u{85}',
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 6) as usize;
            let text: String = (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            round_trips(&Value::String(text));
        }
    }

    #[test]
    fn numbers_booleans_nulls_and_empty_collections() {
        let value = read(
            "a: 1\nb: -7\nc: 1.5\nf: true\ng: null\nh: {}\ni: []\n\
             j: 18446744073709551615\nk: 1.0e+20\nl: 1e21\nm: -0.0\nn: 1.5e-7\n\
             3: int key\ntrue: bool key\n",
        );
        assert_eq!(value["k"], json!(1e20));
        round_trips(&value);
    }

    #[test]
    fn nested_shapes_keep_their_structure() {
        let text = r#"
top:
  list:
  - - nested
    - seq
  - []
  - {}
  - name: x
    inner:
      deep: [1, {k: v}]
  - plain
empty-top: {}
"#;
        round_trips(&read(text));
        round_trips(&Value::Null);
        round_trips(&json!(["a", []]));
    }

    #[test]
    fn writes_the_kubectl_layout() {
        let value = read(
            "clusters: [{name: a, cluster: {server: 'https://a:6443'}}]\n\
             contexts: [{name: a, context: {cluster: a, extensions: [{name: kubefetch, \
             extension: {fetchedAt: '2026-11-22T10:00:00Z'}}]}}]\n",
        );
        assert_eq!(
            to_block_yaml(&value),
            "clusters:\n- name: a\n  cluster:\n    server: https://a:6443\n\
             contexts:\n- name: a\n  context:\n    cluster: a\n    extensions:\n    \
             - name: kubefetch\n      extension:\n        fetchedAt: \"2026-11-22T10:00:00Z\"\n"
        );
    }

    /// Found by fuzzing: U+FFFE and U+FFFF were written raw, and a YAML
    /// reader refuses the whole document for them.
    #[test]
    fn noncharacters_are_escaped() {
        for text in ["x\u{fffe}y", "\u{ffff}", "\u{fffd}\u{10ffff}"] {
            round_trips(&Value::String(text.to_owned()));
        }
    }

    /// Found by fuzzing: a 1025-character key was written as an implicit
    /// key, which no YAML reader accepts; such keys are written explicitly.
    #[test]
    fn keys_too_long_to_be_implicit_are_written_explicitly() {
        for key in [
            "k".repeat(1024),
            "k".repeat(1025),
            // Quoting makes this 1023-character key 1025 characters long.
            format!("{} {}", "k".repeat(511), "k".repeat(511)),
        ] {
            for value in [
                json!("v"),
                json!({"a": 1, "b": [1, {"c": 2}]}),
                json!([1, [2]]),
                json!({}),
            ] {
                round_trips(&json!([{ key.clone(): value.clone(), "after": 1 }]));
                round_trips(&json!({ "top": { key.clone(): value } }));
            }
        }
        assert!(to_block_yaml(&json!({ "k".repeat(1025): 1 })).starts_with("? k"));
    }

    #[test]
    fn the_block_writer_writes_what_to_block_yaml_writes() {
        let long = "k".repeat(1100);
        let document = json!({
            "apiVersion": "v1",
            "clusters": [{"name": "a", "cluster": {"server": "https://a"}}, {"name": "b"}],
            "users": [],
            long.clone(): [1, {"x": [2]}],
            "contexts": [["nested"], "yes"],
            "current-context": "a",
        });
        let mut writer = BlockWriter::new(Vec::new());
        for (key, value) in document.as_object().unwrap() {
            match value {
                Value::Array(items) if key != "users" => {
                    writer.list_entry(key, items.iter().cloned()).unwrap()
                }
                other => writer.entry(key, other).unwrap(),
            }
        }
        let written = String::from_utf8(writer.finish().unwrap()).unwrap();
        assert_eq!(written, to_block_yaml(&document));
        round_trips(&document);
    }
}
