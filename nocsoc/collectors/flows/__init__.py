"""The flow collector: NetFlow v5/v9, IPFIX and sFlow v5 into per-interval rollups.

Data path (one module per step):
  receiver (UDP socket thread, kernel/app drops) -> decoder (v5 netflow5, v9/IPFIX templates,
  sflow) with sampling (rates and their source) and sequence (loss) -> records (column batches)
  -> rollup (totals, interfaces, top-N + `other`) -> schema points -> sink.
`collector.FlowCollector` is the component `nocsoc run` starts; `collector.FlowPipeline` is the
same without sockets (offline decode, benchmark). Config: `config.FlowsConfig` (`flows:`).
"""
