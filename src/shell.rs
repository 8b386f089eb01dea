//! Shell integration (DESIGN.md section 12): the name kubefetch answers to
//! (itself, or the kubectl plugin `kubectl fetch`), completion scripts and
//! the man page. All of it is generated from the clap definition in `cli`.

use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::path::Path;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::Cli;

/// kubectl runs a plugin `kubectl-<name>` found on PATH for `kubectl <name>`.
const PLUGIN_FILE: &str = "kubectl-fetch";

/// How help and usage lines name the program, from the file name it was run as.
pub fn invoked_name(argv0: &OsStr) -> &'static str {
    let file = Path::new(argv0).file_stem().unwrap_or_default();
    if file == PLUGIN_FILE {
        "kubectl fetch"
    } else {
        "kubefetch"
    }
}

/// The command line, parsed under the name it was run as; bad usage exits 2.
pub fn parse_args(args: Vec<OsString>) -> Cli {
    let name = invoked_name(args.first().map(OsString::as_os_str).unwrap_or_default());
    let matches = Cli::command().bin_name(name).get_matches_from(args);
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Rendered in memory: the generator panics on a failed write (a closed pipe).
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "kubefetch", &mut script);
    script
}

pub fn man() -> Vec<u8> {
    let mut page = Vec::new();
    render_man(&mut page).expect("rendering into memory cannot fail");
    once_each_preamble(&page)
}

/// One page: the top-level sections, then each subcommand's synopsis,
/// description and options as subsections of a section of its own.
fn render_man(out: &mut dyn Write) -> io::Result<()> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let page = clap_mangen::Man::new(command.clone());
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_bin_name().unwrap_or_else(|| sub.get_name());
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        let sub_page = clap_mangen::Man::new(sub.clone());
        let mut sections = Vec::new();
        sub_page.render_synopsis_section(&mut sections)?;
        sub_page.render_description_section(&mut sections)?;
        sub_page.render_options_section(&mut sections)?;
        out.write_all(&demote_sections(&sections))?;
    }
    // The after-help text (environment variables, exit codes) under its name.
    let mut extra = Vec::new();
    page.render_extra_section(&mut extra)?;
    let extra = String::from_utf8_lossy(&extra)
        .replace(".SH EXTRA\n", ".SH \"ENVIRONMENT AND EXIT STATUS\"\n");
    out.write_all(extra.as_bytes())?;
    page.render_version_section(out)
}

/// `.SH` headings become `.SS`: a subcommand's sections nest under its own.
/// Text lines never start with a control character (roff escapes them).
fn demote_sections(roff: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(roff);
    text.lines()
        .map(|line| match line.strip_prefix(".SH ") {
            Some(heading) => format!(".SS {heading}\n"),
            None => format!("{line}\n"),
        })
        .collect::<String>()
        .into_bytes()
}

/// Each rendered part opens with the same two-line string definition
/// (`Aq`, the apostrophe); the page needs it once, at the top.
fn once_each_preamble(roff: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(roff);
    let mut seen: Vec<&str> = Vec::new();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq") {
            if seen.contains(&line) {
                continue;
            }
            seen.push(line);
        }
        out.push_str(line);
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugin_file_name_makes_it_kubectl_fetch() {
        assert_eq!(
            invoked_name(OsStr::new("/usr/local/bin/kubectl-fetch")),
            "kubectl fetch"
        );
        assert_eq!(
            invoked_name(OsStr::new("kubectl-fetch.exe")),
            "kubectl fetch"
        );
        assert_eq!(invoked_name(OsStr::new("/usr/bin/kubefetch")), "kubefetch");
        assert_eq!(invoked_name(OsStr::new("kf")), "kubefetch");
        assert_eq!(invoked_name(OsStr::new("")), "kubefetch");
    }

    #[test]
    fn plugin_usage_names_kubectl_fetch() {
        let error = Cli::command()
            .bin_name(invoked_name(OsStr::new("kubectl-fetch")))
            .try_get_matches_from(["kubectl-fetch", "tke"])
            .unwrap_err();
        assert!(
            error.to_string().contains("Usage: kubectl fetch tke"),
            "{error}"
        );
    }

    #[test]
    fn subcommand_sections_nest_under_their_own() {
        let roff = b".SH SYNOPSIS\n\\fBkubefetch tke\\fR\n.SH OPTIONS\n.TP\n";
        assert_eq!(
            String::from_utf8(demote_sections(roff)).unwrap(),
            ".SS SYNOPSIS\n\\fBkubefetch tke\\fR\n.SS OPTIONS\n.TP\n"
        );
    }
}
