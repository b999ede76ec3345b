#!/usr/bin/env python3
"""Prints the codec benchmark figures of README.md as Markdown tables.

Reads criterion's results (the median of each benchmark) from
$CARGO_TARGET_DIR/criterion, or target/criterion when that is unset, after
`cargo bench -p redwire-bench --bench codec` has run. Given baseline names
(runs saved with `--save-baseline NAME`), each figure is the median of those
runs: on a small shared machine one run can be off by a third.

    python3 bench/codec_table.py [BASELINE...]
"""

import json
import os
import pathlib
import statistics
import sys

ROOT = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", "target")) / "criterion"
MIB = 1024 * 1024
GOAL_SMALL = 1.5


BASELINES = sys.argv[1:] or ["new"]


def result(group, function):
    """Seconds per iteration (median over the baselines of criterion's median)
    and bytes per iteration (None if not bytes)."""
    seconds = []
    for baseline in BASELINES:
        base = ROOT / group / function / baseline
        try:
            estimates = json.loads((base / "estimates.json").read_text())
            bench = json.loads((base / "benchmark.json").read_text())
        except FileNotFoundError:
            sys.exit(f"no result for {group}/{function} in {base}: run the benchmark first")
        seconds.append(estimates["median"]["point_estimate"] / 1e9)
    throughput = bench.get("throughput") or {}
    return statistics.median(seconds), throughput.get("Bytes")


def mib_s(group, function):
    seconds, size = result(group, function)
    return size / seconds / MIB


def fmt_rate(rate):
    return f"{rate / 1024:,.0f} GiB/s" if rate >= 10 * 1024 else f"{rate:,.0f} MiB/s"


def fmt_time(seconds):
    return f"{seconds * 1e6:,.0f} µs" if seconds >= 1e-5 else f"{seconds * 1e6:.2f} µs"


def cell(group, function):
    """Throughput, then the time for the whole input."""
    seconds, _ = result(group, function)
    return f"{fmt_rate(mib_s(group, function))} ({fmt_time(seconds)})"


def decode_table():
    print("| input | redwire | redis-protocol RESP2 | redis-protocol RESP3 | ratio vs RESP2 | ratio vs RESP3 | goal | met |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    inputs = [
        ("decode_small_replies_10k", "10,000 small replies (`+OK`, `:1`, 16-byte bulk)", GOAL_SMALL),
        ("decode_array_1000_bulks", "array of 1,000 16-byte bulks", 1.0),
        ("decode_bulks_8x1mib", "8 bulks of 1 MiB", 1.0),
    ]
    for group, label, goal in inputs:
        ours = mib_s(group, "redwire")
        r2 = mib_s(group, "redis-protocol-resp2")
        r3 = mib_s(group, "redis-protocol-resp3")
        # Judged against the faster of the two peers, whichever it is.
        worst = min(ours / r2, ours / r3)
        met = "yes" if worst >= goal else "**no**"
        print(
            f"| {label} | {cell(group, 'redwire')} | {cell(group, 'redis-protocol-resp2')} "
            f"| {cell(group, 'redis-protocol-resp3')} "
            f"| {ours / r2:.2f}× | {ours / r3:.2f}× | ≥ {goal:g}× | {met} |"
        )


def stream_table():
    print("| reply | whole: time | whole: ns/byte | 64 KiB pieces: time | 64 KiB pieces: ns/byte | pieces / whole |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    inputs = [
        ("stream_bulk_100mib", "100 MiB bulk string"),
        ("stream_array_100k_bulks", "array of 100,000 16-byte bulks (2.2 MiB)"),
    ]
    for group, label in inputs:
        whole, size = result(group, "one_piece")
        pieces, _ = result(group, "64k_pieces")
        print(
            f"| {label} | {whole * 1e3:.1f} ms | {whole * 1e9 / size:.2f} "
            f"| {pieces * 1e3:.1f} ms | {pieces * 1e9 / size:.2f} | {pieces / whole:.2f} |"
        )


def encode_table():
    seconds, _ = result("encode", "set_key_16b")
    print("| command | time per command |")
    print("| --- | ---: |")
    print(f"| `SET key <16-byte value>` via `encode_command` | {seconds * 1e9:.0f} ns |")


if __name__ == "__main__":
    decode_table()
    print()
    stream_table()
    print()
    encode_table()
