"""Models for bench/peer_overhead.py only: BenchPlain's fields under other audit libraries."""
