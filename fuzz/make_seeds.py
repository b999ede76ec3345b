#!/usr/bin/env python3
"""Writes the seed corpora in seeds/: one small valid RESP2/RESP3 stream per file.

seeds/roundtrip/ holds the raw streams; seeds/decode/ holds the same streams
behind the decode target's three control bytes (limits, split point), so
both targets start from every wire type, nested aggregates and RESP2 nulls.
"""

import pathlib

FRAMES = {
    "simple": b"+OK\r\n",
    "error": b"-ERR unknown command 'FOO'\r\n",
    "integer": b":1\r\n:-9223372036854775808\r\n:+7\r\n",
    "bulk": b"$5\r\nhello\r\n$0\r\n\r\n",
    "resp2_nulls": b"$-1\r\n*-1\r\n",
    "null": b"_\r\n",
    "array": b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n:42\r\n",
    "empty_aggregates": b"*0\r\n%0\r\n~0\r\n>0\r\n",
    "nested": b"*2\r\n*2\r\n:1\r\n$1\r\na\r\n%1\r\n+k\r\n~1\r\n#t\r\n",
    "boolean": b"#t\r\n#f\r\n",
    "double": b",3.14\r\n,inf\r\n,-inf\r\n,nan\r\n,1e-7\r\n,-0.0\r\n",
    "big_number": b"(3492890328409238509324850943850943825024385\r\n(-12\r\n",
    "bulk_error": b"!21\r\nSYNTAX invalid syntax\r\n",
    "verbatim": b"=15\r\ntxt:Some string\r\n",
    "map": b"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
    "set": b"~3\r\n+a\r\n+b\r\n:1\r\n",
    "attribute": b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n",
    "nested_attribute": b"*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n:5\r\n",
    "push": b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n",
    "hello_reply": b"%3\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n",
    "pipeline": b"+OK\r\n:1\r\n$2\r\nab\r\n*1\r\n+x\r\n-WRONGTYPE no\r\n",
    "partial": b"*2\r\n$5\r\nhel",
}

here = pathlib.Path(__file__).resolve().parent
for target, prefix in (("roundtrip", b""), ("decode", b"\x00\x05\x00")):
    out = here / "seeds" / target
    out.mkdir(parents=True, exist_ok=True)
    for name, stream in FRAMES.items():
        (out / name).write_bytes(prefix + stream)
        if target == "decode":
            # Same stream under tight limits, cut in 1-byte chunks.
            (out / (name + "_tight")).write_bytes(b"\x01\x03\x00" + stream)
