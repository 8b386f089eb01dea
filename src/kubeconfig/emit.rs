//! A block-style YAML writer for kubeconfig documents.
//!
//! serde_yaml's emitter inspects and writes every character through
//! libyaml's machinery, which makes writing a large kubeconfig (megabytes
//! of base64 certificates) ten times slower than everything else kubefetch
//! does. Kubeconfigs only need a small part of YAML, so this writer covers
//! that part and declines the rest (tags, non-scalar keys), which the
//! caller then hands to serde_yaml.
//!
//! Strings are written plain only when no YAML 1.1 or 1.2 reader (kubectl
//! reads YAML 1.1) could take them for anything but the same string;
//! everything else is double-quoted with escapes.

use serde_yaml::{Mapping, Number, Value};

/// YAML readers take a key without `? ` only up to 1024 characters; a
/// longer one (counted in bytes here, which is never fewer) is declined.
const LONGEST_IMPLICIT_KEY: usize = 1024;

/// A value this writer leaves to serde_yaml.
#[derive(Debug)]
pub(crate) struct Unsupported;

/// The document as block YAML, ending with a newline.
pub(crate) fn to_block_yaml(value: &Value) -> Result<String, Unsupported> {
    let mut out = String::new();
    match value {
        Value::Mapping(map) if !map.is_empty() => mapping(&mut out, map, 0, false)?,
        Value::Sequence(items) if !items.is_empty() => sequence(&mut out, items, 0)?,
        other => {
            inline(&mut out, other)?;
            out.push('\n');
        }
    }
    Ok(out)
}

/// Entries at `indent`; with `continues_line` the first one follows a
/// sequence dash already written on the current line.
fn mapping(
    out: &mut String,
    map: &Mapping,
    indent: usize,
    continues_line: bool,
) -> Result<(), Unsupported> {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !continues_line {
            push_indent(out, indent);
        }
        if matches!(
            key,
            Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_)
        ) {
            return Err(Unsupported);
        }
        let key_start = out.len();
        inline(out, key)?;
        if out.len() - key_start > LONGEST_IMPLICIT_KEY {
            return Err(Unsupported);
        }
        out.push(':');
        match value {
            Value::Mapping(inner) if !inner.is_empty() => {
                out.push('\n');
                mapping(out, inner, indent + 2, false)?;
            }
            // A sequence under a key sits at the key's own indentation, as
            // kubectl writes `clusters:` followed by `- name: ...`.
            Value::Sequence(items) if !items.is_empty() => {
                out.push('\n');
                sequence(out, items, indent)?;
            }
            other => {
                out.push(' ');
                inline(out, other)?;
                out.push('\n');
            }
        }
    }
    Ok(())
}

fn sequence(out: &mut String, items: &[Value], indent: usize) -> Result<(), Unsupported> {
    for item in items {
        push_indent(out, indent);
        out.push('-');
        match item {
            Value::Mapping(map) if !map.is_empty() => {
                out.push(' ');
                mapping(out, map, indent + 2, true)?;
            }
            Value::Sequence(inner) if !inner.is_empty() => {
                out.push('\n');
                sequence(out, inner, indent + 2)?;
            }
            other => {
                out.push(' ');
                inline(out, other)?;
                out.push('\n');
            }
        }
    }
    Ok(())
}

/// A scalar or an empty collection, on the current line.
fn inline(out: &mut String, value: &Value) -> Result<(), Unsupported> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => push_number(out, number),
        Value::String(text) if is_plain_safe(text) => out.push_str(text),
        Value::String(text) => push_double_quoted(out, text),
        Value::Mapping(map) if map.is_empty() => out.push_str("{}"),
        Value::Sequence(items) if items.is_empty() => out.push_str("[]"),
        Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_) => return Err(Unsupported),
    }
    Ok(())
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn push_number(out: &mut String, number: &Number) {
    // serde_yaml's Display is YAML: `.inf`, `-.inf`, `.nan`, shortest floats.
    use std::fmt::Write;
    let _ = write!(out, "{number}");
}

/// Bytes a plain scalar may hold: no space, comment, quote, flow or other
/// indicator character, and ASCII only.
const PLAIN_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let extra = b"-_./+=:@";
    let mut i = 0;
    while i < extra.len() {
        table[extra[i] as usize] = true;
        i += 1;
    }
    table
};

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
        && bytes.iter().all(|&b| PLAIN_BYTE[usize::from(b)])
        && !may_read_as_another_type(text)
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
    use super::*;

    fn round_trips(value: &Value) {
        let text = to_block_yaml(value).unwrap();
        let back: Value = serde_yaml::from_str(&text)
            .unwrap_or_else(|err| panic!("unparseable output {text:?}: {err}"));
        assert_eq!(&back, value, "written as {text:?}");
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
            let mut map = Mapping::new();
            map.insert(Value::from(*text), Value::from(*text));
            round_trips(&Value::Sequence(vec![Value::Mapping(map)]));
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
        let text = "a: 1\nb: -7\nc: 1.5\nd: .inf\ne: .nan\nf: true\ng: null\nh: {}\ni: []\n\
                    j: 18446744073709551615\nk: 1.0e+20\n3: int key\ntrue: bool key\n";
        let value: Value = serde_yaml::from_str(text).unwrap();
        let written = to_block_yaml(&value).unwrap();
        let back: Value = serde_yaml::from_str(&written).unwrap();
        // NaN is not equal to itself: compare it apart.
        assert!(back["e"].as_f64().unwrap().is_nan());
        let without_nan = |mut v: Value| {
            v.as_mapping_mut().unwrap().remove("e");
            v
        };
        assert_eq!(without_nan(back), without_nan(value));
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
        round_trips(&serde_yaml::from_str(text).unwrap());
        round_trips(&Value::Null);
        round_trips(&Value::Sequence(vec![
            Value::from("a"),
            Value::Sequence(vec![]),
        ]));
    }

    #[test]
    fn writes_the_kubectl_layout() {
        let value: Value = serde_yaml::from_str(
            "clusters: [{name: a, cluster: {server: 'https://a:6443'}}]\n\
             contexts: [{name: a, context: {cluster: a, extensions: [{name: kubefetch, \
             extension: {fetchedAt: '2026-11-22T10:00:00Z'}}]}}]\n",
        )
        .unwrap();
        assert_eq!(
            to_block_yaml(&value).unwrap(),
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
    /// key, which no YAML reader accepts.
    #[test]
    fn declines_keys_too_long_to_be_implicit() {
        for (key, fits) in [
            ("k".repeat(1024), true),
            ("k".repeat(1025), false),
            // Quoting makes this 1023-character key 1025 characters long.
            (format!("{} {}", "k".repeat(511), "k".repeat(511)), false),
        ] {
            let mut map = Mapping::new();
            map.insert(Value::from(key), Value::from("v"));
            let value = Value::Sequence(vec![Value::Mapping(map)]);
            if fits {
                round_trips(&value);
            } else {
                assert!(to_block_yaml(&value).is_err());
            }
        }
    }

    #[test]
    fn declines_tags_and_complex_keys() {
        let tagged: Value = serde_yaml::from_str("a: !custom 1\n").unwrap();
        assert!(to_block_yaml(&tagged).is_err());
        let complex: Value = serde_yaml::from_str("? [a, b]\n: v\n").unwrap();
        assert!(to_block_yaml(&complex).is_err());
    }
}
