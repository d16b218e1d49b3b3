//! STUB: the state helper replaces this.
