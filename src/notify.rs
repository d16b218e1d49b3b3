//! STUB: the lead fills this in.
