"""Benchmarks: sampler overhead and (later) optimization quality against peers."""
