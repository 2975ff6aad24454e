"""A benign "day of a province's Windows estate" as one .evtx file, from SigmaHQ's real records.

Why: the regression recordings (../shared/sigmahq/regression_data) are attack samples, nearly
every one made to fire a rule, so a bench on them measures the engine where it is dearest. A
production log is overwhelmingly benign (system processes starting, caches written, registry
settings of ordinary software, DLLs loaded), and a SOC is sized on that. No such log is in
../shared, so this module makes one honestly: each benign record is a real record's binary XML,
copied token by token by bench/evtx_repack.py (its template definition and names as recorded,
only chunk offsets rewritten), with the *substitution values* (the instance's value array, per
libyal's EVTX document: a size + type descriptor per value, then the values) replaced by benign
ones from the lists below; `ATTACK_SHARE` of the records are the real attack records, unchanged.

Only channels and event IDs whose template is among the real records can be made: Sysmon 1, 7,
10, 11, 12, 13 and Security 4648. The recordings hold no 4624/4634/4672 logon or Sysmon 3
network-connection record, so the day has none (a template is never invented), nor any
destination address or port. Computer names are literal text in these templates (not
substitutions), so they stay as recorded. Hashes are stand-ins derived from the file's path
(MD5/SHA256 of its text): the real ones of each Windows build differ anyway, and no rule's IOC
hash can match them by accident. Times: the benign records spread evenly over `DAY` in order;
the attack records keep theirs.

`verify()` reads the file back with the Rust `evtx` parser and demands, for every benign record,
its template record's JSON with exactly the substituted values changed (each to the rendering
predicted here), and every attack record's JSON byte for byte as in its own file.

Hand-written (bench only, never production): no library writes EVTX.
"""

from __future__ import annotations

import hashlib
import json
import random
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.evtx_repack import CHUNK, HEADER, Packer, SourceRecord, source_records, write_file

Value = str | int | uuid.UUID | datetime
Path_ = tuple[str, ...]

# --- the mix: (kind, share of the benign records); kind = (channel provider, EventID)
SYSMON, SECURITY = "Microsoft-Windows-Sysmon", "Microsoft-Windows-Security-Auditing"
MIX: list[tuple[tuple[str, int], float, str]] = [
    ((SYSMON, 1), 0.20, "Sysmon 1 process creation"),
    ((SYSMON, 11), 0.20, "Sysmon 11 file created"),
    ((SYSMON, 13), 0.22, "Sysmon 13 registry value set"),
    ((SYSMON, 12), 0.10, "Sysmon 12 registry key created"),
    ((SYSMON, 7), 0.18, "Sysmon 7 image loaded"),
    ((SYSMON, 10), 0.06, "Sysmon 10 process accessed"),
    ((SECURITY, 4648), 0.04, "Security 4648 logon with explicit credentials"),
]
ATTACK_SHARE = 0.01  # of all records: SigmaHQ's real attack records, unchanged
DAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday

# --- the estate
DOMAIN, DNS = "SOTTTT", "sotttt.local"  # a province's Department of Information and Communications
DOMAIN_SID = "S-1-5-21-3623811015-3361044348-30300820"
FAMILY = ["nguyen", "tran", "le", "pham", "hoang", "phan", "vu", "dang", "bui", "do", "ho", "ngo"]
GIVEN = ["an", "binh", "cuong", "dung", "giang", "hanh", "hoa", "hung", "lan", "linh", "minh",
         "nam", "phuong", "quang", "son", "thao", "trang", "tuan", "van", "yen"]
USERS = [f"{g}.{f}" for f in FAMILY for g in GIVEN]  # 240 accounts
SERVERS = ["FS01", "MAIL01", "DC01", "DC02", "APP01", "SQL01"]
SYSTEM, NETSVC = "NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\NETWORK SERVICE"
LOCALSVC = "NT AUTHORITY\\LOCAL SERVICE"
MS = ("Microsoft\u00ae Windows\u00ae Operating System", "Microsoft Corporation",
      "10.0.19041.3636 (WinBuild.160101.0800)")

# process creations: image, command line ({u}: the user), parent key, account ("user" or a
# service account), integrity level, description, weight
SVCHOST = "C:\\Windows\\System32\\svchost.exe"
PARENTS: dict[str, tuple[str, str]] = {
    "services": ("C:\\Windows\\System32\\services.exe", "C:\\Windows\\system32\\services.exe"),
    "dcom": (SVCHOST, "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p"),
    "schedule": (SVCHOST, "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule"),
    "explorer": ("C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE"),
    "chrome": ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
               "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" "),
    "msedge": ("C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
               "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" "
               "--profile-directory=Default"),
    "indexer": ("C:\\Windows\\System32\\SearchIndexer.exe",
                "C:\\Windows\\system32\\SearchIndexer.exe /Embedding"),
    "c2r": ("C:\\Program Files\\Common Files\\microsoft shared\\ClickToRun\\OfficeClickToRun.exe",
            "\"C:\\Program Files\\Common Files\\Microsoft Shared\\ClickToRun\\OfficeClickToRun.exe\" "
            "/service"),
}
PROCESSES: list[tuple[str, str, str, str, str, str, int]] = [
    (SVCHOST, "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", "services", SYSTEM,
     "System", "Host Process for Windows Services", 6),
    (SVCHOST, "C:\\Windows\\system32\\svchost.exe -k LocalServiceNetworkRestricted -p -s wscsvc",
     "services", LOCALSVC, "System", "Host Process for Windows Services", 3),
    (SVCHOST, "C:\\Windows\\System32\\svchost.exe -k NetworkService -p -s Dnscache", "services",
     NETSVC, "System", "Host Process for Windows Services", 2),
    ("C:\\Windows\\System32\\conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",
     "c2r", SYSTEM, "System", "Console Window Host", 8),
    ("C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe", "schedule", "user", "Medium",
     "Host Process for Windows Tasks", 6),
    ("C:\\Windows\\System32\\RuntimeBroker.exe", "C:\\Windows\\System32\\RuntimeBroker.exe -Embedding",
     "dcom", "user", "Medium", "Runtime Broker", 8),
    ("C:\\Windows\\System32\\backgroundTaskHost.exe",
     "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" -ServerName:BackgroundTaskHost.WebAccountProvider",
     "dcom", "user", "Low", "Background Task Host", 4),
    ("C:\\Windows\\System32\\SearchProtocolHost.exe",
     "\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe12_ "
     "Global\\UsGthrCtrlFltPipeMssGthrPipe12 1 -2147483646 \"Software\\Microsoft\\Windows Search\" "
     "\"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)\" "
     "\"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc\" \"DownLevelDaemon\" ",
     "indexer", SYSTEM, "System", "Microsoft Windows Search Protocol Host", 5),
    ("C:\\Windows\\System32\\SearchFilterHost.exe",
     "\"C:\\Windows\\system32\\SearchFilterHost.exe\" 0 800 804 812 8192 808 ", "indexer", SYSTEM,
     "System", "Microsoft Windows Search Filter Host", 5),
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
     "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=renderer "
     "--lang=vi --device-scale-factor=1 --num-raster-threads=2 --enable-main-frame-before-activation "
     "--renderer-client-id=7 --time-ticks-at-unix-epoch=-1709330052318462 "
     "--launch-time-ticks=2741318842 --mojo-platform-channel-handle=3524 "
     "--field-trial-handle=1928,i,1270437616125493961,14263817582104328418,262144 /prefetch:1",
     "chrome", "user", "Low", "Google Chrome", 14),
    ("C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
     "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" --type=utility "
     "--utility-sub-type=network.mojom.NetworkService --lang=vi --service-sandbox-type=none "
     "--mojo-platform-channel-handle=2212 --field-trial-handle=1960,i,3867263416092346553,"
     "6150470196546834425,262144 /prefetch:3", "msedge", "user", "Medium", "Microsoft Edge", 6),
    ("C:\\Windows\\System32\\wbem\\WmiPrvSE.exe",
     "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding",
     "dcom", NETSVC, "System", "WMI Provider Host", 4),
    ("C:\\Windows\\System32\\dllhost.exe",
     "C:\\Windows\\system32\\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}",
     "dcom", "user", "Medium", "COM Surrogate", 4),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
     "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\" ", "explorer", "user",
     "Medium", "Microsoft Outlook", 3),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
     "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE\" /n "
     "\"C:\\Users\\{u}\\Documents\\Bao cao tuan.docx\" /o \"\"", "explorer", "user", "Medium",
     "Microsoft Word", 3),
    ("C:\\Windows\\System32\\notepad.exe", "\"C:\\Windows\\system32\\notepad.exe\" "
     "C:\\Users\\{u}\\Desktop\\ghi chu.txt", "explorer", "user", "Medium", "Notepad", 2),
    ("C:\\Windows\\System32\\smartscreen.exe", "C:\\Windows\\System32\\smartscreen.exe -Embedding",
     "dcom", "user", "Medium", "Windows Defender SmartScreen", 2),
    ("C:\\Windows\\System32\\audiodg.exe", "C:\\Windows\\system32\\AUDIODG.EXE 0x4a8", "services",
     LOCALSVC, "System", "Windows Audio Device Graph Isolation", 2),
    ("C:\\Windows\\System32\\sppsvc.exe", "C:\\Windows\\system32\\sppsvc.exe", "services", NETSVC,
     "System", "Microsoft Software Protection Platform Service", 1),
]
NON_MS = {"chrome.exe": ("Google Chrome", "Google LLC", "122.0.6261.95"),
          "msedge.exe": ("Microsoft Edge", "Microsoft Corporation", "122.0.2365.59"),
          "OUTLOOK.EXE": ("Microsoft Office", "Microsoft Corporation", "16.0.17328.20162"),
          "WINWORD.EXE": ("Microsoft Office", "Microsoft Corporation", "16.0.17328.20162")}
# files written: image, target ({u} user, {h} hex), account
FILES: list[tuple[str, str, str]] = [
    (PARENTS["chrome"][0], "C:\\Users\\{u}\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache"
     "\\Cache_Data\\f_{h6}", "user"),
    (PARENTS["chrome"][0], "C:\\Users\\{u}\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\"
     "Code Cache\\js\\{h16}_0", "user"),
    (PARENTS["msedge"][0], "C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Edge\\User Data\\Default\\Cache"
     "\\Cache_Data\\f_{h6}", "user"),
    (SVCHOST, "C:\\Windows\\Prefetch\\RUNTIMEBROKER.EXE-{H8}.pf", SYSTEM),
    (SVCHOST, "C:\\Windows\\Prefetch\\CONHOST.EXE-{H8}.pf", SYSTEM),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
     "C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\Content.Outlook\\{H8}\\image001.png",
     "user"),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
     "C:\\Users\\{u}\\Documents\\~$o cao tuan.docx", "user"),
    ("C:\\Windows\\System32\\SearchIndexer.exe", "C:\\ProgramData\\Microsoft\\Search\\Data\\Applications"
     "\\Windows\\GatherLogs\\SystemIndex\\SystemIndex.{n}.Crwl", SYSTEM),
    ("C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MsMpEng.exe",
     "C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\mpcache-{h16}.bin", SYSTEM),
]
# registry: image, key ({s}: the user's SID, {g}: a GUID), value detail, account
REG_SET: list[tuple[str, str, str, str]] = [
    ("C:\\Windows\\explorer.exe", "HKU\\{s}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer"
     "\\UserAssist\\{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\\Count\\HRZR_PGYFRFFVBA", "Binary Data", "user"),
    ("C:\\Windows\\explorer.exe", "HKU\\{s}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer"
     "\\FeatureUsage\\AppSwitched\\Microsoft.Windows.Explorer", "DWORD (0x00000012)", "user"),
    (PARENTS["chrome"][0], "HKU\\{s}\\Software\\Google\\Chrome\\BLBeacon\\state",
     "DWORD (0x00000001)", "user"),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
     "HKU\\{s}\\Software\\Microsoft\\Office\\16.0\\Outlook\\Profiles\\Outlook\\"
     "9375CFF0413111d3B88A00104B2A6676\\00000002\\Delivery Store EntryID", "Binary Data", "user"),
    (SVCHOST, "HKLM\\System\\CurrentControlSet\\Services\\Tcpip\\Parameters\\Interfaces\\{g}\\DhcpIPAddress",
     "10.{a}.{b}.{c}", SYSTEM),
    (SVCHOST, "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\"
     "LastOnlineScanTimeForAppCategory\\{g}", "QWORD (0x01da6c2b-0x9f1e4c30)", SYSTEM),
    ("C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MsMpEng.exe",
     "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates\\SignaturesLastUpdated",
     "Binary Data", SYSTEM),
    ("C:\\Windows\\System32\\SearchIndexer.exe", "HKLM\\SOFTWARE\\Microsoft\\Windows Search\\"
     "Gather\\Windows\\SystemIndex\\Sites\\LocalHost\\Paths\\{n}", "DWORD (0x00000001)", SYSTEM),
]
REG_KEY: list[tuple[str, str, str]] = [
    ("C:\\Windows\\explorer.exe", "HKU\\{s}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer"
     "\\RecentDocs\\.docx", "user"),
    (SVCHOST, "HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings\\{s}", SYSTEM),
    (PARENTS["chrome"][0], "HKU\\{s}\\Software\\Google\\Chrome\\PreferenceMACs\\Default", "user"),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
     "HKU\\{s}\\Software\\Microsoft\\Office\\16.0\\Word\\Reading Locations\\Document 0", "user"),
    ("C:\\Windows\\System32\\RuntimeBroker.exe", "HKU\\{s}\\Software\\Microsoft\\Windows\\"
     "CurrentVersion\\CapabilityAccessManager\\ConsentStore\\location", "user"),
]
# DLLs loaded: file, description
DLLS: list[tuple[str, str]] = [
    ("ntdll.dll", "NT Layer DLL"), ("kernel32.dll", "Windows NT BASE API Client DLL"),
    ("KernelBase.dll", "Windows NT BASE API Client DLL"),
    ("user32.dll", "Multi-User Windows USER API Client DLL"),
    ("combase.dll", "Microsoft COM for Windows"), ("rpcrt4.dll", "Remote Procedure Call Runtime"),
    ("sechost.dll", "Host for SCM/SDDL/LSA Lookup APIs"),
    ("bcrypt.dll", "Windows Cryptographic Primitives Library"),
    ("advapi32.dll", "Advanced Windows 32 Base API"), ("msvcrt.dll", "Windows NT CRT DLL"),
    ("ole32.dll", "Microsoft OLE for Windows"), ("shell32.dll", "Windows Shell Common Dll"),
    ("ws2_32.dll", "Windows Socket 2.0 32-Bit DLL"), ("crypt32.dll", "Crypto API32"),
    ("gdi32.dll", "GDI Client DLL"), ("uxtheme.dll", "Microsoft UxTheme Library"),
]
LOADERS = [PARENTS["chrome"][0], PARENTS["msedge"][0], SVCHOST, "C:\\Windows\\explorer.exe",
           "C:\\Windows\\System32\\RuntimeBroker.exe",
           "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE"]
# process access: source image, target image, access mask
ACCESS: list[tuple[str, str, int]] = [
    (SVCHOST, "C:\\Windows\\System32\\RuntimeBroker.exe", 0x1000),
    ("C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MsMpEng.exe",
     PARENTS["chrome"][0], 0x1000),
    ("C:\\Windows\\System32\\taskmgr.exe", "C:\\Windows\\explorer.exe", 0x1400),
    ("C:\\Windows\\System32\\csrss.exe", "C:\\Windows\\System32\\conhost.exe", 0x1FFFFF),
    (PARENTS["chrome"][0], PARENTS["chrome"][0], 0x101541),
]
CALLTRACE = ("C:\\Windows\\SYSTEM32\\ntdll.dll+9d4c4|C:\\Windows\\System32\\KERNELBASE.dll+2c13e|"
             "C:\\Windows\\System32\\KERNELBASE.dll+{o}|C:\\Windows\\system32\\{m}+1a2f3|"
             "C:\\Windows\\System32\\KERNEL32.DLL+17614|C:\\Windows\\SYSTEM32\\ntdll.dll+526f1")


def _filetime(t: datetime) -> int:
    return (t - datetime(1601, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 10


def _sid_bytes(sid: str) -> bytes:
    parts = sid.split("-")
    subs = [int(x) for x in parts[3:]]
    return struct.pack("<BB", int(parts[1]), len(subs)) + int(parts[2]).to_bytes(6, "big") \
        + b"".join(struct.pack("<I", s) for s in subs)


class Sid(str):
    """A value to be written as an NT security identifier (type 0x13), not as text."""


INT_TYPES = {0x04: "<B", 0x06: "<H", 0x08: "<I", 0x0A: "<Q", 0x14: "<I", 0x15: "<Q"}


def encode(vtype: int, v: Value) -> bytes:
    """A value's bytes for its descriptor's type (libyal: value types 0x01 string, 0x04-0x0A
    unsigned, 0x0F GUID, 0x11 FILETIME, 0x13 SID, 0x14/0x15 hexadecimal)."""
    if vtype == 0x01 and isinstance(v, str) and not isinstance(v, Sid):
        return v.encode("utf-16-le")
    if vtype in INT_TYPES and isinstance(v, int):
        return struct.pack(INT_TYPES[vtype], v)
    if vtype == 0x0F and isinstance(v, uuid.UUID):
        return v.bytes_le
    if vtype == 0x11 and isinstance(v, datetime):
        return struct.pack("<Q", _filetime(v))
    if vtype == 0x13 and isinstance(v, Sid):
        return _sid_bytes(v)
    raise ValueError(f"value {v!r} does not fit type {vtype:#x}")


def rendered(vtype: int, v: Value) -> Any:
    """What the evtx crate's JSON shows for a value (as its rendering of the real records does)."""
    if vtype in (0x14, 0x15) and isinstance(v, int):
        return f"0x{v:x}"
    if isinstance(v, uuid.UUID):
        return str(v).upper()
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(v) if isinstance(v, str) else v


def template_fields(src: bytes, body: tuple[int, int]) -> dict[int, Path_]:
    """Substitution index -> the JSON path the value lands at (element names, a `Data` element
    by its Name attribute, an attribute under "#attributes"), read from the template body."""
    def name(p: int) -> tuple[str, int]:
        off = struct.unpack_from("<I", src, p)[0]
        n = struct.unpack_from("<H", src, off + 6)[0]
        after = p + 4 + (8 + 2 * n + 2 if off == p + 4 else 0)  # past the name when defined here
        return src[off + 8:off + 8 + 2 * n].decode("utf-16-le"), after

    p, end = body
    stack: list[str] = []
    attrs: dict[str, str] = {}
    attr: str | None = None
    out: dict[int, Path_] = {}
    while p < end and src[p] != 0:
        tok = src[p]
        t = tok & 0xBF
        if t == 0x0F:
            p += 4
        elif t == 0x01:
            nm, p = name(p + 7)
            p += 4 if tok & 0x40 else 0
            stack.append(nm)
            attrs, attr = {}, None
        elif t == 0x06:
            attr, p = name(p + 1)
        elif t == 0x02:
            attr, p = None, p + 1
            if stack[-1] == "Data" and "Name" in attrs:
                stack[-1] = attrs["Name"]
        elif t in (0x03, 0x04):
            stack.pop()
            attr, p = None, p + 1
        elif t == 0x05:
            n = struct.unpack_from("<H", src, p + 2)[0]
            if attr:
                attrs[attr] = src[p + 4:p + 4 + 2 * n].decode("utf-16-le")
            p += 4 + 2 * n
        elif t in (0x0D, 0x0E):
            at = tuple(stack) + (("#attributes", attr) if attr else ())
            out[struct.unpack_from("<H", src, p + 1)[0]] = at
            p += 4
        elif t in (0x07, 0x0B):
            p += 3 + 2 * struct.unpack_from("<H", src, p + 1)[0]
        elif t == 0x08:
            p += 3
        elif t in (0x09, 0x0A):
            _, p = name(p + 1)
        else:
            raise ValueError(f"token {tok:#x} in a template body")
    return out


@dataclass
class _Rewriter:
    """bench/evtx_repack's Rewriter: applies one record's plan (field -> value) while the record
    is copied, and notes each change (JSON path -> expected rendering)."""

    plan: dict[str, Value] | None = None
    stamp: datetime | None = None
    changes: dict[Path_, Any] = field(default_factory=dict)
    fields_seen: set[str] = field(default_factory=set)
    _pending: list[Path_] = field(default_factory=list)
    _cache: dict[tuple[int, int], dict[int, Path_]] = field(default_factory=dict)

    def begin(self, plan: dict[str, Value] | None, stamp: datetime | None) -> None:
        self.plan, self.stamp, self.changes, self.fields_seen, self._pending = plan, stamp, {}, set(), []

    def values(self, src: bytes, body: tuple[int, int],
               values: list[tuple[int, bytes]]) -> list[bytes | None]:
        key = (id(src), body[0])
        if key not in self._cache:
            self._cache[key] = template_fields(src, body)
        paths = self._cache[key]
        prefix = self._pending.pop(0) if self._pending else ()
        self._pending[0:0] = [prefix + paths.get(i, ()) for i, (t, _) in enumerate(values) if t == 0x21]
        new: list[bytes | None] = [None] * len(values)
        if self.plan is None:
            return new
        for i, (vtype, _raw) in enumerate(values):
            path = prefix + paths.get(i, ())
            if vtype == 0x21 or not path:
                continue
            name = ("System/" if "System" in path else "") + path[-1]
            self.fields_seen.add(name)
            if name in self.plan:
                new[i] = encode(vtype, self.plan[name])
                self.changes[path] = rendered(vtype, self.plan[name])
        return new

    def timestamp(self, record: SourceRecord) -> bytes | None:
        return None if self.stamp is None else struct.pack("<Q", _filetime(self.stamp))


@dataclass
class Written:
    source: SourceRecord
    changes: dict[Path_, Any]  # JSON path -> expected value; empty for an attack record
    kind: str  # the mix entry's label, or "attack"
    stamp: bytes | None  # the record header's FILETIME written (None: the source's)


@dataclass
class Day:
    packer: Packer
    written: list[Written]
    counts: dict[str, int]  # kind -> records

    def describe(self) -> str:
        n = sum(self.counts.values())
        return ", ".join(f"{k} {v / n:.0%}" for k, v in sorted(self.counts.items(), key=lambda kv: -kv[1]))


class _Estate:
    """Draws the benign values, deterministically from a seed."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def guid(self) -> uuid.UUID:
        return uuid.UUID(int=self.r.getrandbits(128))

    def user(self) -> str:
        return self.r.choice(USERS)

    def sid(self, user: str) -> Sid:
        return Sid(f"{DOMAIN_SID}-{1100 + USERS.index(user)}")

    def account(self, kind: str, user: str) -> str:
        return f"{DOMAIN}\\{user}" if kind == "user" else kind

    @staticmethod
    def hashes(image: str) -> str:
        b = image.lower().encode()
        return (f"MD5={hashlib.md5(b).hexdigest().upper()},SHA256={hashlib.sha256(b).hexdigest().upper()},"
                f"IMPHASH={hashlib.md5(b'imp' + b).hexdigest().upper()}")

    def fill(self, text: str, user: str) -> str:
        r = self.r
        return (text.replace("{u}", user).replace("{s}", self.sid(user))
                .replace("{g}", "{" + str(self.guid()).upper() + "}")
                .replace("{h6}", f"{r.getrandbits(24):06x}").replace("{h16}", f"{r.getrandbits(64):016x}")
                .replace("{H8}", f"{r.getrandbits(32):08X}").replace("{n}", str(r.randint(1, 99)))
                .replace("{a}", str(r.randint(1, 40))).replace("{b}", str(r.randint(0, 255)))
                .replace("{c}", str(r.randint(2, 254))))

    def plan(self, kind: tuple[str, int], t: datetime, record_id: int) -> dict[str, Value]:
        r = self.r
        user = self.user()
        utc = (t - timedelta(milliseconds=r.randint(1, 40))).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        p: dict[str, Value] = {"System/SystemTime": t, "System/EventRecordID": record_id,
                               "System/ProcessID": r.choice([3208, 3308, 3544, 2996]),
                               "System/ThreadID": r.randint(1000, 9000), "RuleName": "-", "UtcTime": utc}
        pid = r.randint(400, 30000)
        if kind == (SYSMON, 1):
            image, cmd, parent, acct, level, desc, _w = r.choices(PROCESSES, [x[6] for x in PROCESSES])[0]
            exe = image.rsplit("\\", 1)[1]
            prod, comp, ver = NON_MS.get(exe, MS)
            pimage, pcmd = PARENTS[parent]
            pacct = self.account(acct if parent not in ("explorer", "chrome", "msedge") else "user", user)
            p |= {"ProcessGuid": self.guid(), "ProcessId": pid, "Image": image, "FileVersion": ver,
                  "Description": desc, "Product": prod, "Company": comp, "OriginalFileName": exe,
                  "CommandLine": self.fill(cmd, user),
                  "CurrentDirectory": f"C:\\Users\\{user}\\" if acct == "user" else "C:\\Windows\\system32\\",
                  "User": self.account(acct, user), "LogonGuid": self.guid(),
                  "LogonId": 0x3E7 if acct == SYSTEM else 0x3E4 if acct == NETSVC else 0x3E5
                  if acct == LOCALSVC else r.randint(0x30000, 0x9FFFFF),
                  "TerminalSessionId": 1 if acct == "user" else 0, "IntegrityLevel": level,
                  "Hashes": self.hashes(image), "ParentProcessGuid": self.guid(),
                  "ParentProcessId": r.randint(400, 30000), "ParentImage": pimage,
                  "ParentCommandLine": pcmd, "ParentUser": pacct}
        elif kind == (SYSMON, 11):
            image, target, acct = r.choice(FILES)
            p |= {"ProcessGuid": self.guid(), "ProcessId": pid, "Image": image,
                  "TargetFilename": self.fill(target, user), "CreationUtcTime": utc,
                  "User": self.account(acct, user)}
        elif kind == (SYSMON, 13):
            image, key, detail, acct = r.choice(REG_SET)
            p |= {"EventType": "SetValue", "ProcessGuid": self.guid(), "ProcessId": pid, "Image": image,
                  "TargetObject": self.fill(key, user), "Details": self.fill(detail, user),
                  "User": self.account(acct, user)}
        elif kind == (SYSMON, 12):
            image, key, acct = r.choice(REG_KEY)
            p |= {"EventType": "CreateKey", "ProcessGuid": self.guid(), "ProcessId": pid, "Image": image,
                  "TargetObject": self.fill(key, user), "User": self.account(acct, user)}
        elif kind == (SYSMON, 7):
            dll, desc = r.choice(DLLS)
            image = r.choice(LOADERS)
            loaded = f"C:\\Windows\\System32\\{dll}"
            p |= {"ProcessGuid": self.guid(), "ProcessId": pid, "Image": image, "ImageLoaded": loaded,
                  "FileVersion": MS[2], "Description": desc, "Product": MS[0], "Company": MS[1],
                  "OriginalFileName": dll, "Hashes": self.hashes(loaded), "Signed": "true",
                  "Signature": "Microsoft Windows", "SignatureStatus": "Valid",
                  "User": self.account("user" if image != SVCHOST else SYSTEM, user)}
        elif kind == (SYSMON, 10):
            src, dst, access = r.choice(ACCESS)
            p |= {"SourceProcessGUID": self.guid(), "SourceProcessId": pid,
                  "SourceThreadId": r.randint(1000, 20000), "SourceImage": src,
                  "TargetProcessGUID": self.guid(), "TargetProcessId": r.randint(400, 30000),
                  "TargetImage": dst, "GrantedAccess": access,
                  "CallTrace": CALLTRACE.replace("{o}", f"{r.randint(0x1000, 0xfffff):x}")
                  .replace("{m}", r.choice(["combase.dll", "rpcrt4.dll", "sechost.dll"])),
                  "SourceUser": SYSTEM if src.endswith(("svchost.exe", "MsMpEng.exe", "csrss.exe")) else
                  self.account("user", user),
                  "TargetUser": self.account("user", user)}
        elif kind == (SECURITY, 4648):
            server = r.choice(SERVERS)
            p |= {"SubjectUserSid": self.sid(user), "SubjectUserName": user, "SubjectDomainName": DOMAIN,
                  "SubjectLogonId": r.randint(0x30000, 0x9FFFFF), "LogonGuid": self.guid(),
                  "TargetUserName": user, "TargetDomainName": DNS.upper(), "TargetLogonGuid": self.guid(),
                  "TargetServerName": f"{server}.{DNS}", "TargetInfo": f"cifs/{server}.{DNS}",
                  "ProcessId": 0x2D0, "ProcessName": "C:\\Windows\\System32\\lsass.exe",
                  "IpAddress": "-", "IpPort": "-"}
        return p


def _templates(groups: list[list[SourceRecord]]) -> dict[tuple[str, int], list[SourceRecord]]:
    """The records that can serve as a template for each kind: the first record of its source
    chunk (so it defines every template and name it uses)."""
    out: dict[tuple[str, int], list[SourceRecord]] = {}
    from evtx import PyEvtxParser
    for g in groups:
        r = g[0]
        rec = _render_one(r, PyEvtxParser)
        s = rec["Event"]["System"]
        eid = s["EventID"]["#text"] if isinstance(s["EventID"], dict) else s["EventID"]
        out.setdefault((s["Provider"]["#attributes"]["Name"], int(eid)), []).append(r)
    return out


def _render_one(r: SourceRecord, parser: Callable[..., Any]) -> Any:
    """A source chunk's first record rendered by the parser (from a one-chunk file in memory)."""
    import io
    head = bytearray(HEADER)
    struct.pack_into("<8sQQQIHHHH", head, 0, b"ElfFile\x00", 0, 0, 2, 128, 1, 3, HEADER, 1)
    import zlib
    struct.pack_into("<I", head, 124, zlib.crc32(bytes(head[:120])))
    data = io.BytesIO(bytes(head) + r.chunk)
    for rec in parser(data, number_of_threads=1).records_json():
        return json.loads(rec["data"])
    raise ValueError("no record")


def build(files: list[Path], out: Path, records: int, seed: int = 2026,
          attack_share: float = ATTACK_SHARE) -> Day:
    """`records` records in `out`: the benign mix of MIX over one day (times in order, spread
    evenly with jitter) and `attack_share` of them real attack records placed at random."""
    groups = list(source_records(files))
    templates = _templates(groups)
    est = _Estate(seed)
    rng = random.Random(seed + 1)
    rw = _Rewriter()
    p = Packer(rewrite=rw)
    written: list[Written] = []
    counts: dict[str, int] = {}
    kinds = [k for k, _s, _l in MIX]
    labels = {k: lab for k, _s, lab in MIX}
    attack_groups = list(groups)
    n_attack = round(records * attack_share)
    attack_at = set(rng.sample(range(records), n_attack)) if n_attack else set()
    i = 0
    while i < records:
        if i in attack_at:
            g = attack_groups[rng.randrange(len(attack_groups))][:records - i]
            rw.begin(None, None)
            before = len(p.originals)
            p.add(g)
            for r in p.originals[before:]:
                written.append(Written(r, {}, "attack", None))
            counts["attack"] = counts.get("attack", 0) + len(p.originals) - before
            i += max(1, len(p.originals) - before)
            continue
        kind = rng.choices(kinds, [s for _k, s, _l in MIX])[0]
        t = DAY + timedelta(microseconds=int((i + rng.random()) * 86_400_000_000 / records))
        tmpl = rng.choice(templates[kind])
        rec_id = p.first_id + p.records
        rw.begin(est.plan(kind, t, rec_id), t)
        before = len(p.originals)
        p.add([tmpl])
        if len(p.originals) == before:
            raise ValueError(f"template {tmpl.key} of {kind} could not be copied: {p.skipped}")
        missing = {f for f in rw.fields_seen if not f.startswith("System/")} - set(rw.plan or {})
        if missing:  # an attack value would be left in a benign record
            raise ValueError(f"template {tmpl.key} of {kind}: no benign value for {sorted(missing)}")
        written.append(Written(tmpl, dict(rw.changes), labels[kind], rw.timestamp(tmpl)))
        counts[labels[kind]] = counts.get(labels[kind], 0) + 1
        i += 1
    p.close()
    write_file(out, p.chunks, p.first_id + p.records)
    return Day(p, written, counts)


def _set(doc: Any, path: Path_, value: Any) -> None:
    for k in path[:-1]:
        doc = doc[k]
    if path[-1] not in doc:
        raise AssertionError(f"{'/'.join(path)} not in the template record's JSON")
    doc[path[-1]] = value


def verify(day: Day, path: Path) -> int:
    """Every record read back from `path` (checksums on): a benign one is its template record's
    JSON with exactly the planned values changed, an attack one byte for byte its original;
    the header timestamp as written. Returns the records checked."""
    from evtx import PyEvtxParser

    got = list(PyEvtxParser(str(path), number_of_threads=1, validate_checksums=True).records_json())
    if len(got) != len(day.written):
        raise AssertionError(f"{len(got)} records read back, {len(day.written)} written")
    cache: dict[tuple[str, int, int], str] = {}

    def original(r: SourceRecord) -> str:
        k = (r.key[0], r.key[1], r.offset)
        if k not in cache:
            data = Path(r.key[0]).read_bytes()
            offs = [o for o in range(HEADER, len(data) - CHUNK + 1, CHUNK) if data[o:o + 8] == b"ElfChnk\x00"]
            recs = list(PyEvtxParser(r.key[0], number_of_threads=1).records_json())
            from bench.evtx_repack import _records_of
            where = [(ci, s.offset) for ci, o in enumerate(offs) for s in _records_of(data[o:o + CHUNK])]
            for (ci, off), rec in zip(where, recs, strict=True):
                cache[(r.key[0], ci, off)] = str(rec["data"])
        return cache[k]

    for n, (w, rec) in enumerate(zip(day.written, got, strict=True), 1):
        want = original(w.source)
        if not w.changes:
            if str(rec["data"]) != want:
                raise AssertionError(f"record {n}: attack record from {w.source.key} differs")
            continue
        doc = json.loads(want)
        for p_, v in w.changes.items():
            _set(doc, p_, v)
        if json.loads(str(rec["data"])) != doc:
            raise AssertionError(f"record {n} ({w.kind}, template {w.source.key}) is not its template "
                                 "with the planned values")
        if w.stamp is not None:
            ft = struct.unpack("<Q", w.stamp)[0]
            want_ts = (datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=ft // 10))
            if datetime.fromisoformat(str(rec["timestamp"]).removesuffix(" UTC")) != want_ts:
                raise AssertionError(f"record {n}: timestamp {rec['timestamp']} != {want_ts}")
    return len(got)
