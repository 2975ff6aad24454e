"""Builds nocsoc's small C accelerators; everything else is in pyproject.toml.

They are optional at build time (`optional=True`): where no C compiler is found, nocsoc installs
and runs on its pure-Python paths, which produce the same output (the tests compare them), only
slower. CI requires them built (tests/test_speedups.py).
"""

from setuptools import Extension, setup

_FLAGS = ["-O2", "-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]

setup(
    ext_modules=[
        # lineproto: assembles a batch of points' lines (series lookup, ints, trimmed floats)
        Extension("nocsoc._lineproto", ["nocsoc/_lineproto.c"], optional=True, extra_compile_args=_FLAGS),
        # flows: batch receive (recvmmsg) and hash group-by of the rollup
        Extension("nocsoc.collectors.flows._flowfast", ["nocsoc/collectors/flows/_flowfast.c"],
                  optional=True, extra_compile_args=_FLAGS),
        # logs: the syslog header, the access-log line and the key=value/CEF/netfilter/auditd splits
        Extension("nocsoc.collectors.logs._logfast",
                  ["nocsoc/collectors/logs/_logfast.c", "nocsoc/collectors/logs/_logfast_fw.c",
                   "nocsoc/collectors/logs/_logfast_asa.c", "nocsoc/collectors/logs/_logfast_lx.c"],
                  # (the files _logfast.c #includes: a change to one rebuilds it)
                  depends=["nocsoc/collectors/logs/_logfast_fw.h", "nocsoc/collectors/logs/_logfast_asa.h",
                           "nocsoc/collectors/logs/_logfast_lx.h", "nocsoc/collectors/logs/_logfast_cisco.c",
                           "nocsoc/collectors/logs/_logfast_reader.c", "nocsoc/collectors/logs/_logfast_web.c"],
                  optional=True, extra_compile_args=_FLAGS),
        # detections: the engine's per-event gates (field values seen before, the keyword prefilter)
        Extension("nocsoc.detections._gatefast", ["nocsoc/detections/_gatefast.c"], optional=True,
                  extra_compile_args=_FLAGS),
        # windows: an EVTX record's decoded JSON -> the flat Sigma fields
        Extension("nocsoc.collectors.windows._winfast",
                  ["nocsoc/collectors/windows/_winfast.c", "nocsoc/collectors/windows/_winfields.c"],
                  depends=["nocsoc/collectors/windows/_winfast.h"], optional=True, extra_compile_args=_FLAGS),
        # windows: an EVTX chunk's binary XML -> each record's JSON text, as evtx writes it
        Extension("nocsoc.collectors.windows._evtxfast",
                  ["nocsoc/collectors/windows/_evtxfast.c", "nocsoc/collectors/windows/_evtxwalk.c"],
                  depends=["nocsoc/collectors/windows/_winfast.h", "nocsoc/collectors/windows/_evtxfast.h"], optional=True, extra_compile_args=_FLAGS),
    ],
)
