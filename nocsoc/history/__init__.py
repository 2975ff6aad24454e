"""The history store: flow aggregates per minute and the log archive, kept on local disk as
hourly Parquet partitions (written with pyarrow, queried with DuckDB), or flows sent to
ClickHouse where users run it.

`flows.query_flows` and `logs.search_logs` are the APIs the CLI and the SOC console call; the
writers (`flows.FlowHistoryWriter`, `logs.LogArchiveWriter`) run in their own threads behind
bounded queues, so a slow disk drops history (counted), never flows or log lines.
"""
