"""Where telemetry goes: sinks that take schema `Point`s and deliver them.

- `base`: the `Sink` protocol; `memory`: MemorySink (tests, summaries);
- `batching`: batch, retry with backoff, split on 4xx, spool and replay (shared by the network
  sinks); `spool`: the bounded on-disk spool;
- `influxdb` (2.x/3.x/Cloud via influxdb-client), `influxdb1` (1.x `/write`), `sqlite` (the
  embedded default, with a small query API), `stdout` (line protocol);
- `fanout`: several sinks as one; `factory`: sinks from nocsoc.yaml's `sinks:` section.

Import the concrete modules directly (or use the factory): this package imports nothing, so a
run on the embedded default never loads influxdb-client.
"""
