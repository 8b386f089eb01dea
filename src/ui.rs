//! Human output on stderr. stdout is reserved for data (kubeconfig, JSON).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

use crate::settings::Verbosity;

#[derive(Debug, Clone, Copy)]
pub struct Ui {
    verbosity: Verbosity,
}

impl Ui {
    pub fn new(verbosity: Verbosity) -> Self {
        Ui { verbosity }
    }

    /// A result line ("Added context ..."): hidden by `-q`.
    pub fn info(&self, line: &str) {
        if self.verbosity >= Verbosity::Normal {
            eprint_line(line);
        }
    }

    /// A change the user did not name but must know of: shown even with `-q`.
    pub fn note(&self, line: &str) {
        eprint_line(&format!("note: {line}"));
    }

    /// Something the user should act on: shown even with `-q`.
    pub fn warn(&self, line: &str) {
        eprint_line(&format!("warning: {line}"));
    }

    /// Detail for `-v` (requests, retries, credential sources); never secrets.
    pub fn detail(&self, line: &str) {
        if self.verbosity >= Verbosity::Verbose {
            eprint_line(&format!("debug: {line}"));
        }
    }

    pub fn is_verbose(&self) -> bool {
        self.verbosity >= Verbosity::Verbose
    }
}

/// One whole line per write, so lines of concurrent fetches never interleave.
fn eprint_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{}", for_people(line));
}

/// Any text shown to people: without URL passwords, and one safe line.
pub fn for_people(text: &str) -> String {
    escape_controls(&redact_userinfo(text)).into_owned()
}

/// `text` with the user info of every URL in it (`https://user:pass@h`)
/// replaced by `***`: an endpoint may carry a password, and neither
/// stderr nor the JSON summary may show it.
pub fn redact_userinfo(text: &str) -> Cow<'_, str> {
    let mut redacted = String::new();
    let mut rest = text;
    let mut changed = false;
    while let Some(scheme_end) = rest.find("://") {
        let (head, tail) = rest.split_at(scheme_end + 3);
        redacted.push_str(head);
        let end = tail
            .find(|c: char| matches!(c, '/' | '?' | '#' | '\'' | '"') || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                redacted.push_str("***");
                redacted.push_str(&authority[at..]);
                changed = true;
            }
            None => redacted.push_str(authority),
        }
        rest = &tail[end..];
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    redacted.push_str(rest);
    Cow::Owned(redacted)
}

/// `text` safe to show on a terminal as one line: control characters
/// (escape sequences that clear the screen or set the window title, a
/// newline that forges a `hint:` line) and bidirectional overrides become
/// visible escapes such as `\u{1b}`. Provider answers reach people through
/// here.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(escaped, "{}", c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_bidi_overrides_are_shown_escaped() {
        assert_eq!(escape_controls("plain: ü, 中文"), "plain: ü, 中文");
        assert_eq!(
            escape_controls("bad\u{1b}]0;owned\u{7}\u{1b}[2J\nhint: curl x | sudo sh\r"),
            "bad\\u{1b}]0;owned\\u{7}\\u{1b}[2J\\nhint: curl x | sudo sh\\r"
        );
        assert_eq!(escape_controls("a\u{202e}b\u{9b}c"), "a\\u{202e}b\\u{9b}c");
    }

    #[test]
    fn passwords_in_urls_are_redacted_wherever_they_are() {
        assert_eq!(
            redact_userinfo(
                "refusing plain http endpoint http://u:s3cret@10.0.0.1:8080/x from --endpoint"
            ),
            "refusing plain http endpoint http://***@10.0.0.1:8080/x from --endpoint"
        );
        assert_eq!(
            redact_userinfo("endpoint https://a:b@h.example, IAM https://c@i.example?x=@y"),
            "endpoint https://***@h.example, IAM https://***@i.example?x=@y"
        );
        assert_eq!(
            redact_userinfo(
                "invalid endpoint URL 'https://u:p@h:99999' from KUBEFETCH_TKE_ENDPOINT"
            ),
            "invalid endpoint URL 'https://***@h:99999' from KUBEFETCH_TKE_ENDPOINT"
        );
        for plain in ["https://h.example/a@b", "mail me@example.com", "no url"] {
            assert!(
                matches!(redact_userinfo(plain), Cow::Borrowed(_)),
                "{plain}"
            );
        }
    }
}
