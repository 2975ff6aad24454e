"""Syslog from the simulated backbone: everyday noise plus the scripted attacks and incidents.

Servers speak RFC 5424 (rsyslog style: sshd, nginx access logs, cron); routers, switches and the
firewall speak RFC 3164 (Cisco `%FAC-SEV-MNEMONIC` messages, netfilter `kernel:` LOG lines).
Every line is a pure function of (seed, speed, anchor, tick); timestamps are real (UTC) so they
line up with SNMP and flow data. Attack sources are documentation addresses (RFC 5737).
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nocsoc.inventory.model import Role
from nocsoc.simulate.clock import stream_seed
from nocsoc.simulate.events import portal_servers
from nocsoc.simulate.lab import Lab
from nocsoc.simulate.topology import SimDevice

# facility * 8 + severity
AUTHPRIV_INFO, AUTHPRIV_NOTICE, CRON_INFO, LOCAL7_INFO, KERN_WARNING = 86, 85, 78, 190, 4
LOCAL7 = 23 * 8
ADMIN_SOURCES = ("10.10.0.5", "10.10.0.6", "10.10.0.12")
ADMIN_USERS = ("noc-ops", "sysadmin", "deploy")
UA_BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
PORTAL_PAGES = (
    "/",
    "/dich-vu-cong/thu-tuc-hanh-chinh",
    "/dich-vu-cong/nop-ho-so",
    "/tra-cuu-ho-so",
    "/static/js/app.js",
    "/static/css/main.css",
    "/api/v1/ho-so/trang-thai",
    "/dang-nhap",
    "/tin-tuc/thong-bao",
)
SQLI_URIS = (
    "/tra-cuu-ho-so?ma=1%27%20OR%20%271%27=%271",
    "/tra-cuu-ho-so?ma=1%20UNION%20SELECT%20username,password%20FROM%20users--",
    "/api/v1/ho-so/trang-thai?id=1;DROP%20TABLE%20ho_so--",
    "/tin-tuc?id=5%20AND%201=1",
    "/tra-cuu-ho-so?ma=1%27%20AND%20SLEEP(5)--%20-",
    "/dang-nhap?user=admin%27--",
)
TRAVERSAL_URIS = (
    "/static/../../../../etc/passwd",
    "/tai-lieu?file=../../../../etc/shadow",
    "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/tai-lieu?file=....//....//etc/passwd",
    "/api/v1/tep?path=../../../../proc/self/environ",
)
SCAN_PORTS = (
    21,
    22,
    23,
    25,
    53,
    80,
    110,
    111,
    135,
    139,
    143,
    161,
    389,
    443,
    445,
    465,
    514,
    587,
    636,
    873,
    993,
    995,
    1080,
    1433,
    1521,
    1723,
    2049,
    2222,
    3306,
    3389,
    4444,
    5060,
    5432,
    5900,
    5985,
    6379,
    6443,
    7001,
    8000,
    8008,
    8080,
    8081,
    8443,
    8888,
    9000,
    9090,
    9200,
    9300,
    10000,
    11211,
    27017,
    50000,
)


@dataclass(order=True)
class Line:
    """One syslog message: when, from which device, and its wire text."""

    t: float
    device: str = field(compare=False)
    text: str = field(compare=False)
    tag: str = field(default="", compare=False)  # the scripted attack this line belongs to


def _rfc3164(pri: int, t: float, host: str, msg: str) -> str:
    d = datetime.fromtimestamp(t, UTC)
    return f"<{pri}>{d.strftime('%b')} {d.day:>2} {d.strftime('%H:%M:%S')} {host} {msg}"


def _sshd(t: float, host: str, pid: int, msg: str) -> Line:
    """One sshd authpriv.info line (RFC 5424), as the attack scripts and the admin logins write."""
    return Line(t, host, _rfc5424(AUTHPRIV_INFO, t, host, "sshd", pid, msg))


def _rfc5424(pri: int, t: float, host: str, app: str, procid: int, msg: str) -> str:
    ts = datetime.fromtimestamp(t, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return f"<{pri}>1 {ts} {host} {app} {procid} - - {msg}"


def _clf_time(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _cisco_time(t: float) -> str:
    d = datetime.fromtimestamp(t, UTC)
    return f"{d.strftime('%H:%M:%S')} UTC {d.strftime('%a %b')} {d.day} {d.year}"


def is_network(dev: SimDevice) -> bool:
    return dev.role in (Role.CORE, Role.DISTRIBUTION, Role.ACCESS)


class SyslogScript:
    """All scripted lines (attacks and incidents), sorted, and the ground truth they make."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.lines: list[Line] = []
        self.attacks: list[dict[str, Any]] = []
        self.link_events: list[dict[str, Any]] = []
        self._build()
        self.lines.sort()
        self._times = [ln.t for ln in self.lines]

    def between(self, t0: float, t1: float) -> list[Line]:
        return self.lines[bisect.bisect_left(self._times, t0) : bisect.bisect_left(self._times, t1)]

    def _at(self, sim_s: float) -> float:
        return self.lab.clock.real_at(sim_s)

    def _record(self, kind: str, source: str, target: str, times: list[float], **extra: object) -> None:
        """Ground truth for one attack; its lines (the untagged ones just added) get its tag."""
        tag = f"attack-{len(self.attacks)}"
        for ln in self.lines[-len(times) :] if times else []:
            ln.tag = tag
        self.attacks.append(
            {
                "id": tag,
                "kind": kind,
                "source": source,
                "target": target,
                "count": len(times),
                "first": min(times),
                "last": max(times),
                **extra,
            }
        )

    def _build(self) -> None:
        lab, s = self.lab, self.lab.script
        rng = random.Random(stream_seed(lab.seed, "syslog-script"))
        for b in s.ssh_brute_force:
            times = []
            for n in range(b.attempts):
                t = self._at(b.at_s + n * b.interval_s)
                user = b.users[n % len(b.users)]
                who = user if user in ("root", "admin") else f"invalid user {user}"
                port = 40000 + rng.randrange(20000)
                self.lines.append(
                    _sshd(
                        t,
                        b.target,
                        3000 + n,
                        f"Failed password for {who} from {b.source} port {port} ssh2",
                    )
                )
                times.append(t)
            self._record("ssh_brute_force", b.source, b.target, times, users=sorted(set(b.users)))
            if b.success_user:
                t = self._at(b.at_s + b.attempts * b.interval_s + b.success_after_s)
                port = 40000 + rng.randrange(20000)
                self.lines.append(
                    _sshd(
                        t,
                        b.target,
                        3999,
                        f"Accepted password for {b.success_user} from {b.source} port {port} ssh2",
                    )
                )
                self._record("ssh_login_after_brute_force", b.source, b.target, [t], user=b.success_user)
        for w in s.web_attacks:
            uris = SQLI_URIS if w.kind == "sqli" else TRAVERSAL_URIS
            times = []
            for n in range(w.count):
                t = self._at(w.at_s + n * w.interval_s)
                status = rng.choice((200, 500, 403)) if w.kind == "sqli" else rng.choice((400, 403, 404))
                access = (
                    f'{w.source} - - [{_clf_time(t)}] "GET {uris[n % len(uris)]} HTTP/1.1" {status} '
                    f'{rng.randrange(200, 9000)} "-" "{UA_BROWSER}"'
                )
                self.lines.append(Line(t, w.target, _rfc5424(LOCAL7_INFO, t, w.target, "nginx", 811, access)))
                times.append(t)
            self._record("web_" + w.kind, w.source, w.target, times)
        for p in s.port_scans:
            times = []
            dst = lab.topo.device(p.target).device.address
            ports = list(SCAN_PORTS)
            rng.shuffle(ports)
            for n in range(p.ports):
                t = self._at(p.at_s + n * p.interval_s)
                dpt = ports[n % len(ports)] if n < len(ports) else 1024 + n
                uptime = lab.uptime_s(p.target, t)
                msg = (
                    f"kernel: [{uptime:.6f}] FW-DROP: IN=eth1 OUT= "
                    "MAC=00:00:5e:00:01:01:52:54:00:12:34:56:08:00 "
                    f"SRC={p.source} DST={dst} LEN=44 TOS=0x00 PREC=0x00 TTL=49 ID={rng.randrange(65536)} "
                    f"PROTO=TCP SPT={33000 + n} DPT={dpt} WINDOW=1024 RES=0x00 SYN URGP=0"
                )
                self.lines.append(Line(t, p.target, _rfc3164(KERN_WARNING, t, p.target, msg)))
                times.append(t)
            self._record("port_scan", p.source, p.target, times, ports=p.ports)
        for r in s.router_login_failures:
            times = []
            for n in range(r.count):
                t = self._at(r.at_s + n * r.interval_s)
                msg = (
                    f"%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: {r.users[n % len(r.users)]}] "
                    f"[Source: {r.source}] [localport: 22] [Reason: Login Authentication Failed] "
                    f"at {_cisco_time(t)}"
                )
                self.lines.append(Line(t, r.target, _rfc3164(LOCAL7 + 4, t, r.target, msg)))
                times.append(t)
            self._record("router_login_failed", r.source, r.target, times)
        self._link_lines()

    def _link_change(self, device: str, ifname: str, t: float, up: bool, cause: str) -> None:
        dev = self.lab.topo.device(device)
        state = "up" if up else "down"
        if is_network(dev):
            self.lines.append(
                Line(
                    t,
                    device,
                    _rfc3164(
                        LOCAL7 + 3, t, device, f"%LINK-3-UPDOWN: Interface {ifname}, changed state to {state}"
                    ),
                )
            )
            self.lines.append(
                Line(
                    t + 0.001,
                    device,
                    _rfc3164(
                        LOCAL7 + 5,
                        t + 0.001,
                        device,
                        f"%LINEPROTO-5-UPDOWN: Line protocol on Interface {ifname}, changed state to {state}",
                    ),
                )
            )
        elif dev.role in (Role.SERVER, Role.FIREWALL):
            msg = f"{ifname}: Link is {'Up - 10Gbps/Full - flow control off' if up else 'Down'}"
            self.lines.append(Line(t, device, _rfc3164(KERN_WARNING + 2, t, device, f"kernel: {msg}")))
        else:
            return
        self.link_events.append(
            {"device": device, "interface": ifname, "state": state, "time": t, "cause": cause}
        )

    def _link_lines(self) -> None:
        lab, c = self.lab, self.lab.clock
        for f in lab.script.link_flaps:
            down, up = c.tick_start(c.tick_of_sim(f.at_s)), c.tick_start(c.tick_of_sim(f.at_s + f.down_s))
            for i in lab.topo.link_interfaces(f.link):
                self._link_change(i.device, i.name, down, False, f"flap {f.link}")
                self._link_change(i.device, i.name, up, True, f"flap {f.link}")
        for r in lab.script.reboots:
            down = c.tick_start(c.tick_of_sim(r.at_s))
            up = c.tick_start(c.tick_of_sim(r.at_s + r.down_s))
            dev = lab.topo.device(r.device)
            for i in dev.interfaces:
                if i.peer_device and i.peer_interface:
                    self._link_change(i.peer_device, i.peer_interface, down, False, f"reboot {r.device}")
                    self._link_change(i.peer_device, i.peer_interface, up + 0.5, True, f"reboot {r.device}")
            if is_network(dev):
                self.lines.append(
                    Line(
                        up + 0.5,
                        r.device,
                        _rfc3164(
                            LOCAL7 + 5,
                            up + 0.5,
                            r.device,
                            "%SYS-5-RESTART: System restarted -- Cisco IOS Software, Version 17.9.4a",
                        ),
                    )
                )


class SyslogEmitter:
    """Lines for tick k: the scripted ones falling in the tick plus everyday noise."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.script = SyslogScript(lab)
        self.portal = [d.name for d in portal_servers(lab.topo)]
        self.servers = [d.name for d in lab.topo.servers()]
        self.network = [d.name for d in lab.topo.devices if is_network(d)]
        self.firewalls = [d.name for d in lab.topo.devices if d.role is Role.FIREWALL]

    def lines_for(self, k: int) -> list[Line]:
        lab, c = self.lab, self.lab.clock
        t0, t1 = c.tick_start(k), c.tick_start(k + 1)
        rng = random.Random(stream_seed(lab.seed, "syslog", k))
        out = [ln for ln in self.script.between(t0, t1) if lab.reachable(ln.device, ln.t)]
        curve = lab.traffic.cell(k)[0].sum() / max(lab.traffic.peak.sum(), 1.0)
        per_sim_s = c.speed * c.tick_s  # simulated seconds in this tick
        for name in self.portal:
            for _ in range(int(6 * curve * c.tick_s + rng.random())):
                t = rng.uniform(t0, t1)
                client = f"100.{64 + rng.randrange(8)}.{rng.randrange(256)}.{1 + rng.randrange(254)}"
                page = rng.choice(PORTAL_PAGES)
                status = 200 if rng.random() < 0.93 else rng.choice((301, 304, 404))
                access = (
                    f'{client} - - [{_clf_time(t)}] "GET {page} HTTP/1.1" {status} '
                    f'{rng.randrange(400, 60000)} "https://dichvucong.example.gov.vn/" "{UA_BROWSER}"'
                )
                out.append(Line(t, name, _rfc5424(LOCAL7_INFO, t, name, "nginx", 811, access)))
        for name in self.servers:
            # an admin logs in about four times per simulated hour per server
            if rng.random() < 4 / 3600 * per_sim_s:
                t = rng.uniform(t0, t1)
                user, src = rng.choice(ADMIN_USERS), rng.choice(ADMIN_SOURCES)
                pid = 20000 + rng.randrange(9000)
                out.append(
                    _sshd(
                        t,
                        name,
                        pid,
                        f"Accepted publickey for {user} from {src} port {40000 + rng.randrange(20000)} "
                        "ssh2: "
                        f"ED25519 SHA256:{rng.getrandbits(128):032x}",
                    )
                )
                out.append(
                    _sshd(
                        t + 0.01,
                        name,
                        pid,
                        f"pam_unix(sshd:session): session opened for user {user}(uid=1001) by (uid=0)",
                    )
                )
            # cron every five simulated minutes
            for m in range(int(c.sim_offset(t0) // 300) + 1, int(c.sim_offset(t1) // 300) + 1):
                t = c.real_at(m * 300.0)
                out.append(
                    Line(
                        t,
                        name,
                        _rfc5424(
                            CRON_INFO,
                            t,
                            name,
                            "CRON",
                            30000 + m % 9000,
                            "(root) CMD (/usr/local/sbin/backup-incremental.sh)",
                        ),
                    )
                )
        for name in self.network:
            if rng.random() < 2 / 3600 * per_sim_s:
                t = rng.uniform(t0, t1)
                out.append(
                    Line(
                        t,
                        name,
                        _rfc3164(
                            LOCAL7 + 5,
                            t,
                            name,
                            f"%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: noc-ops] [Source: "
                            f"{rng.choice(ADMIN_SOURCES)}] [localport: 22] at {_cisco_time(t)}",
                        ),
                    )
                )
        for name in self.firewalls:
            if rng.random() < 0.5 * c.tick_s:
                t = rng.uniform(t0, t1)
                first = rng.choice((45, 80, 185, 193))  # internet background scanners
                src = f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                dst = lab.topo.device(name).device.address
                msg = (
                    f"kernel: [{lab.uptime_s(name, t):.6f}] FW-DROP: IN=eth1 OUT= SRC={src} DST={dst} LEN=40 "
                    f"TOS=0x00 PREC=0x00 TTL=240 ID={rng.randrange(65536)} PROTO=TCP "
                    f"SPT={rng.randrange(1024, 65535)} "
                    f"DPT={rng.choice((23, 445, 3389))} WINDOW=1024 RES=0x00 SYN URGP=0"
                )
                out.append(Line(t, name, _rfc3164(KERN_WARNING, t, name, msg)))
        out = [ln for ln in out if lab.reachable(ln.device, ln.t)]
        out.sort()
        return out
