//! Stage one: parse the file into a spanned table and cut it into entries (`[daemon]`, each
//! `[sources.X]`, `[providers.X]`, `[[records]]`), each deserialized on its own so one bad entry
//! never hides another. Serde's messages are reworded here and given a key path.
//! Does not check values; that is the build step.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::diagnostic::{Diagnostic, Diagnostics};
use super::secrets::is_secret_key;
use super::values::{one_of, quoted_list};

/// One table of the file, with its key path (`sources.lan`, `records[2]`).
pub(super) struct Entry<'i> {
    pub path: String,
    /// The table name (`lan`); for records the index.
    pub name: String,
    pub value: Spanned<DeValue<'i>>,
    /// Keys the caller took out before deserializing (see [`Entry::take`]): still named in
    /// "unknown key" suggestions.
    pub taken: Vec<&'static str>,
}

/// The file, cut into entries. Sources and providers are in name order, records in file order.
#[derive(Default)]
pub(super) struct Document<'i> {
    pub daemon: Option<Entry<'i>>,
    pub sources: Vec<Entry<'i>>,
    pub providers: Vec<Entry<'i>>,
    pub records: Vec<Entry<'i>>,
}

const TOP_LEVEL: &[&str] = &["daemon", "sources", "providers", "records"];

/// Parses `source`; only TOML syntax errors are returned (all of them the parser found).
pub(super) fn parse(source: &str) -> Result<Spanned<DeTable<'_>>, Vec<Diagnostic>> {
    let (root, errors) = DeTable::parse_recoverable(source);
    if errors.is_empty() {
        return Ok(root);
    }
    Err(errors
        .iter()
        .map(|e| Diagnostic {
            span: Some(e.span().unwrap_or(0..0)),
            key: String::new(),
            message: format!("invalid TOML: {}", plain(e.message())),
        })
        .collect())
}

/// Cuts the root table into entries; wrong shapes (e.g. `records` not an array of tables) and
/// unknown top-level keys are reported and skipped.
pub(super) fn split<'i>(root: Spanned<DeTable<'i>>, diags: &mut Diagnostics) -> Document<'i> {
    let mut doc = Document::default();
    for (key, value) in root.into_inner() {
        let name = key.get_ref().to_string();
        match name.as_str() {
            "daemon" => {
                if expect_table(&value, "daemon", diags) {
                    doc.daemon = Some(Entry {
                        path: name.clone(),
                        name,
                        value,
                        taken: Vec::new(),
                    });
                }
            }
            "sources" | "providers" => {
                if !expect_table(&value, &name, diags) {
                    continue;
                }
                let DeValue::Table(table) = value.into_inner() else {
                    continue;
                };
                for (child, child_value) in table {
                    let path = format!("{name}.{}", key_segment(child.get_ref()));
                    if expect_table(&child_value, &path, diags) {
                        let entry = Entry {
                            path,
                            name: child.get_ref().to_string(),
                            value: child_value,
                            taken: Vec::new(),
                        };
                        if name == "sources" {
                            doc.sources.push(entry);
                        } else {
                            doc.providers.push(entry);
                        }
                    }
                }
            }
            "records" => {
                let span = value.span();
                let DeValue::Array(items) = value.into_inner() else {
                    diags.error(
                        span,
                        "records",
                        "expected an array of tables: write each record as [[records]]",
                    );
                    continue;
                };
                for (index, item) in items.into_iter().enumerate() {
                    let path = format!("records[{index}]");
                    if expect_table(&item, &path, diags) {
                        doc.records.push(Entry {
                            path,
                            name: index.to_string(),
                            value: item,
                            taken: Vec::new(),
                        });
                    }
                }
            }
            _ => diags.error(
                key.span(),
                key_segment(&name),
                unknown_key(&name, TOP_LEVEL),
            ),
        }
    }
    doc
}

fn expect_table(value: &Spanned<DeValue<'_>>, path: &str, diags: &mut Diagnostics) -> bool {
    if value.get_ref().is_table() {
        return true;
    }
    diags.error(
        value.span(),
        path,
        format!("expected a table, found {}", value.get_ref().type_str()),
    );
    false
}

impl<'i> Entry<'i> {
    /// A copy of the entry without `key`, and `key`'s value if it was there: for a key that all
    /// kinds of a table share (a provider's `max-requests-per-hour`), checked by the caller
    /// rather than by each kind's raw struct.
    pub fn take(&self, key: &'static str) -> (Entry<'i>, Option<Spanned<DeValue<'i>>>) {
        let span = self.value.span();
        let mut taken = self.taken.clone();
        taken.push(key);
        let (value, found) = match self.value.get_ref() {
            DeValue::Table(table) => {
                let mut table = table.clone();
                let found = table.remove(key);
                (Spanned::new(span, DeValue::Table(table)), found)
            }
            _ => (self.value.clone(), None),
        };
        let entry = Entry {
            path: self.path.clone(),
            name: self.name.clone(),
            value,
            taken,
        };
        (entry, found)
    }

    /// The span of the entry (its `[header]`, or the inline table).
    pub fn span(&self) -> Range<usize> {
        self.value.span()
    }

    /// The key path of a key of this entry: `sources.lan.ipv6`.
    pub fn key(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// Deserializes the entry into its raw struct; on failure reports serde's error (reworded,
    /// with the key path of the culprit) and returns `None`.
    pub fn deserialize<T: DeserializeOwned>(&self, diags: &mut Diagnostics) -> Option<T> {
        match T::deserialize(ValueDeserializer::from(self.value.clone())) {
            Ok(raw) => Some(raw),
            Err(e) => {
                let span = e.span().unwrap_or_else(|| self.span());
                let key = key_path_at(&self.value, span.start, &self.path)
                    .unwrap_or_else(|| self.path.clone());
                let mut message = reword(e.message(), &self.taken);
                // "found integer 123456" would show an unquoted secret; keep only its type.
                let last = key.rsplit(['.', '"']).find(|s| !s.is_empty()).unwrap_or("");
                if is_secret_key(last)
                    && let Some(at) = message.find(", found ")
                {
                    let rest = &message[at + ", found ".len()..];
                    let type_word = rest.split(' ').next().unwrap_or("").to_string();
                    message.truncate(at);
                    message.push_str(", found ");
                    message.push_str(&type_word);
                }
                diags.error(span, key, message);
                None
            }
        }
    }

    /// The entry's `kind` if it is one of `built`; otherwise reports why not. `what` is
    /// `source` or `provider`; `unbuilt` are kinds DESIGN.md lists that this build lacks.
    pub fn kind(
        &self,
        what: &str,
        built: &[&str],
        unbuilt: &[&str],
        diags: &mut Diagnostics,
    ) -> Option<String> {
        let DeValue::Table(table) = self.value.get_ref() else {
            return None;
        };
        let Some(kind) = table.get("kind") else {
            diags.error(
                self.span(),
                &self.path,
                format!(
                    "missing required key \"kind\" (expected one of: {})",
                    quoted_list(built)
                ),
            );
            return None;
        };
        let Some(word) = kind.get_ref().as_str() else {
            diags.error(
                kind.span(),
                self.key("kind"),
                format!("expected a string, found {}", kind.get_ref().type_str()),
            );
            return None;
        };
        if built.contains(&word) {
            return Some(word.to_string());
        }
        let message = if unbuilt.contains(&word) {
            format!(
                "{what} kind \"{word}\" is not available in this build (available: {})",
                quoted_list(built)
            )
        } else {
            format!("unknown {what} kind {}", one_of(word, built))
        };
        diags.error(kind.span(), self.key("kind"), message);
        None
    }
}

/// The deepest key path under `value` whose key or value contains byte `pos`.
fn key_path_at(value: &Spanned<DeValue<'_>>, pos: usize, path: &str) -> Option<String> {
    let contains = |span: Range<usize>| span.start <= pos && (pos < span.end || pos == span.start);
    match value.get_ref() {
        DeValue::Table(table) => table.iter().find_map(|(k, v)| {
            let child = format!("{path}.{}", key_segment(k.get_ref()));
            if contains(k.span()) {
                return Some(child);
            }
            key_path_at(v, pos, &child).or_else(|| contains(v.span()).then_some(child))
        }),
        DeValue::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let child = format!("{path}[{i}]");
            key_path_at(v, pos, &child).or_else(|| contains(v.span()).then_some(child))
        }),
        _ => None,
    }
}

/// A key as written in a path: bare when it can be, quoted otherwise.
pub(super) fn key_segment(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

/// Serde's messages in our words: `unknown key "x" (expected one of: ...)`,
/// `missing required key "x"`, `expected a string, found integer 5`.
/// `taken` are keys the caller handles itself, added to the expected ones.
fn reword(message: &str, taken: &[&str]) -> String {
    // Serde quotes names in backticks: the odd pieces of a split on '`' are the names.
    let names: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
    if message.starts_with("unknown field `")
        && let Some((field, expected)) = names.split_first()
    {
        let mut expected = expected.to_vec();
        expected.extend_from_slice(taken);
        return unknown_key(field, &expected);
    }
    if message.starts_with("missing field `")
        && let Some(field) = names.first()
    {
        return format!("missing required key \"{field}\"");
    }
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.rsplit_once(", expected ")
    {
        return format!("expected {}, found {}", plain(expected), plain(found));
    }
    plain(message)
}

/// `unknown key "x"`, with the closest known key when one is close, else the list.
pub(super) fn unknown_key(key: &str, expected: &[&str]) -> String {
    let closest = expected
        .iter()
        .map(|e| (edit_distance(key, e), *e))
        .filter(|(d, _)| *d <= 2)
        .min();
    match closest {
        Some((_, e)) => format!("unknown key \"{key}\"; did you mean \"{e}\"?"),
        None if expected.is_empty() => format!("unknown key \"{key}\" (this table takes no keys)"),
        None => format!(
            "unknown key \"{key}\" (expected one of: {})",
            quoted_list(expected)
        ),
    }
}

/// Serde's type names in TOML's words, backticks dropped.
fn plain(message: &str) -> String {
    message
        .replace('`', "")
        .replace("a sequence", "an array")
        .replace("a map", "a table")
        .replace("i64", "an integer")
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewords_serde_messages() {
        assert_eq!(
            reword(
                "unknown field `pasword`, expected one of `url`, `password`",
                &[]
            ),
            "unknown key \"pasword\"; did you mean \"password\"?"
        );
        assert_eq!(
            reword("unknown field `zzz`, expected `url` or `body`", &[]),
            "unknown key \"zzz\" (expected one of: \"url\", \"body\")"
        );
        assert_eq!(
            reword(
                "unknown field `max-request-per-hour`, expected `url`",
                &["max-requests-per-hour"]
            ),
            "unknown key \"max-request-per-hour\"; did you mean \"max-requests-per-hour\"?"
        );
        assert_eq!(
            reword("missing field `url`", &[]),
            "missing required key \"url\""
        );
        assert_eq!(
            reword("invalid type: integer `5`, expected a string", &[]),
            "expected a string, found integer 5"
        );
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("retry_min", "retry-min"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn key_segments_quote_odd_keys() {
        assert_eq!(key_segment("lan-1_x"), "lan-1_x");
        assert_eq!(key_segment("X Auth"), "\"X Auth\"");
    }
}
