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

/// How many fetches are done, on stderr: a bar on a terminal, one line per
/// cluster otherwise, nothing with `-q`. Shared by concurrent fetches.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
}

impl Progress {
    /// A bar on a terminal, else a line per cluster.
    pub fn new(ui: Ui, total: usize) -> Self {
        use std::io::IsTerminal;
        let shown = ui.verbosity >= Verbosity::Normal;
        // As indicatif decides whether it can draw: a terminal that is not `dumb`.
        let terminal = std::io::stderr().is_terminal()
            && std::env::var_os("TERM").is_some_and(|term| term != "dumb");
        let bar = (shown && terminal).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            );
            let style =
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} clusters {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            // Drawn at once, so that the bar is there before the first answer.
            bar.tick();
            bar
        });
        Progress {
            lines: shown && bar.is_none(),
            bar,
            total,
            done: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Nothing shown: a command that reports each cluster itself.
    pub fn silent() -> Self {
        Progress {
            bar: None,
            lines: false,
            total: 0,
            done: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// True when the bar or the lines stand for each cluster, so that the
    /// final report need not name every success again.
    pub fn stands_for_each(&self) -> bool {
        self.bar.is_some() || self.lines
    }

    /// One cluster's fetch ended; `label` is e.g. `fetched tke cls-a`.
    pub fn finished(&self, label: &str) {
        let done = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        } else if self.lines {
            eprint_line(&format!("[{done}/{}] {label}", self.total));
        }
    }

    /// Takes the bar off the screen before the summary.
    pub fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
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
