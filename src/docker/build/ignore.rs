//! `.dockerignore` matching with the Docker CLI's semantics: Go
//! `filepath.Match`-style patterns (`*` and `?` stop at `/`, `[...]`
//! classes, `\` escapes) plus `**` (any number of directories), `!`
//! exceptions, the last matching line wins, and a pattern that matches a
//! parent directory matches everything below it.
//!
//! Each line is trimmed, `#` lines and blank lines are skipped, the pattern
//! is cleaned like Go's `filepath.Clean` (`a/./b/../c` → `a/c`) and a
//! leading `/` is dropped: patterns are relative to the context root.

use super::BuildContextError;
use regex::Regex;

/// One compiled line.
#[derive(Debug, Clone)]
struct Pattern {
    /// As cleaned, without `!`.
    text: String,
    exception: bool,
    regex: Regex,
}

/// The patterns of a `.dockerignore` file.
///
/// ```
/// use stevedore::docker::build::DockerIgnore;
///
/// let ignore = DockerIgnore::parse("# build output\ntarget\n*.log\n!keep.log\n**/*.tmp\n")?;
/// assert!(ignore.is_excluded("target/debug/app"));
/// assert!(ignore.is_excluded("x.log"));
/// assert!(!ignore.is_excluded("keep.log"));
/// assert!(!ignore.is_excluded("sub/x.log")); // `*` does not cross `/`
/// assert!(ignore.is_excluded("a/b/c.tmp"));
/// assert!(!ignore.is_excluded("src/main.rs"));
/// # Ok::<_, stevedore::docker::build::BuildContextError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

impl DockerIgnore {
    /// Parses a `.dockerignore` file's text.
    ///
    /// # Errors
    ///
    /// [`BuildContextError::InvalidIgnorePattern`] for a pattern that does
    /// not compile (an unclosed `[`).
    pub fn parse(text: &str) -> Result<DockerIgnore, BuildContextError> {
        let mut ignore = DockerIgnore::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            ignore
                .push(line)
                .map_err(|()| BuildContextError::InvalidIgnorePattern {
                    line: i + 1,
                    pattern: line.to_owned(),
                })?;
        }
        Ok(ignore)
    }

    /// Adds one line (`pattern` or `!pattern`).
    fn push(&mut self, line: &str) -> Result<(), ()> {
        let (exception, pattern) = match line.strip_prefix('!') {
            Some(p) => (true, p.trim()),
            None => (false, line),
        };
        let mut text = clean(pattern);
        if text.len() > 1 && text.starts_with('/') {
            text.remove(0);
        }
        let regex = Regex::new(&to_regex(&text)).map_err(drop)?;
        self.patterns.push(Pattern {
            text,
            exception,
            regex,
        });
        Ok(())
    }

    /// Adds `!path` when `path` is excluded: the Dockerfile and the
    /// `.dockerignore` itself are always sent, as the Docker CLI does.
    pub(super) fn keep(&mut self, path: &str) {
        if self.is_excluded(path) {
            // A cleaned relative path compiles: every character is escaped.
            let _ = self.push(&format!("!{}", escape(path)));
        }
    }

    /// Whether `path` (relative to the context root, `/`-separated) is left
    /// out of the context.
    pub fn is_excluded(&self, path: &str) -> bool {
        let path = clean(path);
        let parents: Vec<&str> = match path.rfind('/') {
            Some(i) => path[..i].split('/').collect(),
            None => Vec::new(),
        };
        let mut excluded = false;
        for p in &self.patterns {
            // An exclusion only matters while not excluded, an exception
            // only while excluded.
            if p.exception != excluded {
                continue;
            }
            let mut hit = p.regex.is_match(&path);
            if !hit {
                // A pattern matching a parent directory matches its content.
                let mut prefix = String::with_capacity(path.len());
                for dir in &parents {
                    if !prefix.is_empty() {
                        prefix.push('/');
                    }
                    prefix.push_str(dir);
                    if p.regex.is_match(&prefix) {
                        hit = true;
                        break;
                    }
                }
            }
            if hit {
                excluded = !p.exception;
            }
        }
        excluded
    }

    /// Whether an excluded directory must still be walked: an exception
    /// names something inside it (`!dir/keep` for `dir`). As with the Docker
    /// CLI, only the exception's text is compared, so `!**/keep` does not
    /// reopen an excluded directory.
    pub(super) fn may_reinclude_under(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.patterns
            .iter()
            .any(|p| p.exception && format!("{}/", p.text).starts_with(&prefix))
    }

    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// `\`-escapes the characters that are special in a pattern.
fn escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Go's `filepath.Clean` for `/`-separated paths: repeated separators,
/// `.` and inner `..` elements removed; an empty result is `.`.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// Translates a cleaned pattern into an anchored regular expression.
fn to_regex(pattern: &str) -> String {
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if in_class {
            match c {
                ']' => {
                    in_class = false;
                    re.push(']');
                }
                '\\' if i < chars.len() => {
                    re.push_str(&regex::escape(&chars[i].to_string()));
                    i += 1;
                }
                // Set operators and nested classes in this regex dialect.
                '[' | '&' | '~' | '\\' => {
                    re.push('\\');
                    re.push(c);
                }
                c => re.push(c),
            }
            continue;
        }
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    re.push_str(".*");
                } else {
                    // Any number of directories, none included.
                    re.push_str("(.*/)?");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '\\' if i < chars.len() => {
                re.push_str(&regex::escape(&chars[i].to_string()));
                i += 1;
            }
            '[' => {
                in_class = true;
                re.push('[');
                // `[^…]` and `[]…]` keep their meaning.
                if chars.get(i) == Some(&'^') {
                    re.push('^');
                    i += 1;
                }
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    re
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excluded(rules: &str, path: &str) -> bool {
        DockerIgnore::parse(rules).unwrap().is_excluded(path)
    }

    #[test]
    fn go_match_semantics() {
        // (patterns, path, excluded)
        let cases: &[(&str, &str, bool)] = &[
            ("*", "a", true),
            ("*", "a/b", true), // via the parent `a`
            ("*.go", "a.go", true),
            ("*.go", "dir/a.go", false),
            ("dir/*.go", "dir/a.go", true),
            ("dir/*.go", "dir/sub/a.go", false),
            ("a?c", "abc", true),
            ("a?c", "a/c", false),
            ("[a-c]x", "bx", true),
            ("[a-c]x", "dx", false),
            ("[^a-c]x", "dx", true),
            ("\\*x", "*x", true),
            ("\\*x", "ax", false),
            ("a.b", "axb", false),
            ("a+b", "a+b", true),
            ("(x)", "(x)", true),
            ("$x", "$x", true),
            ("x{1,2}", "x{1,2}", true),
            ("x|y", "x", false),
            ("**", "anything/at/all", true),
            ("**/*.tmp", "a.tmp", true),
            ("**/*.tmp", "a/b/c.tmp", true),
            ("a/**/b", "a/b", true),
            ("a/**/b", "a/x/y/b", true),
            ("a/**/b", "a/x/y/c", false),
            ("a/**", "a/b/c", true),
            ("a/**", "a", false),
            ("a**b", "a/x/b", true),
            ("/abs", "abs", true),
            ("./rel/../x", "x", true),
            ("dir/", "dir/file", true),
            ("dir", "dir/deep/file", true),
            ("dir", "dirt", false),
            ("  spaced  ", "spaced", true),
            ("# comment", "# comment", false),
        ];
        for (rules, path, want) in cases {
            assert_eq!(excluded(rules, path), *want, "{rules:?} vs {path:?}");
        }
    }

    #[test]
    fn exceptions_last_match_wins() {
        let rules = "*.md\n!README.md\nREADME*.md\n";
        assert!(excluded(rules, "x.md"));
        assert!(excluded(rules, "README.md"));
        let rules = "*.md\nREADME*.md\n!README.md\n";
        assert!(!excluded(rules, "README.md"));
        assert!(excluded(rules, "README-x.md"));
        let rules = "docs\n!docs/keep.txt\n";
        assert!(excluded(rules, "docs/other"));
        assert!(!excluded(rules, "docs/keep.txt"));
        let ig = DockerIgnore::parse(rules).unwrap();
        assert!(ig.may_reinclude_under("docs"));
        assert!(!ig.may_reinclude_under("doc"));
        let ig = DockerIgnore::parse("docs\n!**/keep.txt\n").unwrap();
        assert!(!ig.may_reinclude_under("docs"));
        // `! pattern` with a space.
        assert!(!excluded("*\n! a\n", "a"));
    }

    #[test]
    fn keep_reincludes_build_files() {
        let mut ig = DockerIgnore::parse("*\n").unwrap();
        ig.keep("Dockerfile");
        ig.keep("dir/[x].Dockerfile");
        assert!(!ig.is_excluded("Dockerfile"));
        assert!(!ig.is_excluded("dir/[x].Dockerfile"));
        assert!(ig.is_excluded("other"));
    }

    #[test]
    fn adversarial_patterns() {
        assert!(matches!(
            DockerIgnore::parse("ok\n[unclosed\n"),
            Err(BuildContextError::InvalidIgnorePattern { line: 2, .. })
        ));
        assert!(DockerIgnore::parse("").unwrap().is_empty());
        assert!(DockerIgnore::parse("\u{feff}# bom\n\n   \n")
            .unwrap()
            .is_empty());
        // Odd but valid: a trailing backslash, set operators in a class,
        // non-ASCII.
        let ig = DockerIgnore::parse("x\\\n[a&&b]\n[~~]\nnaïve*\n").unwrap();
        assert!(ig.is_excluded("naïve.txt"));
        assert!(ig.is_excluded("&"));
        // Many patterns and a long path stay fast and do not overflow.
        let many: String = (0..2000).map(|i| format!("p{i}/**/x\n")).collect();
        let ig = DockerIgnore::parse(&many).unwrap();
        let deep = vec!["d"; 2000].join("/");
        assert!(!ig.is_excluded(&deep));
        assert!(ig.is_excluded("p1999/a/b/x"));
    }

    #[test]
    fn clean_like_go() {
        for (a, b) in [
            ("", "."),
            ("a//b", "a/b"),
            ("a/./b/", "a/b"),
            ("a/../..", ".."),
            ("/../a", "/a"),
            ("./", "."),
        ] {
            assert_eq!(clean(a), b, "{a}");
        }
    }
}
