//! Benchmarks of redwire against its peers; see README.md.
