"""Sharing one inventory between several pollers through NATS JetStream key-value buckets.

`rendezvous` says which live poller owns a device (highest random weight hashing), `slots`
when a device's cycles start (the same grid on every poller), `member` keeps this poller's
heartbeat, the live membership and the per-device leases that make a device polled once per
cycle. docs/scale-pollers.md explains the protocol and its guarantees.
"""
