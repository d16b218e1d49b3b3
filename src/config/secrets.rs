//! Secret keys: `NAME = "..."`, `NAME-file = "/path"` (first line, trimmed) or
//! `NAME-credential = "id"` (`$CREDENTIALS_DIRECTORY/id`), exactly one per secret, read into a
//! `Secret<String>`. One helper serves every secret key of every provider.
//! Messages name keys and files, never the content.

use std::path::{Path, PathBuf};

use toml::Spanned;

use super::diagnostic::Diagnostics;
use super::document::Entry;
use crate::secret::Secret;

/// Whether a key may hold an inline secret (`password`, `token`, `client-secret`, `api-key`,
/// also misspelt or in a header name), so its value must not be echoed in a diagnostic.
/// `*-file` and `*-credential` keys hold names, not secrets.
pub(crate) fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let named = ["pass", "token", "secret", "api-key", "apikey", "api_key"]
        .iter()
        .any(|word| key.contains(word));
    named && !key.ends_with("-file") && !key.ends_with("-credential")
}

/// The three ways one secret may be written in an entry.
pub(super) struct SecretKeys<'r> {
    /// The key's base name: `password`, `token`, `api-key`.
    pub name: &'static str,
    pub inline: Option<&'r Spanned<String>>,
    pub file: Option<&'r Spanned<String>>,
    pub credential: Option<&'r Spanned<String>>,
}

/// The result of reading one secret.
pub(super) enum SecretValue {
    /// None of the forms was given (and the secret is optional).
    Absent,
    Present(Secret<String>),
    /// An error was reported.
    Invalid,
}

impl SecretValue {
    /// The secret if present; `Err` when it was invalid.
    pub fn optional(self) -> Result<Option<Secret<String>>, ()> {
        match self {
            SecretValue::Absent => Ok(None),
            SecretValue::Present(s) => Ok(Some(s)),
            SecretValue::Invalid => Err(()),
        }
    }
}

/// Reads secrets for one config file.
pub(super) struct SecretReader {
    /// Relative `*-file` paths resolve against the config file's directory.
    pub config_dir: PathBuf,
    /// `$CREDENTIALS_DIRECTORY`, if set (systemd `LoadCredential=`).
    pub credentials_dir: Option<PathBuf>,
    /// Key paths of inline secrets, for the "readable by others" warning.
    pub inline_keys: Vec<String>,
}

impl SecretReader {
    /// Reads the secret `keys` of `entry`. `required` makes "none given" an error.
    pub fn read(
        &mut self,
        entry: &Entry<'_>,
        keys: &SecretKeys<'_>,
        required: bool,
        diags: &mut Diagnostics,
    ) -> SecretValue {
        let name = keys.name;
        let forms = [
            (name.to_string(), keys.inline),
            (format!("{name}-file"), keys.file),
            (format!("{name}-credential"), keys.credential),
        ];
        let given: Vec<(&String, &Spanned<String>)> = forms
            .iter()
            .filter_map(|(key, value)| value.map(|v| (key, v)))
            .collect();
        let all = format!("{name}, {name}-file or {name}-credential");
        let [(key, value)] = given.as_slice() else {
            if given.is_empty() {
                if !required {
                    return SecretValue::Absent;
                }
                diags.error(
                    entry.span(),
                    &entry.path,
                    format!("missing {name}: set {name}-file = \"/path\" (or {name}, or {name}-credential)"),
                );
            } else {
                for (key, value) in &given[1..] {
                    diags.error(
                        value.span(),
                        entry.key(key),
                        format!("{name} is given more than once; keep exactly one of {all}"),
                    );
                }
            }
            return SecretValue::Invalid;
        };
        let key_path = entry.key(key);
        let span = value.span();
        let text = value.get_ref();
        let result = if *key == name {
            self.inline_keys.push(key_path.clone());
            if text.is_empty() {
                Err(format!("{name} is empty"))
            } else {
                Ok(text.clone())
            }
        } else if key.ends_with("-file") {
            self.read_file(name, text)
        } else {
            self.read_credential(name, text)
        };
        match result {
            Ok(secret) => SecretValue::Present(Secret::new(secret)),
            Err(message) => {
                diags.error(span, key_path, message);
                SecretValue::Invalid
            }
        }
    }

    fn read_file(&self, name: &str, text: &str) -> Result<String, String> {
        if text.is_empty() {
            return Err(format!(
                "the file name is empty; give the path of the file holding the {name}"
            ));
        }
        let path = self.config_dir.join(text);
        let shown = path.display();
        match first_line(&path) {
            Ok(line) if line.is_empty() => Err(format!(
                "secret file \"{shown}\" has an empty first line; put the {name} on its first line"
            )),
            Ok(line) => Ok(line),
            Err(e) => Err(format!("cannot read secret file \"{shown}\": {e}")),
        }
    }

    fn read_credential(&self, name: &str, id: &str) -> Result<String, String> {
        if id.is_empty() || id.contains('/') || id == "." || id == ".." {
            return Err(format!(
                "invalid credential id \"{id}\": use the name given to systemd's LoadCredential="
            ));
        }
        let Some(dir) = &self.credentials_dir else {
            return Err(format!(
                "$CREDENTIALS_DIRECTORY is not set, so credential \"{id}\" cannot be read; \
                 run under systemd with LoadCredential={id}:/path, or use {name}-file"
            ));
        };
        let path = dir.join(id);
        let shown = path.display();
        match first_line(&path) {
            Ok(line) if line.is_empty() => Err(format!(
                "credential \"{id}\" (\"{shown}\") has an empty first line; put the {name} on its first line"
            )),
            Ok(line) => Ok(line),
            Err(e) => Err(format!(
                "cannot read credential \"{id}\" (\"{shown}\"): {e}"
            )),
        }
    }
}

/// The first line of a file, trimmed. The error never holds the content.
fn first_line(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?;
    Ok(text.lines().next().unwrap_or("").trim().to_string())
}
