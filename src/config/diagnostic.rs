//! Config errors rendered `path:line:col: key: message`, then the source line and a caret.
//! Does not decide what is an error; `build` and `document` do.

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::LazyLock;

use regex_lite::{Captures, Regex};

use super::secrets::is_secret_key;

/// One problem found in a config file, before rendering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    /// Byte span in the file; `None` when the problem has no position (unreadable file).
    pub span: Option<Range<usize>>,
    /// The key path (`daemon.retry-min`, `records[2].provider`); empty for syntax errors.
    pub key: String,
    pub message: String,
}

/// Collects diagnostics while a config is checked; nothing stops at the first one.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records an error at `span` about `key`.
    pub fn error(
        &mut self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.items.push(Diagnostic {
            span: Some(span),
            key: key.into(),
            message: message.into(),
        });
    }

    /// How many were recorded so far.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The recorded diagnostics, in the order found.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

/// Every error found in a config file, sorted by position, each already rendered:
/// `path:line:col: key: message`, the source line indented four spaces, and a caret line.
/// `Display` prints them one after another (no summary line).
#[derive(Debug)]
pub struct ConfigErrors {
    pub rendered: Vec<String>,
}

impl ConfigErrors {
    /// One error without a position (e.g. the file cannot be read): `path: message`.
    pub(crate) fn whole_file(path: &Path, message: &str) -> ConfigErrors {
        ConfigErrors {
            rendered: vec![format!("{}: {message}", path.display())],
        }
    }

    /// Renders `diagnostics` against `source`, sorted by position (unpositioned ones first,
    /// ties in the order found).
    pub(crate) fn render(path: &Path, source: &str, mut diagnostics: Vec<Diagnostic>) -> Self {
        diagnostics.sort_by_key(|d| d.span.as_ref().map(|s| s.start));
        diagnostics.dedup();
        let rendered = diagnostics
            .iter()
            .map(|d| render_one(path, source, d))
            .collect();
        ConfigErrors { rendered }
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

fn render_one(path: &Path, source: &str, d: &Diagnostic) -> String {
    let subject = if d.key.is_empty() {
        String::new()
    } else {
        format!("{}: ", d.key)
    };
    let Some(span) = &d.span else {
        return format!("{}: {subject}{}", path.display(), d.message);
    };
    let at = Position::of(source, span.start);
    let line = source[at.line_start..]
        .split('\n')
        .next()
        .unwrap_or("")
        .trim_end_matches('\r');
    // Spans from the parser fall on char boundaries; fall back to bytes if one does not.
    let before = source.get(at.line_start..span.start.min(source.len()));
    let column = before.map_or(span.start - at.line_start, |b| b.chars().count()) + 1;
    // Keep tabs in the padding so the caret lines up under tab-indented lines.
    let padding: String = before
        .unwrap_or("")
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let line_end = at.line_start + line.len();
    // A span may start past the shown line (on a trimmed `\r`): clamp both ends to the line.
    // See: #9 (found by fuzzing).
    let start = span.start.min(line_end);
    let width = source
        .get(start..span.end.clamp(start, line_end))
        .map_or(1, |s| s.chars().count())
        .max(1);
    format!(
        "{}:{}:{column}: {subject}{}\n    {}\n    {padding}^{}",
        path.display(),
        at.line,
        d.message,
        mask_secret_values(line),
        "~".repeat(width - 1),
    )
}

/// `key = "value"` on a source line (also in inline tables, dotted keys, unclosed strings).
static KEY_VALUE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"(^|[\s{,.])(["']?[A-Za-z0-9_-]+["']?\s*=\s*)("(?:[^"\\]|\\.)*"?|'[^']*'?|[^\s,}#]+)"#,
    )
    .ok()
});

/// The line with the value of every secret-looking key (`password = "..."`) starred out,
/// char for char so the caret still lines up: a shown source line must not leak a secret
/// into a terminal or journal.
fn mask_secret_values(line: &str) -> String {
    let Some(re) = KEY_VALUE.as_ref() else {
        // Unreachable (the pattern is constant); hide every value rather than risk a leak.
        return line.split('=').next().unwrap_or("").to_string() + "= ***";
    };
    re.replace_all(line, |caps: &Captures<'_>| {
        let lead = caps.get(1).map_or("", |m| m.as_str());
        let key = caps.get(2).map_or("", |m| m.as_str());
        let value = caps.get(3).map_or("", |m| m.as_str());
        let name = key
            .split('=')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(['"', '\'']);
        // A template such as "Bearer {token}" names the secret rather than holding it.
        let is_template = !super::template::pieces(value)
            .iter()
            .all(|p| matches!(p, super::template::Piece::Text(_)));
        if !is_secret_key(name) || is_template {
            return format!("{lead}{key}{value}");
        }
        let quote = value.chars().next().filter(|c| matches!(c, '"' | '\''));
        let last = value.chars().count().saturating_sub(1);
        let starred: String = value
            .chars()
            .enumerate()
            .map(|(i, c)| {
                let is_quote = Some(c) == quote && (i == 0 || i == last);
                if is_quote { c } else { '*' }
            })
            .collect();
        format!("{lead}{key}{starred}")
    })
    .into_owned()
}

/// A 1-based line number and the byte offset where that line starts.
struct Position {
    line: usize,
    line_start: usize,
}

impl Position {
    fn of(source: &str, offset: usize) -> Position {
        let offset = offset.min(source.len());
        let head = source.as_bytes().get(..offset).unwrap_or_default();
        let line_start = head
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |nl| nl + 1);
        let line = head.iter().filter(|b| **b == b'\n').count() + 1;
        Position { line, line_start }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(span: Range<usize>, key: &str, message: &str) -> Diagnostic {
        Diagnostic {
            span: Some(span),
            key: key.into(),
            message: message.into(),
        }
    }

    /// See: #9: a span past the end of its (`\r`-trimmed) line once panicked (fuzzing).
    #[test]
    fn span_past_the_shown_line_renders() {
        let source = "olCi[\0\0\r";
        let len = source.len();
        let out = render_one(Path::new("f.toml"), source, &diag(len - 1..len, "", "bad"));
        assert!(out.starts_with("f.toml:1:"), "{out}");
    }

    #[test]
    fn renders_line_column_and_caret() {
        let src = "[[records]]\nprovider = \"dynu2\"\n";
        let start = src.find("\"dynu2\"").unwrap();
        let errors = ConfigErrors::render(
            Path::new("/etc/dynipd.toml"),
            src,
            vec![diag(start..start + 7, "records[0].provider", "no provider")],
        );
        assert_eq!(
            errors.to_string(),
            "/etc/dynipd.toml:2:12: records[0].provider: no provider\n    provider = \"dynu2\"\n               ^~~~~~~"
        );
    }

    #[test]
    fn sorts_by_position_and_counts_columns_in_chars() {
        let src = "a = \"é\" # x\nb = 1\n";
        let b = src.find('b').unwrap();
        let x = src.find('x').unwrap();
        let errors = ConfigErrors::render(
            Path::new("f.toml"),
            src,
            vec![diag(b..b + 1, "b", "second"), diag(x..x + 1, "", "first")],
        );
        assert_eq!(errors.rendered.len(), 2);
        assert!(errors.rendered[0].starts_with("f.toml:1:11: first\n"));
        assert!(errors.rendered[0].ends_with("\n              ^"));
        assert!(errors.rendered[1].starts_with("f.toml:2:1: b: second\n"));
    }

    #[test]
    fn span_across_lines_is_clipped_and_eof_gets_one_caret() {
        let src = "x = [\n 1,\n]";
        let errors = ConfigErrors::render(
            Path::new("f.toml"),
            src,
            vec![
                diag(4..src.len(), "x", "bad"),
                diag(src.len()..src.len(), "", "eof"),
            ],
        );
        assert!(errors.rendered[0].ends_with("    x = [\n        ^"));
        assert_eq!(errors.rendered[1], "f.toml:3:2: eof\n    ]\n     ^");
    }

    #[test]
    fn secret_values_are_starred_in_source_lines() {
        assert_eq!(
            mask_secret_values(r#"password = "hunter2""#),
            r#"password = "*******""#
        );
        assert_eq!(mask_secret_values(r#"  token = 'abc"#), r#"  token = '***"#);
        assert_eq!(
            mask_secret_values(r#"p = { username = "me", password = "a\"b", passwrd = "x" }"#),
            r#"p = { username = "me", password = "****", passwrd = "*" }"#
        );
        assert_eq!(
            mask_secret_values(r#"providers.p.client-secret="s""#),
            r#"providers.p.client-secret="*""#
        );
        assert_eq!(
            mask_secret_values(r#"password-file = "/etc/x""#),
            r#"password-file = "/etc/x""#
        );
        assert_eq!(
            mask_secret_values(r#"url = "https://x""#),
            r#"url = "https://x""#
        );
    }

    #[test]
    fn unquoted_secret_values_are_starred_and_templates_shown() {
        assert_eq!(
            mask_secret_values("password = 123456 # pin"),
            "password = ****** # pin"
        );
        assert_eq!(
            mask_secret_values(r#"X-Token = "{token}""#),
            r#"X-Token = "{token}""#
        );
    }

    #[test]
    fn unpositioned_error_is_path_colon_message() {
        let e = ConfigErrors::whole_file(Path::new("/x.toml"), "cannot read: denied");
        assert_eq!(e.to_string(), "/x.toml: cannot read: denied");
    }
}
