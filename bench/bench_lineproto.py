"""Line protocol: nocsoc's encoder vs influxdb-client's Point, and influxd /write throughput.

Encoder: points/s of nocsoc's `encode_many` through its C assembler (nocsoc/_lineproto.c: series
lookup and line assembly in C, the batch's floats formatted by one orjson call), through its
pure-Python path (the fallback where the extension is not built: points of one shape encoded
column by column by generated code), and of influxdb-client's `Point` on the same points (schema
points as the collectors make them, 20,000 a batch), after checking that these and the per-point
`encode` all give the same bytes. Reference 1 builds a Point per point and calls
`to_line_protocol()` (what a user of influxdb-client does); reference 2 times `to_line_protocol()`
alone on Points built beforehand. Hand-written f-strings for one fixed shape (no lookup, no
escaping, no checks) show the floor of per-point Python formatting. Points per CPU-second of the
process (steadier than wall time on a shared machine), median of several repetitions.

influxd: Debian's influxd 1.6.7 on loopback, 5,000-line batches. The `influxdb1` sink (encode,
batch, gzip, HTTP, spool machinery) against raw `http.client` POSTs of the same pre-encoded
batches, wall time, best of three interleaved runs. Skipped where influxd is not installed.

Run: `python -m bench lineproto` (or `python bench/bench_lineproto.py`).
"""

from __future__ import annotations

import http.client
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from influxdb_client import Point as ClientPoint  # noqa: E402

from nocsoc import lineproto  # noqa: E402
from nocsoc.lineproto import encode, encode_many  # noqa: E402
from nocsoc.schema import FLOW_TOP, INTERFACE, SENSOR, Point  # noqa: E402

T0 = 1_795_568_400_000_000_000
N_POINTS = 20_000
REPEAT = 7
INFLUX_POINTS = 100_000
INFLUX_ROUNDS = 3
# `python -m bench --quick`: the same code paths at sizes that take seconds (figures meaningless)
QUICK = {"N_POINTS": 2_000, "REPEAT": 1, "INFLUX_POINTS": 10_000, "INFLUX_ROUNDS": 1}
GOAL = 800_000
T = TypeVar("T")


def interface_points(n: int, rnd: random.Random) -> list[Point]:
    """What the SNMP poller writes each cycle: 50 devices x 48 ports, rates are quotients."""
    out = []
    for i in range(n):
        dev, port = divmod(i % 2400, 48)
        octets = rnd.randrange(10**9, 10**13)
        out.append(INTERFACE.point(
            T0 + (i // 2400) * 60_000_000_000,
            {"device": f"dist-{dev:02d}", "site": f"site-{dev // 5}", "role": "distribution",
             "ifname": f"GigabitEthernet0/0/{port}", "ifalias": f"to access-{dev:02d}-{port}"},
            {"in_bps": octets * 8 / 60.0, "out_bps": rnd.random() * 1e9, "in_pps": rnd.random() * 1e5,
             "out_pps": rnd.random() * 1e5, "in_util_pct": rnd.random() * 100,
             "out_util_pct": rnd.random() * 100, "in_errors_ps": 0.0, "out_errors_ps": 0.0,
             "in_discards_ps": rnd.choice([0.0, 0.0, 0.0, 0.016666666666666666]),
             "out_discards_ps": 0.0, "in_octets": octets, "out_octets": octets // 3,
             "speed_mbps": 1000, "oper_status": 1, "admin_status": 1}))
    return out


def flow_top_points(n: int, rnd: random.Random) -> list[Point]:
    out = []
    for i in range(n):
        b = rnd.randrange(1, 10**9)
        out.append(FLOW_TOP.point(
            T0 + (i // 500) * 60_000_000_000,
            {"exporter": f"127.0.1.{i % 12 + 1}", "device": f"core-{i % 2}", "site": "dong-xoai",
             "kind": rnd.choice(["src", "dst", "service"]), "key": f"10.{i % 250}.{rnd.randrange(256)}.1"},
            {"bytes": b, "packets": b // 900 + 1, "flows": rnd.randrange(1, 500), "bps": b * 8 / 60,
             "rank": i % 10}))
    return out


def sensor_points(n: int, rnd: random.Random) -> list[Point]:
    """The simplest shape: one short decimal per point (a temperature)."""
    return [SENSOR.point(T0 + i * 1_000_000_000,
                         {"device": f"core-{i % 4}", "site": "dong-xoai", "role": "core",
                          "sensor": f"temp-{i % 8}", "kind": "celsius"},
                         {"value": round(rnd.uniform(20, 60), 1)})
            for i in range(n)]


def to_client(p: Point) -> ClientPoint:
    cp = ClientPoint(p.measurement)
    for k, tv in p.tags.items():
        cp.tag(k, tv)
    for k, fv in p.fields.items():
        cp.field(k, fv)
    return cp.time(p.time_ns)


def median_rate(fn: Callable[[], object], n: int, repeat: int | None = None) -> float:
    """Items per CPU-second of this process, median of `repeat` (default REPEAT): steadier than
    wall time on a machine shared with other work, and the per-core figure the goal is about."""
    took = []
    for _ in range(repeat or REPEAT):
        t = time.process_time()
        fn()
        took.append(time.process_time() - t)
    return n / sorted(took)[len(took) // 2]


def pure_python(fn: Callable[[], T]) -> Callable[[], T]:
    """`fn` run with encode_many's pure-Python path (as where the C extension is not built)."""
    def run() -> T:
        saved = lineproto._lineproto
        lineproto._lineproto = None  # type: ignore[assignment]
        try:
            return fn()
        finally:
            lineproto._lineproto = saved
    return run


def per_point(points: list[Point]) -> list[str]:
    return [line for line in map(encode, points) if line]


def client_lines(points: list[Point]) -> list[str]:
    return [str(to_client(p).to_line_protocol()) for p in points]


def encoder_rows() -> list[dict[str, Any]]:
    rnd = random.Random(11)
    shapes = {
        "interface (5 tags, 15 fields)": interface_points(N_POINTS, rnd),
        "flow_top (5 tags, 5 fields)": flow_top_points(N_POINTS, rnd),
        "sensor (5 tags, 1 field)": sensor_points(N_POINTS, rnd),
    }
    shapes["mix of the three"] = [p for trio in zip(*shapes.values(), strict=True) for p in trio][:N_POINTS]
    if lineproto._lineproto is None:
        raise RuntimeError("nocsoc._lineproto is not built: `pip install -e .` with a C compiler")
    rows: list[dict[str, Any]] = []
    for label, points in shapes.items():
        ref_points = points[:5000]
        theirs = client_lines(points)
        for name, got in (("encode_many (C)", encode_many(points)),
                          ("encode_many (pure Python)", pure_python(partial(encode_many, points))()),
                          ("encode", per_point(points))):
            if got != theirs:  # the bench only means something if all say the same thing
                bad = next(i for i, (a, b) in enumerate(zip(got, theirs, strict=True)) if a != b)
                raise AssertionError(f"{label}, {name}: point {bad} differs:\n{got[bad]}\n{theirs[bad]}")
        built = [to_client(p) for p in ref_points]
        c_rate = median_rate(partial(encode_many, points), len(points))
        py_rate = median_rate(pure_python(partial(encode_many, points)), len(points))
        build_rate = median_rate(partial(client_lines, ref_points), len(ref_points), 3)
        encode_rate = median_rate(partial(lambda b: [cp.to_line_protocol() for cp in b], built),
                                  len(built), 3)
        rows.append({"points": label, "encode_many (C) points/s": round(c_rate),
                     "encode_many (pure Python) points/s": round(py_rate),
                     "Point build+encode points/s": round(build_rate),
                     "C vs Point (build+encode / encode-only)":
                         f"{c_rate / build_rate:.1f} / {c_rate / encode_rate:.1f}",
                     "pure Python vs Point (build+encode / encode-only)":
                         f"{py_rate / build_rate:.1f} / {py_rate / encode_rate:.1f}",
                     "C vs pure Python": round(c_rate / py_rate, 2),
                     "goal 800k (C)": "met" if c_rate >= GOAL else f"not met ({c_rate / GOAL:.0%})"})
    sensors = shapes["sensor (5 tags, 1 field)"]

    def fstring(points: list[Point]) -> list[str]:
        return [f"sensor,device={p.tags['device']},kind={p.tags['kind']},role={p.tags['role']},"
                f"sensor={p.tags['sensor']},site={p.tags['site']} value={p.fields['value']} {p.time_ns}"
                for p in points]

    ceiling = median_rate(partial(fstring, sensors), len(sensors))
    rows.append({"points": "sensor, hand-written Python f-string for this one shape "
                           "(no lookup, no escaping, no checks)",
                 "encode_many (pure Python) points/s": round(ceiling),
                 "C vs pure Python": round(rows[2]["encode_many (C) points/s"] / ceiling, 2)})

    # The interface shape's floor in pure Python: the lines assembled by one hand-written f-string
    # a point from a fixed prefix and float strings formatted beforehand (not timed), ints in place
    interfaces = shapes["interface (5 tags, 15 fields)"]
    fkeys = sorted(k for k, v in interfaces[0].fields.items() if type(v) is float)
    ready = [tuple(repr(p.fields[k]).removesuffix('.0') for k in fkeys) for p in interfaces]

    def assemble(points: list[Point], floats: list[tuple[str, ...]]) -> list[str]:
        pre = "interface,device=dist-00,ifalias=to\\ access,ifname=Gi0/0/1,role=distribution,site=site-0 "
        return [f"{pre}admin_status={f['admin_status']}i,in_bps={a},in_discards_ps={b},"
                f"in_errors_ps={c},in_octets={f['in_octets']}i,in_pps={d},in_util_pct={e},"
                f"oper_status={f['oper_status']}i,out_bps={g},out_discards_ps={h},out_errors_ps={i},"
                f"out_octets={f['out_octets']}i,out_pps={j},out_util_pct={k},"
                f"speed_mbps={f['speed_mbps']}i {p.time_ns}"
                for p, (a, b, c, d, e, g, h, i, j, k) in zip(points, floats, strict=True)
                for f in (p.fields,)]

    floor = median_rate(partial(assemble, interfaces, ready), len(interfaces))
    rows.append({"points": "interface, hand-written Python f-string a point, floats formatted "
                           "beforehand (no lookup, no escaping, no checks)",
                 "encode_many (pure Python) points/s": round(floor),
                 "C vs pure Python": round(rows[0]["encode_many (C) points/s"] / floor, 2)})
    return rows


def influxd_rows() -> list[dict[str, Any]]:
    from nocsoc.sinks.batching import BatchSettings
    from nocsoc.sinks.influxdb1 import InfluxDB1Sink

    binary = shutil.which("influxd") or ("/usr/bin/influxd" if Path("/usr/bin/influxd").exists() else None)
    if binary is None:
        return [{"write path": "influxd not installed (apt-get install influxdb): skipped"}]
    from tests.servers.influx import InfluxD

    points = interface_points(INFLUX_POINTS, random.Random(5))
    lines = encode_many(points)
    batches = ["\n".join(lines[i:i + 5000]).encode() for i in range(0, len(lines), 5000)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-influxd-") as tmp:
        server = InfluxD(binary, Path(tmp))
        server.start()
        try:
            def raw(db: str) -> float:
                server.create_database(db)
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                t = time.perf_counter()
                for body in batches:
                    conn.request("POST", f"/write?db={db}&precision=ns", body=body)
                    resp = conn.getresponse()
                    resp.read()
                    if resp.status != 204:
                        raise RuntimeError(f"influxd /write: HTTP {resp.status}")
                took = time.perf_counter() - t
                conn.close()
                return len(lines) / took

            def via_sink(db: str, use_gzip: bool) -> float:
                server.create_database(db)
                settings = BatchSettings(batch_size=5000, flush_interval_s=0.2,
                                         spool_dir=Path(tmp) / f"spool-{db}")
                sink = InfluxDB1Sink("bench", server.url, db, settings, use_gzip=use_gzip, timeout_s=60)
                t = time.perf_counter()
                for i in range(0, len(points), 5000):
                    sink.write(points[i:i + 5000])
                if not sink.flush(120):
                    raise RuntimeError(f"influxdb1 sink did not deliver: {sink.counters()}")
                took = time.perf_counter() - t
                sink.close()
                if sink.counters()["written"] != len(points):
                    raise RuntimeError(f"influxdb1 sink wrote {sink.counters()}")
                return len(points) / took

            # interleaved, best of three: the machine may be shared with other work
            ref = plain = gz = 0.0
            for r in range(INFLUX_ROUNDS):
                ref = max(ref, raw(f"raw{r}"))
                plain = max(plain, via_sink(f"sink_plain{r}", False))
                gz = max(gz, via_sink(f"sink_gzip{r}", True))
            count = server.query('SELECT count("in_bps") FROM "interface"', f"sink_gzip{INFLUX_ROUNDS - 1}")
            stored = count["results"][0]["series"][0]["values"][0][1]
            if stored != len(points):
                raise RuntimeError(f"influxd holds {stored} points, expected {len(points)}")
        finally:
            server.stop()
    rows.append({"write path": "raw http.client POST of pre-encoded 5,000-line batches (reference)",
                 "points/s": round(ref), "ratio vs raw": 1.0})
    rows.append({"write path": "influxdb1 sink, encode + batch, no gzip", "points/s": round(plain),
                 "ratio vs raw": round(plain / ref, 2)})
    rows.append({"write path": "influxdb1 sink, encode + batch + gzip (default)", "points/s": round(gz),
                 "ratio vs raw": round(gz / ref, 2)})
    return rows


FLOAT_FORMATTER = ("orjson " + lineproto.orjson.__version__ if lineproto.orjson is not None
                   else "CPython's repr (orjson not installed)")


def run() -> dict[str, Any]:
    enc = encoder_rows()
    write = influxd_rows()
    return {
        "title": "Line protocol: encoder vs influxdb-client Point, and influxd /write",
        "description": (__doc__ or "").split("\n\n")[1] + "\n\n" + (__doc__ or "").split("\n\n")[2],
        "rows": enc,
        "extra_tables": [write],
        "notes": [
            "Encoder output equals influxdb-client's Point.to_line_protocol() byte for byte on every "
            "point of every shape above, through the C assembler, the pure-Python path and per "
            "point (checked before timing; proved in tests/test_lineproto.py).",
            f"Float columns formatted by {FLOAT_FORMATTER}. orjson writes the same shortest "
            "round-trip digits as CPython's repr (checked: tests/test_lineproto.py) at ~15 ns a float "
            "instead of ~250-350 ns; with the type check, the notation check, the '.0' trim and the "
            "split into strings a float costs the pure-Python batched path ~0.1-0.15 us (the C "
            "assembler scans the tokens in place). numpy (`astype(str)`, "
            "Dragon4) also writes repr's strings but ~1.6x slower than repr here, so it is not used.",
            "Why C: in pure Python a 15-field interface point costs ~0.6 us of series lookup (a "
            "key tuple of measurement, tag keys and values, field keys), ~1.2 us of float repr "
            "and ~1.3 us for one f-string; the last row shows that the assembly alone, with no "
            "lookup, no checks and the floats formatted beforehand, already takes the whole "
            "800k/s budget. The C assembler looks a point's series up from its strings' cached "
            "hashes (no key tuple), writes integers, booleans, the time and the escaped keys "
            "itself, and takes the floats' digits from one orjson call for the batch (repr for "
            "the tokens whose notation differs: exponents, below 1e-4). Every rule stays in "
            "Python, which compiles a plan per shape and is the fallback for anything else "
            "(string fields, values of another type).",
            "influxd figures: interface points (15 fields each, ~400 bytes a line) into a fresh "
            "database per run, 100,000 points in 2,400 series; influxd and the writer share the "
            "machine's cores, so these wall-time figures move with its load (a lot, on a loaded "
            "machine). The sink encodes in the caller's thread while its worker sends.",
        ],
    }


if __name__ == "__main__":
    result = run()
    for table in [result["rows"], *result.get("extra_tables", [])]:
        for row in table:
            print(row)
