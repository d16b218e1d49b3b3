//! Loading: read the file, parse it (stage one, `document`), build each part (stage two:
//! `[daemon]` here, `sources`, `providers`, `records`), collecting every error before
//! reporting them sorted by position. Touches nothing but the config file and secret files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::diagnostic::Diagnostics;
use super::document::{self, Entry};
use super::raw::{Humantime, RawDaemon};
use super::records::{self, Targets};
use super::secrets::SecretReader;
use super::values::{duration, show};
use super::{Config, ConfigErrors, DaemonConfig, providers, sources};

/// Loads and validates the config at `path`.
///
/// Secret files are read; `*-credential` keys read `$CREDENTIALS_DIRECTORY`. Every problem
/// (syntax, schema, references, unreadable secrets) is collected and returned, rendered and
/// sorted by position, as [`ConfigErrors`]; only a TOML syntax error stops before the others
/// are looked for. An empty file is a valid config with no records.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let credentials_dir = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    load_with(path, credentials_dir)
}

/// Validates `source` as if it were the file at `path`, without reading that file: the entry
/// point of the config fuzz target (`fuzz/fuzz_targets/config_loader.rs`) and of tests. Relative
/// secret files resolve next to `path`; `*-credential` keys find no credentials directory.
///
/// Errors: as [`load`]. Never panics, whatever `source` holds.
pub fn load_str(path: &Path, source: &str) -> Result<Config, ConfigErrors> {
    let config_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut secrets = SecretReader {
        config_dir,
        credentials_dir: None,
        inline_keys: Vec::new(),
    };
    from_source(path, source, &mut secrets)
        .map_err(|diagnostics| ConfigErrors::render(path, source, diagnostics))
}

/// [`load`] with `$CREDENTIALS_DIRECTORY` passed in (tests run in parallel threads and must
/// not share the environment).
pub(crate) fn load_with(
    path: &Path,
    credentials_dir: Option<PathBuf>,
) -> Result<Config, ConfigErrors> {
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigErrors::whole_file(path, &format!("cannot read the config file: {e}"))
    })?;
    let Ok(source) = String::from_utf8(bytes) else {
        return Err(ConfigErrors::whole_file(
            path,
            "the config file is not UTF-8 text; save it as UTF-8",
        ));
    };
    let config_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut secrets = SecretReader {
        config_dir,
        credentials_dir,
        inline_keys: Vec::new(),
    };
    let mut config = from_source(path, &source, &mut secrets)
        .map_err(|diagnostics| ConfigErrors::render(path, &source, diagnostics))?;
    if let Some(mode) = group_or_other_readable(path)
        && !secrets.inline_keys.is_empty()
    {
        config.warnings.push(format!(
            "{}: inline secrets ({}) in a file readable by group or others (mode {mode:04o}); \
             move them to *-file keys or run chmod 600 on the file",
            path.display(),
            secrets.inline_keys.join(", "),
        ));
    }
    Ok(config)
}

fn from_source(
    path: &Path,
    source: &str,
    secrets: &mut SecretReader,
) -> Result<Config, Vec<super::diagnostic::Diagnostic>> {
    let root = document::parse(source)?;
    let mut diags = Diagnostics::default();
    let doc = document::split(root, &mut diags);
    let mut warnings = Vec::new();

    let daemon = match &doc.daemon {
        Some(entry) => daemon(entry, &secrets.config_dir, &mut diags),
        None => Some(DaemonConfig::default()),
    };
    let source_names: Vec<String> = doc.sources.iter().map(|e| e.name.clone()).collect();
    let provider_names: Vec<String> = doc.providers.iter().map(|e| e.name.clone()).collect();
    let built_sources: BTreeMap<String, _> = doc
        .sources
        .iter()
        .filter_map(|e| Some((e.name.clone(), sources::build(e, &mut diags)?)))
        .collect();
    let mut provider_limits = BTreeMap::new();
    let built_providers: BTreeMap<String, _> = doc
        .providers
        .iter()
        .filter_map(|e| {
            let (provider, limits) = providers::build(e, secrets, &mut diags, &mut warnings)?;
            provider_limits.insert(e.name.clone(), limits);
            Some((e.name.clone(), provider))
        })
        .collect();
    let targets = Targets {
        source_names: &source_names,
        provider_names: &provider_names,
        sources: &built_sources,
        providers: &built_providers,
    };
    let records = records::build(&doc.records, &targets, &mut diags, &mut warnings);

    let (true, Some(daemon)) = (diags.is_empty(), daemon) else {
        return Err(diags.into_vec());
    };
    Ok(Config {
        path: path.to_path_buf(),
        daemon,
        sources: built_sources,
        providers: built_providers,
        provider_limits,
        records,
        warnings,
    })
}

/// `[daemon]`: every key optional, defaults from [`DaemonConfig::default`].
fn daemon(entry: &Entry<'_>, config_dir: &Path, diags: &mut Diagnostics) -> Option<DaemonConfig> {
    let raw: RawDaemon = entry.deserialize(diags)?;
    let defaults = DaemonConfig::default();
    let before = diags.len();
    let mut read = |key: &str, value: &Option<toml::Spanned<Humantime>>, default: Duration| {
        let Some(text) = value else {
            return default;
        };
        duration(&text.get_ref().0).unwrap_or_else(|message| {
            diags.error(text.span(), entry.key(key), message);
            default
        })
    };
    let check_interval = read(
        "check-interval",
        &raw.check_interval,
        defaults.check_interval,
    );
    let settle = read("settle", &raw.settle, defaults.settle);
    let refresh = read(
        "refresh-interval",
        &raw.refresh_interval,
        defaults.refresh_interval.unwrap_or_default(),
    );
    let retry_min = read("retry-min", &raw.retry_min, defaults.retry_min);
    let retry_max = read("retry-max", &raw.retry_max, defaults.retry_max);
    let request_timeout = read(
        "request-timeout",
        &raw.request_timeout,
        defaults.request_timeout,
    );
    if diags.len() != before {
        return None;
    }

    // A rule broken by a value the file gives is reported at that value.
    let mut rule =
        |key: &str, value: &Option<toml::Spanned<Humantime>>, broken: bool, message: String| {
            if broken {
                let span = value
                    .as_ref()
                    .map_or_else(|| entry.span(), toml::Spanned::span);
                let key = if value.is_some() {
                    entry.key(key)
                } else {
                    entry.path.clone()
                };
                diags.error(span, key, message);
            }
        };
    rule(
        "check-interval",
        &raw.check_interval,
        check_interval < Duration::from_secs(1),
        format!(
            "check-interval is {}; it must be at least 1s",
            show(check_interval)
        ),
    );
    rule(
        "request-timeout",
        &raw.request_timeout,
        request_timeout.is_zero(),
        "request-timeout must be more than 0s".to_string(),
    );
    rule(
        "retry-min",
        &raw.retry_min,
        retry_min.is_zero(),
        "retry-min must be more than 0s, or a failing record would be retried without pause"
            .to_string(),
    );
    let (key, value) = if raw.retry_min.is_some() {
        ("retry-min", &raw.retry_min)
    } else {
        ("retry-max", &raw.retry_max)
    };
    rule(
        key,
        value,
        retry_min > retry_max,
        format!(
            "retry-min ({}) is more than retry-max ({}); lower retry-min or raise retry-max",
            show(retry_min),
            show(retry_max)
        ),
    );
    let state_dir = match &raw.state_dir {
        None => defaults.state_dir,
        Some(text) if text.get_ref().is_empty() => {
            diags.error(
                text.span(),
                entry.key("state-dir"),
                "state-dir is empty; give a directory, e.g. \"/var/lib/dynipd\"",
            );
            return None;
        }
        // Like secret files, a relative path is relative to the config file.
        Some(text) => config_dir.join(text.get_ref()),
    };
    if diags.len() != before {
        return None;
    }
    Some(DaemonConfig {
        state_dir,
        check_interval,
        settle,
        refresh_interval: (!refresh.is_zero()).then_some(refresh),
        retry_min,
        retry_max,
        request_timeout,
    })
}

/// The file's mode when group or others may read it (mode & 0o044).
#[cfg(unix)]
fn group_or_other_readable(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn group_or_other_readable(_path: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
