"""`cs-uri-decoded`: the request target as the application sees it, which the web attack rules match
(one pattern for every encoding an attacker can nest)."""

from __future__ import annotations

import random

import pytest

from nocsoc.collectors.logs.parsers import LineParser
from nocsoc.collectors.logs.parsers.web import decode_uri


@pytest.mark.parametrize(
    ("target", "decoded"),
    [
        ("/tin-tuc/2026/index.html", "/tin-tuc/2026/index.html"),  # nothing to decode: same object
        ("/a?q=%3CscRipt%3Ealert(1)%3C/script%3E", "/a?q=<scRipt>alert(1)</script>"),
        ("/x?f=..%2f..%2fetc%2fpasswd", "/x?f=../../etc/passwd"),
        ("/x?f=..%252f..%252fetc%252fpasswd", "/x?f=../../etc/passwd"),  # double
        ("/%25252e%25252e/", "/../"),  # triple
        ("/..%c0%af..%c0%afetc/passwd", "/../../etc/passwd"),  # overlong 2-byte `/`
        ("/%e0%80%afetc", "//etc"),  # overlong 3-byte `/`
        ("/..%c1%9cwindows", "/..\\windows"),  # overlong `\\`
        ("/%u002e%u002e/boot.ini", "/../boot.ini"),  # IIS %u
        ("/s?q=union+select+1", "/s?q=union select 1"),  # + is a space in the query
        ("/c++/guide?x=%2B1", "/c++/guide?x=+1"),  # ... not in the path, and %2B stays a plus
        ("/tim-kiem?q=%C4%91%C4%83ng+k%C3%BD", "/tim-kiem?q=đăng ký"),  # UTF-8 (Vietnamese)
        ("/bad%zz%", "/bad%zz%"),  # malformed escapes stay as they are
        ("/x%00.php", "/x\x00.php"),
        ("/%ff%fe", "/\ufffd\ufffd"),  # invalid UTF-8: replacement characters, no error
    ],
)
def test_decode_uri(target: str, decoded: str) -> None:
    assert decode_uri(target) == decoded


def test_decode_uri_bounded_nesting() -> None:
    # five levels of `%25`: four rounds decode four, the fifth stays encoded
    assert decode_uri("/%252525252e") == "/%2e"


def test_every_web_format_carries_the_decoded_target() -> None:
    p = LineParser(default_host="collector")
    lines = {
        "web": '203.0.113.9 - - [25/Nov/2026:08:12:01 +0700] "GET /a?f=..%252fetc%252fpasswd HTTP/1.1" 404 1 '
        '"-" "curl/8"',
        "nginx_json": '{"remote_addr":"203.0.113.9","request":"GET /a?f=..%252fetc%252fpasswd HTTP/1.1",'
        '"status":404}',
        "iis": "2026-11-25 01:12:01 10.0.0.5 GET /a f=..%252fetc%252fpasswd 80 - 203.0.113.9 curl/8 - "
        "404 0 2 5",
        "web_error": '[Wed Nov 25 08:12:01.123 2026] [security2:error] [pid 7] [client 203.0.113.9:5000] '
        'ModSecurity: Access denied [id "930100"] [uri "/a?f=..%252fetc%252fpasswd"] [unique_id "x"]',
    }
    for parser, line in lines.items():
        ev = p.events(line)[0]
        assert (ev.parser, ev.fields["cs-uri-decoded"]) == (parser, "/a?f=../etc/passwd")


def test_decode_uri_never_raises() -> None:
    rnd = random.Random(16)
    alphabet = "%uU+?&=/.\\0123456789abcdefABCDEFcCeE\x00é"
    for _ in range(20_000):
        s = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40)))
        assert isinstance(decode_uri(s), str)


def test_decode_uri_lone_surrogates() -> None:
    # `%uDCFE` (an IIS escape of half a surrogate pair) and a line decoded with surrogateescape
    assert decode_uri("/%uDCFE%41") == "/\ufffd\ufffd\ufffdA"
    assert decode_uri("/\udcff%41") == "/\ufffd\ufffd\ufffdA"
