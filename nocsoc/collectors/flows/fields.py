"""The NetFlow v9 / IPFIX information elements nocsoc reads (IANA numbers; v9 shares 1-127).

Everything else in a template is skipped by its length, enterprise-specific elements included.
"""

from __future__ import annotations

# element id -> column name, for flow data records
FLOW_FIELDS: dict[int, str] = {
    1: "bytes",      # octetDeltaCount / IN_BYTES
    2: "packets",    # packetDeltaCount / IN_PKTS
    85: "bytes_total",    # octetTotalCount: used when no delta count is present
    86: "packets_total",  # packetTotalCount
    4: "proto",      # protocolIdentifier
    7: "sport",      # sourceTransportPort
    11: "dport",     # destinationTransportPort
    8: "src",        # sourceIPv4Address
    12: "dst",       # destinationIPv4Address
    27: "src6",      # sourceIPv6Address
    28: "dst6",      # destinationIPv6Address
    10: "in_if",     # ingressInterface / INPUT_SNMP
    14: "out_if",    # egressInterface / OUTPUT_SNMP
    34: "sampling",  # samplingInterval, when a data record carries its own
    48: "sampler",   # samplerId / FLOW_SAMPLER_ID: selects a sampler announced in options data
    302: "selector",  # selectorId (IPFIX PSAMP): same role as samplerId
}

ADDRESS_LENGTH = {"src": 4, "dst": 4, "src6": 16, "dst6": 16}

# Sampling information elements carried in options data (RFC 7270, RFC 5477, Cisco v9).
SAMPLING_INTERVAL = 34          # v9 SAMPLING_INTERVAL / IPFIX samplingInterval (deprecated)
SAMPLER_ID = 48                 # FLOW_SAMPLER_ID / samplerId
SAMPLER_RANDOM_INTERVAL = 50    # FLOW_SAMPLER_RANDOM_INTERVAL / samplerRandomInterval
SELECTOR_ID = 302
PACKET_INTERVAL = 305           # samplingPacketInterval: packets selected ...
PACKET_SPACE = 306              # samplingPacketSpace: ... then packets skipped
SAMPLING_SIZE = 309             # samplingSize: n of ...
SAMPLING_POPULATION = 310       # samplingPopulation: ... N
