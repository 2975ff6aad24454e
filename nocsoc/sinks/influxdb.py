"""InfluxDB 2.x / 3.x / Cloud sink through influxdb-client's write API (`/api/v2/write`).

The client gets line protocol already encoded by nocsoc.lineproto (its own Point encodes several
times slower) and writes synchronously from this sink's worker thread; batching, retries and the
spool are nocsoc's (nocsoc.sinks.batching), so the client's own batching and retries stay off.
The client is always closed: with urllib3-future installed (via grafana-client) an unclosed
client prints tracebacks at interpreter shutdown.
"""

from __future__ import annotations

from typing import Any

from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from nocsoc.sinks.batching import BatchingSink, BatchSettings, Unavailable, classify_status


class InfluxDBSink(BatchingSink[str]):
    def __init__(self, name: str, url: str, bucket: str, settings: BatchSettings, *, org: str = "",
                 token: str | None = None, timeout_s: float = 10.0, use_gzip: bool = True) -> None:
        self.url = url
        self.bucket = bucket
        self.org = org
        self._client = InfluxDBClient(url=url, token=token or "", org=org,
                                      timeout=int(timeout_s * 1000), enable_gzip=use_gzip)
        self._write_api: Any = self._client.write_api(write_options=SYNCHRONOUS)
        super().__init__(name, settings)

    def _send(self, lines: list[str]) -> None:
        try:
            self._write_api.write(bucket=self.bucket, org=self.org or None, record=lines,
                                  write_precision=WritePrecision.NS)
        except ApiException as exc:
            body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else str(exc.body or "")
            classify_status(int(exc.status or 0), body or str(exc.reason), f"{self.url} bucket={self.bucket}")
        except Exception as exc:  # connection refused, timeouts: urllib3 (or urllib3-future) errors
            raise Unavailable(f"{self.url}: {type(exc).__name__}: {exc}") from None

    def _release(self) -> None:
        api = self._client.api_client
        self._write_api.close()
        self._client.close()
        # ApiClient.__del__ runs again when the object is collected; if that is at interpreter
        # shutdown, urllib3-future's pool clear() fails to import and prints a traceback. Its pools
        # are cleared by close() above, so unhook them: the late __del__ then does nothing.
        rest = getattr(api, "rest_client", None)
        if rest is not None:
            rest.pool_manager = None
