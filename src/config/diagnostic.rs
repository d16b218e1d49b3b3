//! Config errors rendered `path:line:col: key: message`, then the source line and a caret.
//! Does not decide what is an error; `build` and `document` do.

use std::fmt;
use std::ops::Range;
use std::path::Path;

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
    let width = source
        .get(span.start.min(line_end)..span.end.clamp(span.start, line_end))
        .map_or(1, |s| s.chars().count())
        .max(1);
    format!(
        "{}:{}:{column}: {subject}{}\n    {line}\n    {padding}^{}",
        path.display(),
        at.line,
        d.message,
        "~".repeat(width - 1),
    )
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
    fn unpositioned_error_is_path_colon_message() {
        let e = ConfigErrors::whole_file(Path::new("/x.toml"), "cannot read: denied");
        assert_eq!(e.to_string(), "/x.toml: cannot read: denied");
    }
}
