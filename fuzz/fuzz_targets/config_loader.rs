//! The config loader on arbitrary text: diagnostics or a config, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Relative secret files resolve under a directory that does not exist.
    let path = std::path::Path::new("/nonexistent/dynipd-fuzz/dynipd.toml");
    match dynipd::config::load_str(path, text) {
        Ok(config) => {
            let _ = config.record_specs();
            let _ = config.source_specs();
            let _ = config.provider_specs();
        }
        Err(errors) => {
            let _ = errors.to_string();
        }
    }
});
