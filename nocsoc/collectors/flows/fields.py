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
    252: "in_phys",  # ingressPhysicalInterface: in_if where 10 is absent (ipt_NETFLOW, Juniper)
    253: "out_phys",  # egressPhysicalInterface
    231: "init_bytes",  # initiatorOctets (Cisco ASA NSEL, RFC 5102 bis): the initiator's direction
    232: "resp_bytes",  # responderOctets: the reverse direction (its own record)
    298: "init_packets",  # initiatorPackets
    299: "resp_packets",  # responderPackets
    312: "frame_size",  # dataLinkFrameSize: the sampled frame's length
    313: "ip_section",  # ipHeaderPacketSection: the sampled packet from its IP header
    315: "frame",  # dataLinkFrameSection: the sampled frame from its link header
    225: "nat_src",  # postNATSourceIPv4Address
    226: "nat_dst",  # postNATDestinationIPv4Address
    227: "nat_sport",  # postNAPTSourceTransportPort
    228: "nat_dport",  # postNAPTDestinationTransportPort
    281: "nat_src6",  # postNATSourceIPv6Address
    282: "nat_dst6",  # postNATDestinationIPv6Address
    230: "nat_event",  # natEvent
    233: "fw_event",  # firewallEvent
    # Cisco ASA NSEL (NetFlow v9 only: above 32767, in IPFIX they would be enterprise elements)
    40001: "nat_src",  # NF_F_XLATE_SRC_ADDR_IPV4
    40002: "nat_dst",  # NF_F_XLATE_DST_ADDR_IPV4
    40003: "nat_sport",  # NF_F_XLATE_SRC_PORT
    40004: "nat_dport",  # NF_F_XLATE_DST_PORT
    40005: "fw_event",  # NF_F_FW_EVENT
}

# (enterprise number, element id) -> column name
ENTERPRISE_FIELDS: dict[tuple[int, int], str] = {
    # RFC 5103 biflow: the reverse direction's counters (PEN 29305 = reverse information element)
    (29305, 1): "rev_bytes",
    (29305, 2): "rev_packets",
    (29305, 85): "rev_bytes_total",
    (29305, 86): "rev_packets_total",
    # Procera PacketLogic (PEN 15397): volumes only in its own elements
    (15397, 3): "ent_in_bytes",  # proceraIncomingOctets
    (15397, 4): "ent_out_bytes",  # proceraOutgoingOctets
}

ADDRESS_LENGTH = {"src": 4, "dst": 4, "src6": 16, "dst6": 16, "isrc": 4, "idst": 4, "isrc6": 16,
                  "idst6": 16, "nat_src": 4, "nat_dst": 4, "nat_src6": 16, "nat_dst6": 16}
# Columns kept as raw bytes (IPv6 addresses, header sections); the rest are unsigned integers.
RAW_FIELDS = frozenset(("src6", "dst6", "isrc6", "idst6", "nat_src6", "nat_dst6", "frame", "ip_section"))
SECTION_FIELDS = frozenset(("frame", "ip_section"))  # any length, variable included
# The flow key elements a tunnel template carries twice (outer header first, then inner): a
# repeated one is read as "i" + name (see templates.Template and derive._pairs).
REPEATABLE = frozenset(("src", "dst", "src6", "dst6", "sport", "dport", "proto"))

# Sampling information elements carried in options data (RFC 7270, RFC 5477, Cisco v9).
SAMPLING_INTERVAL = 34          # v9 SAMPLING_INTERVAL / IPFIX samplingInterval (deprecated)
SAMPLER_ID = 48                 # FLOW_SAMPLER_ID / samplerId
SAMPLER_RANDOM_INTERVAL = 50    # FLOW_SAMPLER_RANDOM_INTERVAL / samplerRandomInterval
SELECTOR_ID = 302
SELECTOR_ALGORITHM = 304       # selectorAlgorithm (RFC 5477 / IANA PSAMP registry)
PACKET_INTERVAL = 305           # samplingPacketInterval: packets selected ...
PACKET_SPACE = 306              # samplingPacketSpace: ... then packets skipped
SAMPLING_SIZE = 309             # samplingSize: n of ...
SAMPLING_POPULATION = 310       # samplingPopulation: ... N
SAMPLING_PROBABILITY = 311      # samplingProbability (float64)
SAMPLING_ALGORITHM = 35         # v9 SAMPLING_ALGORITHM / samplingAlgorithm
SAMPLER_MODE = 49               # FLOW_SAMPLER_MODE / samplerMode
