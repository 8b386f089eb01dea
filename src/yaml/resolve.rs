//! What a plain (unquoted, untagged) scalar means to kubectl.
//!
//! kubectl reads YAML with go-yaml v2 (YAML 1.1 rules, through
//! sigs.k8s.io/yaml) and then as JSON. This module reproduces go-yaml v2's
//! `resolve`: the YAML 1.1 booleans and nulls, integers in Go's base-0
//! syntax after removing `_`, and decimal floats. Anything else is a string.

/// A plain scalar's meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    /// Above `i64::MAX`: go-yaml v2 falls back to an unsigned integer.
    Uint(u64),
    Float(f64),
    /// `.inf`, `-.inf`, `.nan`: YAML floats that JSON (and so kubectl) cannot hold.
    NonFinite,
    /// The text itself.
    Str,
}

/// go-yaml v2's table of words with a fixed meaning.
fn keyword(text: &str) -> Option<Scalar> {
    Some(match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Scalar::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => Scalar::NonFinite,
        _ => return None,
    })
}

/// Resolves a plain scalar as go-yaml v2 does. Its first character decides
/// whether any rule applies at all (the resolve table's hint).
pub fn resolve_plain(text: &str) -> Scalar {
    if let Some(known) = keyword(text) {
        return known;
    }
    match text.as_bytes()[0] {
        b'.' => match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Scalar::Float(f),
            _ => Scalar::Str,
        },
        b'0'..=b'9' | b'+' | b'-' => number(text),
        _ => Scalar::Str,
    }
}

/// Digits and signs: an integer in Go's `strconv.ParseInt(s, 0, 64)`
/// syntax, else `ParseUint`, else a decimal float; `_` is ignored.
fn number(text: &str) -> Scalar {
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, unsigned) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    if let Some(magnitude) = go_base0_uint(unsigned) {
        let signed = if negative {
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(magnitude).ok()
        };
        match signed {
            Some(value) => return Scalar::Int(value),
            // ParseUint takes no sign at all.
            None if unsigned.len() == plain.len() => return Scalar::Uint(magnitude),
            None => {}
        }
    }
    if is_yaml_style_float(&plain) {
        // Go's ParseFloat refuses what overflows, and go-yaml then keeps the string.
        if let Ok(f) = plain.parse::<f64>() {
            if f.is_finite() {
                return Scalar::Float(f);
            }
        }
    }
    Scalar::Str
}

/// Go's base-0 unsigned syntax: `0x`/`0o`/`0b` prefixes (any case), a
/// leading `0` for octal, else decimal; `None` when invalid or over 64 bits.
fn go_base0_uint(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let (radix, digits) = match bytes {
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'x') => (16, &text[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'o') => (8, &text[2..]),
        [b'0', p, _, ..] if p.eq_ignore_ascii_case(&b'b') => (2, &text[2..]),
        [b'0'] => return Some(0),
        [b'0', ..] => (8, &text[1..]),
        _ => (10, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// go-yaml v2's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(text: &str) -> bool {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mantissa_end = if let Some(fraction) = s.strip_prefix('.') {
        match digits(fraction) {
            0 => return false,
            n => 1 + n,
        }
    } else {
        let whole = digits(s);
        if whole == 0 {
            return false;
        }
        match s[whole..].strip_prefix('.') {
            Some(fraction) => whole + 1 + digits(fraction),
            None => whole,
        }
    };
    let rest = &s[mantissa_end..];
    if rest.is_empty() {
        return true;
    }
    let Some(exponent) = rest.strip_prefix(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
    !exponent.is_empty() && digits(exponent) == exponent.len()
}

/// How sigs.k8s.io/yaml turns a float map key into a JSON key: Go's
/// `strconv.FormatFloat(f, 'g', -1, 32)`.
pub fn float_key(f: f64) -> String {
    let single = f as f32;
    if single == 0.0 {
        return if single.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Beyond f32's range Go writes "+Inf", which sigs.k8s.io/yaml renames.
    if single.is_infinite() {
        return if single < 0.0 { "-.inf" } else { ".inf" }.to_owned();
    }
    // Shortest digits that read back as this f32, and the decimal exponent.
    let scientific = format!("{:e}", single.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("{:e} always has an exponent");
    let exponent: i32 = exponent.parse().expect("{:e} writes an integer exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if single < 0.0 { "-" } else { "" };
    // With the shortest precision, Go's %g writes an exponent below 1e-4
    // and from 1e6 on.
    if !(-4..6).contains(&exponent) {
        let fraction = &digits[1..];
        let dot = if fraction.is_empty() { "" } else { "." };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{}{dot}{fraction}e{exp_sign}{:02}",
            &digits[..1],
            exponent.abs()
        )
    } else {
        format!("{sign}{}", single.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_booleans_and_nulls() {
        for t in [
            "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
        ] {
            assert_eq!(resolve_plain(t), Scalar::Bool(true), "{t}");
        }
        for f in [
            "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
        ] {
            assert_eq!(resolve_plain(f), Scalar::Bool(false), "{f}");
        }
        for n in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(resolve_plain(n), Scalar::Null, "{n:?}");
        }
        // Other spellings are strings, as in go-yaml v2.
        for s in ["yES", "oN", "TRue", "nil", "NaN", "Infinity", "y!"] {
            assert_eq!(resolve_plain(s), Scalar::Str, "{s}");
        }
    }

    #[test]
    fn integers_in_go_base0_syntax() {
        for (text, value) in [
            ("0", 0),
            ("-0", 0),
            ("42", 42),
            ("+42", 42),
            ("-17", -17),
            ("0755", 0o755),
            ("0o17", 15),
            ("0O17", 15),
            ("0x1F", 31),
            ("-0X1f", -31),
            ("0b101", 5),
            ("+0b1", 1),
            ("1_000", 1000),
            ("1__0_0", 100),
            ("0x_1f", 31),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ] {
            assert_eq!(resolve_plain(text), Scalar::Int(value), "{text}");
        }
        assert_eq!(
            resolve_plain("18446744073709551615"),
            Scalar::Uint(u64::MAX)
        );
    }

    #[test]
    fn floats_and_what_falls_back_to_strings() {
        for (text, value) in [
            ("1.5", 1.5),
            ("-1.5e3", -1500.0),
            (".5", 0.5),
            ("1.", 1.0),
            ("1e5", 100000.0),
            // Not octal (8 is no octal digit): go-yaml's float rule takes it.
            ("08", 8.0),
            ("1_000.5", 1000.5),
            ("+18446744073709551616", 18446744073709551616.0),
            ("-9223372036854775809", -9223372036854775809.0),
        ] {
            assert_eq!(resolve_plain(text), Scalar::Float(value), "{text}");
        }
        for text in [".inf", "-.Inf", "+.INF", ".nan", ".NaN"] {
            assert_eq!(resolve_plain(text), Scalar::NonFinite, "{text}");
        }
        for text in [
            "1e400",
            "0x",
            "0b2",
            "1:20",
            "1.2.3",
            "2026-11-22",
            "-",
            "+",
            ".",
            "._1",
            "1e",
            "e5",
            "0xg",
            "_1",
            "1 2",
            "12abc",
            "-.5.",
        ] {
            assert_eq!(resolve_plain(text), Scalar::Str, "{text}");
        }
    }

    #[test]
    fn float_keys_as_sigs_k8s_yaml_writes_them() {
        for (f, key) in [
            (1.5, "1.5"),
            (1.0, "1"),
            (-2.25, "-2.25"),
            (0.1, "0.1"),
            (100000.0, "100000"),
            (1e21, "1e+21"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (1e-5, "1e-05"),
            (1.25e-7, "1.25e-07"),
            (0.0001, "0.0001"),
            (0.0, "0"),
            // Found by fuzzing: a key too large for an f32 panicked.
            (1e300, ".inf"),
            (-1e300, "-.inf"),
        ] {
            assert_eq!(float_key(f), key, "{f}");
        }
    }
}
