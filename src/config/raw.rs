//! The file as written (serde). STUB: the config helper replaces this.
