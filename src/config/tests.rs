//! Unit tests of the config tree.
