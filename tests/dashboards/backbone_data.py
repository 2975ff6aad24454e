"""A small provincial backbone's telemetry with a known ground truth, made only by the schema.

Points come from `Measurement.point()` (what every collector uses) for 50 one-minute steps ending
just before "now", so every dashboard and alert query has something to find, and every value a
test asserts is known here: one device down at the end, one hot link, one weak optic, one reboot,
alerts of each level, top-N flows with an `other` bucket, cumulative component counters.
"""

from __future__ import annotations

from dataclasses import dataclass

from nocsoc import schema
from nocsoc.schema import Point

STEP_S = 60
STEPS = 50

# device -> (site, role)
DEVICES: dict[str, tuple[str, str]] = {
    "core-dx-01": ("dong-xoai", "core"),
    "core-dx-02": ("dong-xoai", "core"),
    "dist-bd-01": ("bu-dang", "distribution"),
    "dist-dp-01": ("dong-phu", "distribution"),
    "fw.dx-01": ("dong-xoai", "firewall"),  # a dot: variable values must be regex-escaped
}
DOWN_DEVICE = "dist-dp-01"  # unreachable for the last DOWN_STEPS polls
DOWN_STEPS = 5
REBOOTED = "dist-bd-01"
SPEED_MBPS = 10_000
# link -> ((device, ifname), (device, ifname), in_util_pct at the a end)
LINKS: dict[str, tuple[tuple[str, str], tuple[str, str], float]] = {
    "dx-bd": (("core-dx-01", "xe-0/0/1"), ("dist-bd-01", "xe-0/0/0"), 40.0),
    "dx-dp": (("core-dx-02", "xe-0/0/2"), ("dist-dp-01", "xe-0/0/0"), 85.0),  # hot
}
HOT_LINK = "dx-dp"
WEAK_OPTIC = ("dist-dp-01", "xe-0/0/0", -27.5)
GOOD_RX_DBM = -12.0
# alerts: (rule_title, level, tactic, host, state, count per write)
ALERTS = (
    ("SSH brute force", "critical", "credential-access", "web-01", "new", 5),
    ("Web shell upload", "high", "persistence", "web-02", "acknowledged", 2),
    ("Port scan", "medium", "discovery", "fw.dx-01", "new", 1),
    ("Old closed thing", "low", "discovery", "web-01", "closed", 7),
)
ALERT_WRITES = 3  # each alert written at 3 steps
EXPORTER = "127.0.0.21"
TOP_SRC = {"10.1.0.5": 9000, "10.1.0.9": 4000, "other": 500}  # bytes per step
TOP_SERVICE = {"tcp/443": 10000, "udp/53": 3000, "other": 500}
TOP_DST = {"10.2.0.1": 8000, "other": 5500}
TOP_CONV = {"10.1.0.5 > 10.2.0.1": 7000, "other": 6500}
TOTAL_BYTES = 13_500  # per step = sum of each top-N kind


@dataclass(frozen=True)
class Dataset:
    points: list[Point]
    end_ns: int  # time of the last step

    @property
    def start_ns(self) -> int:
        return self.end_ns - (STEPS - 1) * STEP_S * 1_000_000_000


def make(end_ns: int) -> Dataset:
    pts: list[Point] = []
    start = end_ns - (STEPS - 1) * STEP_S * 1_000_000_000
    for i in range(STEPS):
        t = start + i * STEP_S * 1_000_000_000
        last = i >= STEPS - DOWN_STEPS
        for dev, (site, role) in DEVICES.items():
            tags = {"device": dev, "site": site, "role": role}
            up = not (dev == DOWN_DEVICE and last)
            if up:
                pts.append(
                    schema.DEVICE.point(
                        t,
                        {**tags, "vendor": "juniper"},
                        {
                            "reachable": 1,
                            "uptime_s": 86400.0 + i * STEP_S,
                            "cpu_pct": 20.0 + i % 5,
                            "mem_total_bytes": 8 << 30,
                            "mem_used_bytes": 4 << 30,
                            "mem_used_pct": 50.0,
                            "load1": 0.5,
                            "load5": 0.4,
                            "load15": 0.3,
                        },
                    )
                )
                pts.append(
                    schema.STORAGE.point(
                        t,
                        {**tags, "storage": "/", "kind": "fixedDisk"},
                        {"size_bytes": 100 << 30, "used_bytes": 30 << 30, "used_pct": 30.0},
                    )
                )
            else:
                pts.append(schema.DEVICE.point(t, {**tags, "vendor": "juniper"}, {"reachable": 0}))
            failed = max(0, i - (STEPS - DOWN_STEPS) + 1) if dev == DOWN_DEVICE else 0  # failed polls so far
            pts.append(
                schema.SNMP_POLL.point(  # counters cumulative, as the poller writes them
                    t,
                    tags,
                    {
                        "reachable": int(up),
                        "duration_s": 0.25 if up else 2.0,
                        "varbinds": 120 * (i + 1 - failed),
                        "requests": 6 * (i + 1),
                        "timeouts": 3 * failed,
                        "errors": 0,
                        "overruns": 0,
                    },
                )
            )
        for link, (a, b, util) in LINKS.items():
            for (dev, ifname), u in ((a, util), (b, util / 2)):
                site, role = DEVICES[dev]
                down = dev == DOWN_DEVICE and last
                bps = u / 100 * SPEED_MBPS * 1e6
                pts.append(
                    schema.INTERFACE.point(
                        t,
                        {
                            "device": dev,
                            "site": site,
                            "role": role,
                            "ifname": ifname,
                            "ifalias": f"to {link}",
                            "link": link,
                        },
                        {
                            "in_bps": bps,
                            "out_bps": bps / 2,
                            "in_pps": bps / 8000,
                            "out_pps": bps / 16000,
                            "in_util_pct": u,
                            "out_util_pct": u / 2,
                            "in_errors_ps": 0.0,
                            "out_errors_ps": 0.0,
                            "in_discards_ps": 0.0,
                            "out_discards_ps": 0.0,
                            "speed_mbps": SPEED_MBPS,
                            "oper_status": 2 if down else 1,
                            "admin_status": 1,
                        },
                    )
                )
                rx = WEAK_OPTIC[2] if (dev, ifname) == WEAK_OPTIC[:2] else GOOD_RX_DBM
                pts.append(
                    schema.OPTICS.point(
                        t,
                        {
                            "device": dev,
                            "site": site,
                            "role": role,
                            "ifname": ifname,
                            "sensor": f"{ifname} Rx",
                        },
                        {"rx_dbm": rx, "tx_dbm": -2.0, "temperature_c": 35.0},
                    )
                )
        if i == 10:
            site, role = DEVICES[REBOOTED]
            pts.append(
                schema.DEVICE_EVENT.point(
                    t,
                    {"device": REBOOTED, "site": site, "role": role, "event": "device_reboot"},
                    {"uptime_s": 12.0, "message": "sysUpTime went back"},
                )
            )
        if i >= STEPS - ALERT_WRITES:
            for n, (title, level, tactic, host, state, count) in enumerate(ALERTS):
                pts.append(
                    schema.ALERT.point(
                        t + n,
                        {
                            "rule_id": f"r{n}",
                            "rule_title": title,
                            "level": level,
                            "tactic": tactic,
                            "host": host,
                            "state": state,
                            "alert": f"a{n}",
                        },
                        {
                            "count": count,
                            "alert_id": f"a{n}",
                            "src_ip": "203.0.113.7",
                            "user": "root",
                            "title": f"{title} on {host}",
                            "open": int(state in ("new", "acknowledged")),
                            "events": count * (i - (STEPS - ALERT_WRITES) + 1),
                            "status": state,
                        },
                    )
                )
        flow_tags = {"exporter": EXPORTER, "device": "core-dx-01", "site": "dong-xoai"}
        for kind, table in (
            ("src", TOP_SRC),
            ("dst", TOP_DST),
            ("service", TOP_SERVICE),
            ("conversation", TOP_CONV),
        ):
            for rank, (key, nbytes) in enumerate(table.items(), start=1):
                pts.append(
                    schema.FLOW_TOP.point(
                        t,
                        {**flow_tags, "kind": kind, "key": key},
                        {
                            "bytes": nbytes,
                            "packets": nbytes // 100,
                            "flows": 1,
                            "bps": nbytes * 8 / STEP_S,
                            "rank": 0 if key == "other" else rank,
                        },
                    )
                )
        for ipv, share in (("4", 0.8), ("6", 0.2)):
            nbytes = int(TOTAL_BYTES * share)
            pts.append(
                schema.FLOW_TOTAL.point(
                    t,
                    {**flow_tags, "ip_version": ipv, "sampled": "false"},
                    {"bytes": nbytes, "packets": nbytes // 100, "flows": 10, "bps": nbytes * 8 / STEP_S},
                )
            )
        for direction in ("in", "out"):
            pts.append(
                schema.FLOW_INTERFACE.point(
                    t,
                    {**flow_tags, "ifindex": "3", "ifname": "xe-0/0/1", "direction": direction},
                    {"bytes": TOTAL_BYTES // 2, "packets": 60, "flows": 5, "bps": TOTAL_BYTES * 4 / STEP_S},
                )
            )
        # component counters are cumulative since start
        pts.append(
            schema.FLOW_COLLECTOR.point(
                t,
                {"exporter": EXPORTER, "version": "9"},
                {
                    "datagrams": 10 * i,
                    "records": 300 * i,
                    "decode_errors": i // 10,
                    "sequence_lost": i // 5,
                    "template_missing": 0,
                    "unsampled": 0,
                },
            )
        )
        pts.append(schema.FLOW_PIPELINE.point(t, {}, {"kernel_drops": 0, "app_drops": i // 25,
                                                      "points": 40 * i, "late_records": 0}))
        for comp in ("syslog_udp", "engine"):
            pts.append(
                schema.LOG_COLLECTOR.point(
                    t,
                    {"component": comp},
                    {
                        "received": 100 * i,
                        "parsed": 95 * i,
                        "unparsed": 5 * i,
                        "dropped": i // 10,
                        "matches": 2 * i,
                        "alerts": i,
                        "suppressed": 0,
                        "events_per_s": 100 / STEP_S,
                    },
                )
            )
        pts.append(
            schema.SINK.point(
                t,
                {"sink": "influxdb1"},
                {
                    "written": 1000 * i,
                    "batches": i,
                    "retries": i // 20,
                    "rejected": 0,
                    "spooled": 0,
                    "replayed": 0,
                    "spool_dropped": 0,
                    "spool_bytes": 4096 if 20 <= i < 25 else 0,
                    "queue": 0,
                },
            )
        )
        pts.append(
            schema.LOG_EVENT.point(
                t,
                {"source": "syslog_udp", "parser": "sshd", "host": "web-01"},
                {"events": 100, "unparsed": 5},
            )
        )
    return Dataset(pts, start + (STEPS - 1) * STEP_S * 1_000_000_000)
