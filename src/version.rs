//! `kubefetch --version`: the crate version and the commit it was built from
//! (DESIGN.md section 12). build.rs finds the commit; this formats it.

use std::sync::OnceLock;

/// "X.Y.Z (<12 hex>[-dirty])", or "X.Y.Z (unknown commit)" outside git.
pub fn text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        describe(
            env!("CARGO_PKG_VERSION"),
            env!("KUBEFETCH_GIT_HASH"),
            env!("KUBEFETCH_GIT_DIRTY") == "true",
        )
    })
}

/// `hash` is the full commit id, or empty when the build did not know it.
pub fn describe(version: &str, hash: &str, dirty: bool) -> String {
    let short = hash
        .get(..12)
        .filter(|short| short.bytes().all(|b| b.is_ascii_hexdigit()));
    match short {
        Some(short) if dirty => format!("{version} ({short}-dirty)"),
        Some(short) => format!("{version} ({short})"),
        None => format!("{version} (unknown commit)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "cf6acbd0123456789abcdef0123456789abcdef0";

    #[test]
    fn names_twelve_hex_of_the_commit() {
        assert_eq!(describe("1.2.3", HASH, false), "1.2.3 (cf6acbd01234)");
        assert_eq!(describe("1.2.3", HASH, true), "1.2.3 (cf6acbd01234-dirty)");
    }

    #[test]
    fn without_a_usable_commit_says_so() {
        for hash in ["", "cf6acbd", "not a commit id at all"] {
            assert_eq!(
                describe("0.1.0", hash, false),
                "0.1.0 (unknown commit)",
                "{hash:?}"
            );
        }
        assert_eq!(describe("0.1.0", "", true), "0.1.0 (unknown commit)");
    }

    #[test]
    fn the_built_text_has_the_contract_shape() {
        let text = text();
        let (version, commit) = text.split_once(' ').unwrap();
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
        let inner = commit.strip_prefix('(').unwrap().strip_suffix(')').unwrap();
        let hex = inner.strip_suffix("-dirty").unwrap_or(inner);
        assert!(
            inner == "unknown commit"
                || (hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit())),
            "{text}"
        );
    }
}
