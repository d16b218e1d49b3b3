//! Config errors rendered `path:line:col: key: message` + source line + caret.
//! STUB: the config helper replaces this.

use std::fmt;

/// Every error found in a config file, sorted by position.
#[derive(Debug)]
pub struct ConfigErrors {
    pub rendered: Vec<String>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered.join("\n"))
    }
}
