"""The bus between receivers and decoders/detectors when nocsoc runs on several machines.

`nocsoc run --role receiver` publishes raw records (flow datagrams, syslog lines) with their
arrival metadata; `--role decoder` (flows) and `--role detector` (logs) consume them. The
transport is an interface (`transport.Transport`) with a NATS JetStream driver (tested on a
real 3-node cluster) and a Kafka driver. docs/scale.md explains the design.
"""
