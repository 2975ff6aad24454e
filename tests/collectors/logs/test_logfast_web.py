"""web.parse_access's every form in C (_logfast_web.c: the vhost, `(-)` idents, users of several
words, nginx's `"-" ` before the request, requests that are not `METHOD target VERSION`,
percent-encoded targets) gives exactly the Python path's Parsed and events, which stay the
reference: generated lines of each form and its near misses, and mutations of them."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.collectors.logs.test_logfast_lines import STAMPS, _mutate, compare, same_access

logfast = pytest.importorskip("nocsoc.collectors.logs._logfast",
                              reason="C accelerator not built (tests/test_speedups.py says so)")

VHOSTS = ["", "", "", "rdp.acme.com ", "- ", "mydomain:443 ", "a:b:c ", "h:x ", "h:0443 ", "1.2.3.4 ",
          "cafe ",
          " ", "  ", "x ", "h: ", "h:" + "9" * 19 + " ", "[v] "]
IPS = ["198.51.100.7", "2001:db8::1", "1.2.3.4", "cafe", "::1", "-", "1.2.3.4x"]
IDENTS = ["-", "(-)", "x", "- -", ""]
USERS = ["-", "jdoe", "john doe", "a b c", "- -", "[x", "a  b", "[a] [b]", "x]", "a [b] c", "[", "é"]
PRES = ["", "", '"-" ', '"-"', '"x" ']
REQS = ["GET / HTTP/1.1", "GET /a%20b?x=1+2 HTTP/1.1", "GET /%252e%252e/etc/passwd HTTP/1.1",
        "GET /%c0%af HTTP/1.1", "GET /%u0041 HTTP/1.1", "GET /%25u0041 HTTP/1.1", "GET /%%41 HTTP/1.1",
        "GET /%4 HTTP/1.1", "GET /a%2", "\\x16\\x03\\x01", "GET /x", "GET /a b c d", " GET /x HTTP/1.1",
        "GET /a  HTTP/1.1", "-", "", "GET /a?b+c%2Bd HTTP/1.1", "GET /%41%42%43.%50hp HTTP/1.1",
        "GET /%2525252541 HTTP/1.1", "GET /x.y?a.b HTTP/1.0", 'GET /\\"q HTTP/1.1', "GET /%7f%1f HTTP/1.1",
        "GET  ", "GET /a+b", "POST /q?x=%3Cscript%3E HTTP/2.0", "GET /" + "%41" * 300 + " HTTP/1.1"]
TAILS = ["", ' "-" "-"', ' "http://a/b" "curl/8.4.0"', ' 0 "ref" "ua"', ' "-" "-" 0.226 - .', ' "a\\"b" "c"',
         ' "x"', " 12", ' 12 "r"', ' "r" "u" x']


def _variant(rnd: random.Random) -> str:
    status = rnd.choice(["200", "404", "2000", "20"])
    nbytes = rnd.choice(["-", "0", "1234", "9" * 19, "x"])
    return (f"{rnd.choice(VHOSTS)}{rnd.choice(IPS)} {rnd.choice(IDENTS)} {rnd.choice(USERS)} "
            f'[{rnd.choice(STAMPS)}] {rnd.choice(PRES)}"{rnd.choice(REQS)}" {status} {nbytes}'
            f"{rnd.choice(TAILS)}")


def _good_variant(rnd: random.Random) -> str:
    """The forms C claims (valid address, stamp, status and bytes), each variant part varied."""
    ip = rnd.choice(IPS[:3])
    req = rnd.choice([r for r in REQS if '\\"' not in r])
    stamp = rnd.choice(STAMPS[:3])
    return (f"{rnd.choice(VHOSTS)}{ip} {rnd.choice(IDENTS[:3])} {rnd.choice(USERS)} [{stamp}] "
            f'{rnd.choice(PRES)}"{req}" 200 {rnd.choice(["-", "0", "1234"])}{rnd.choice(TAILS)}')


def test_access_variants_read_the_same() -> None:
    rnd = random.Random(16)
    lines = [_variant(rnd) for _ in range(15_000)] + [_good_variant(rnd) for _ in range(10_000)]
    lines += [_mutate(rnd, rnd.choice(lines)) for _ in range(10_000)]
    claimed = sum(same_access(line) for line in lines)
    assert claimed > 2_500
    compare(lines[:2_000] + lines[-1_000:])  # and through LineParser, file and network


def test_every_sample_access_line_is_read_in_c() -> None:
    """SEKOIA's access samples, each one's form: read in C, the same as Python."""
    lines = ['- 1.2.3.4 - - [01/Oct/2024:10:22:01 +0200] "GET / HTTP/1.1" 302 385 "-" "-"',
             '1.2.3.4 (-) - - [01/Oct/2024:08:22:45 +0000] "POST /App/tests HTTP/1.1" 200 377 "-" "M"',
             '127.0.0.1 - - [04/Aug/2025:09:52:56 +0200] "-" "GET /e/t.txt HTTP/1.1" 200 2545 0 "h" "M"',
             '192.168.1.100 - john doe [15/Jan/2024:14:30:25 +0100] "GET /u?p=1 HTTP/1.1" 200 2 "r" "M"',
             '8.8.8.8 - - [15/Nov/2023:12:49:02 +0100] "\\x01\\x01\\x00A" 400 150 "-" "-" 0.226 - .',
             'mydomain:443 1.2.3.4 - - [31/Jul/2024:16:41:52 +0200] "GET /t.js HTTP/1.1" 200 5771 "r" "M"',
             'rdp.acme.com 1.2.3.4 - - [12/Feb/2020:17:31:31 +0100] "GET /q?q=N%111/AA%20A HTTP/1.1" 200 1',
             "rdp.acme.com 1.2.3.4 - - [12/Feb/2020:17:31:31 +0100] \"GET /%2e%2e/x?a+b HTTP/1.1\" 200 1"]
    assert all(same_access(line) for line in lines)


HEADS = ["rdp.acme.com ", "mydomain:443 ", "www ", "Jan ", "Janet ", "message repeated 2 times: [ ", "host: ",
         "host:x ", "a_b.c-d ", "Z ", "web1 %ASA-6-302013: ", "x log_id=1 ", 'k sys="SecureNet" ',
         "h %SYS-5-X: ",
         "sshd[1]: ", "h app: "]
TARGETS = ["/", "/a%20b", "/q?x=%SYS-5-CONFIG_I:1", "/%41-1-B:", "/%a-1-B:x", "/%ABC", "/p?%3Cscript%3E"]


def _headless(rnd: random.Random) -> str:
    return (f"{rnd.choice(HEADS)}{rnd.choice(IPS[:3])} - {rnd.choice(USERS[:4])} [{rnd.choice(STAMPS[:3])}] "
            f'"GET {rnd.choice(TARGETS)} HTTP/1.1" 200 {rnd.choice(["-", "12"])}{rnd.choice(TAILS)}')


def test_headerless_lines_read_the_same() -> None:
    """A line no parser claims by its first character (a vhost first): parse_syslog keeps it whole
    and web reads it when it is the body's first candidate; the reader's event is Python's."""
    from nocsoc.collectors.logs.parsers import LineParser

    rnd = random.Random(19)
    lines = [_headless(rnd) for _ in range(4_000)]
    lines += [_mutate(rnd, rnd.choice(lines)) for _ in range(2_000)]
    compare(lines)
    read = LineParser(default_host="h").fast()
    assert read is not None
    claimed = sum(read(line, "", "file", False) is not None for line in lines[:4_000])
    assert claimed > 500


# --- nginx JSON (web.nginx_fields' C twin, _logfast.nginx_json) --------------------------------

NJ_KEYS = ["remote_addr", "client_address", "client_ip", "request", "request_method", "method",
           "request_uri", "uri", "query_string", "args", "status", "response_status", "status_code",
           "body_bytes_sent", "bytes_sent", "http_user_agent", "user_agent", "http_referer", "referer",
           "host", "server_name", "http_host", "remote_user", "server_addr", "upstream_addr", "time_local",
           "timestamp", "request_time", "nginx_access", "x", "nginx.x"]
NJ_VALUES: list[Any] = ["", "-", "1.2.3.4", "9.8.7.6:8080", "1.2.3.4:", "::1", "fe80::1:80", "1.2.3.4:x",
                        "1.2.3.4:0080", "1.2.3.4: 80", "1.2.3.4:" + "9" * 19, "1.2.3.4.5:80", "1234.1.1.1",
                        "GET /a%20b?x=1+2 HTTP/1.1", "GET /x", "GET  /x HTTP/1.1 y", "/p?q", "/p", "a=b",
                        "a+b%41", "/%u0041", "/%c0%af", "200", "0200", " 200", "+1", "\u0662\u0660\u0660",
                        "9" * 19, "é", "x\n", "1.2.3.4\n", "02/Jun/2020:13:07:18 +0200",
                        "2020-05-27T17:13:08+02:00", 0, 200, -1, 2**70, 0.5, True, False, None, [1], {"a": 1}]


def _nj_object(rnd: random.Random) -> dict[str, Any]:
    keys = rnd.sample(NJ_KEYS, rnd.randint(1, 12))
    obj = {k: rnd.choice(NJ_VALUES) for k in keys}
    if rnd.random() < 0.6:  # mostly the plain shapes a server writes
        obj.setdefault("remote_addr", "203.0.113.7")
        obj.setdefault("request", "GET /index.html?a=1 HTTP/1.1")
        obj.setdefault("status", rnd.choice([200, "404"]))
    return obj


def test_nginx_json_maps_the_same() -> None:
    import json

    from nocsoc.collectors.logs.parsers import web

    rnd = random.Random(63)
    claimed = 0
    lines = []
    for _ in range(20_000):
        obj = _nj_object(rnd)
        got = logfast.nginx_json(obj)
        want = web.nginx_fields(dict(obj))
        if got is not None:
            claimed += 1
            assert list(got.items()) == list(want.items()), (obj, got, want)
            assert [type(v) for v in got.values()] == [type(v) for v in want.values()]
        if len(lines) < 3_000:
            lines.append(json.dumps(obj))
    assert claimed > 8_000
    compare(lines)  # and through LineParser (file and network)


# --- error logs (parse_apache_error's and parse_nginx_error's C twins) ---------------------------

AE_STAMPS = ["", "", "[Wed Oct 11 14:32:52 2000] ", "[Fri Sep 09 10:42:29.902022 2011] ",
             "[Fri Sep  9 1:2 2011] ", "[Fri Sep 09 10:42:29 11] ", "[fri Sep 09 10:42:29 2011] ", "  ",
             "[Fri Sep 09 10:42:29 2011]"]
AE_LEVELS = ["[error]", "[core:error]", "[:error]", "[security2:error]", "[ssl:info]", "[Core:warn]",
             "[a-b:x]", "[error1]", "[error12]", "[ERROR]", "[x y:error]", "[:]", "[mod:err",
             "[proxy_fcgi:debug]"]
AE_PARTS = [" [pid 35708:tid 4328636416]", " [pid 12596]", " [pid 1:tid x]", " [pid ]",
            " [pid 1" + "2" * 18 + "]",
            " [client 1.1.1.1]", " [client 1.2.3.4:53375]", " [client 1.1.1.1 :42114]", " [client ::1]",
            " [client fe80::1:80]", " [client 1.1.1.1234]", " [client 1.2.3.4.5]", " [client 1.1.1.1:]",
            " [client abc]", " [client 1.1.1.1:" + "9" * 19 + "]", " [client x]", " ModSecurity: Warning.",
            ' [uri "/a%20b?x=1"]', ' [hostname "www.x.org"]', ' [id "942100"]', ' [msg "SQL Injection"]',
            ' [severity  "CRITICAL"]', ' [unique_id "YX"]', ' [uri "/%u0041"]', ' [uri "/x]', ' [idx "1"]',
            ' [uri"/y"]', " File does not exist: /favicon.ico", " (70014)End of file found:", " AH01964: x  "]
NE_TEXTS = ["connect() failed (111: Connection refused) while connecting to upstream", "no resolver defined",
            "*5 open() failed", ", client: 51.255.128.104", ", server: app.sekoia.io", ", server: ",
            ', request: "GET /sic/ HTTP/1.1"', ', request: "GET /a%20b HTTP/1.1"', ", request: GET /x",
            ', upstream: "http://127.0.0.1:8080/sic/"', ', host: "app.sekoia.io"', ', referrer: "http://a/"',
            ", peer: 1.2.3.4:443", ', responder: "ocsp.x.com"', ', request: "GET /\\"q HTTP/1.1"',
            ', host: "unterminated', ', client: "', ", client: a, b", ', request: "GET /%u0041 HTTP/1.1"']


def _apache_error(rnd: random.Random) -> str:
    parts = "".join(rnd.choice(AE_PARTS) for _ in range(rnd.randint(0, 6)))
    return f"{rnd.choice(AE_STAMPS)}{rnd.choice(AE_LEVELS)}{parts}"


def _nginx_error(rnd: random.Random) -> str:
    head = rnd.choice(["2019/08/25 23:59:53 [error] 9841#9841: ",
                       "2023/11/15 12:49:01 [warn] 1#2: *103 ",
                       "2023/11/15 12:49:01 [warn] 1#2: *x ",
                       "2023/11/15 12:49:01 [crit] " + "9" * 19 + "#1: ",
                       "2023/11/15 12:49:01 [a b] 1#2: ", "2023/1/15 12:49:01 [warn] 1#2: "])
    return head + "".join(rnd.choice(NE_TEXTS) for _ in range(rnd.randint(0, 6)))


def test_error_lines_read_the_same() -> None:
    from nocsoc.collectors.logs.parsers import web

    rnd = random.Random(61)
    lines = [_apache_error(rnd) for _ in range(8_000)] + [_nginx_error(rnd) for _ in range(8_000)]
    lines += [_mutate(rnd, rnd.choice(lines)) for _ in range(8_000)]
    claimed = 0
    for line in lines:
        for parse, twin in ((web.parse_apache_error, "_c_apache_error"),
                            (web.parse_nginx_error, "_c_nginx_error")):
            got = parse(line, "nginx")
            claimed += getattr(logfast, twin[3:])(line) is not None
            saved = getattr(web, twin)
            setattr(web, twin, None)
            try:
                want = parse(line, "nginx")
            finally:
                setattr(web, twin, saved)
            g = None if got is None else (got.services, list(got.fields.items()),
                                          [type(v) for v in got.fields.values()])
            w = None if want is None else (want.services, list(want.fields.items()),
                                           [type(v) for v in want.fields.values()])
            assert g == w, (line, g, w)
    assert claimed > 8_000
    compare(lines[:2_000] + lines[-1_000:])  # and through LineParser (file and network)


# --- Sophos (sophos_line's key cache: so_key) ----------------------------------------------------

def test_sophos_key_cache_reads_the_same() -> None:
    """Past its bound (random keys by the thousand) the key cache makes each key per pair: the
    fields stay parse_sophos's, repeated keys included (kv_pairs' place and last value)."""
    from nocsoc.collectors.logs.parsers import sophos

    rnd = random.Random(52)
    values = ["1", '"a b"', "-", "x"]
    for k in range(400):
        pairs = [f"k{k}_{j}={rnd.choice(values)}" for j in range(rnd.randint(1, 8))]
        pairs += rnd.sample(["src_ip=1.2.3.4", 'src_ip="5.6.7.8"', 'log_type="Firewall"', 'status="Deny"',
                             'sys="SecureNet"', 'sub="packetfilter"', 'id="0299"', 'url="/x"',
                             "proto=TCP"], 4)
        rnd.shuffle(pairs)
        line = " ".join(pairs)
        got = sophos.parse_sophos(line)
        saved = sophos._c_sophos
        sophos._c_sophos = None
        try:
            want = sophos.parse_sophos(line)
        finally:
            sophos._c_sophos = saved
        g = None if got is None else (got.services, got.categories, list(got.fields.items()))
        w = None if want is None else (want.services, want.categories, list(want.fields.items()))
        assert g == w, line


def test_iso_minutes_read_as_iso_epoch() -> None:
    """nginx JSON's `timestamp` through the epoch of its minute: iso_epoch's value, odd ones too."""
    from nocsoc.collectors.logs.parsers.base import iso_epoch
    from nocsoc.collectors.logs.parsers.web import _iso_cached

    rnd = random.Random(25)
    stamps = ["2020-05-27T17:13:08+02:00", "2020-05-27T17:13:60+02:00", "2020-02-30T17:13:08+02:00",
              "2020-05-27 17:13:08-05:30", "2020-W22-3T17:13:08+02:00", "2020-05-27T17:13:0x+02:00",
              "2020-05-27T17:13:\u0665\u0665+02:00", "2020-05-27T17:13:08+24:00", "2020-05-27T17:13:08Z",
              "2020-05-27T17:13:08+02:0Z", "2020-05-27T17:13:08.5+02:00", "Z020-05-27T17:13:08+02:00"]
    stamps += [f"20{rnd.randint(0, 99):02d}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 31):02d}T"
               f"{rnd.randint(0, 24):02d}:{rnd.randint(0, 60):02d}:{rnd.randint(0, 60):02d}"
               f"{rnd.choice('+-')}{rnd.randint(0, 23):02d}:{rnd.choice(['00', '30', '45'])}"
               for _ in range(3_000)]
    for v in stamps:
        assert _iso_cached(v) == iso_epoch(v), v
