//! Presigning benchmarks (written next).
fn main() {}
