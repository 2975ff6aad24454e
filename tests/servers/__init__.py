"""Fixtures that start real servers on 127.0.0.1 with temporary dirs, and stop them after.

One module per family (influx, snmp, flows); the shared mechanics are in `base`.
"""
