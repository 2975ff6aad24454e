"""SNMP v2c agents for every simulated device, each on its own 127.x address, in one asyncio loop.

Built on pysnmp's protocol layer (`pysnmp.proto.api`: BER messages, PDUs, SMI types), not on its
v3arch SnmpEngine + MIB instrumentation. Deliberately: the engine would need one SnmpEngine per
address (~50 engines, each loading its MIB tree) and walks its MIB tree object by object on every
GETNEXT, while a simulated device is just a sorted OID table (`mibview.DeviceMib`) whose values
change every instant. Decoding and encoding stay pysnmp's; only dispatch is ours.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass

from pyasn1.codec.ber import decoder, encoder
from pyasn1.error import PyAsn1Error
from pysnmp.proto import api
from pysnmp.proto.api import v2c

from nocsoc.inventory.model import SnmpProfile
from nocsoc.secrets import resolve_secret
from nocsoc.simulate.lab import Lab
from nocsoc.simulate.mibview import DeviceMib, Snapshot
from nocsoc.simulate.netguard import require_loopback
from nocsoc.simulate.snmp_v3 import V3Agent
from nocsoc.simulate.tally import Tally
from nocsoc.simulate.topology import SimDevice

MAX_VARBINDS = 1000  # a bulk reply never grows past this many varbinds (~60 kB)
ERR_NOT_WRITABLE = 17
COUNTER_NAMES = (
    "requests",
    "responses",
    "varbinds",
    "dropped_community",
    "dropped_version",
    "dropped_malformed",
    "dropped_down",
    "dropped_foreign",
)


@dataclass
class AgentSpec:
    device: SimDevice
    address: str
    port: int
    profile: SnmpProfile
    community: bytes = b""  # v2c only


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, agent: DeviceAgent) -> None:
        self.agent = agent
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = self.agent.handle(data, addr)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


class DeviceAgent:
    """One device's agent: community check, GET / GETNEXT / GETBULK over its `DeviceMib`."""

    def __init__(self, lab: Lab, spec: AgentSpec, counters: Tally) -> None:
        self.lab, self.spec, self.counters = lab, spec, counters
        self.mib = DeviceMib(lab, spec.device)
        self.cpu_s = 0.0

    def handle(self, data: bytes, addr: tuple[str, int]) -> bytes | None:
        c = self.counters
        c.add("requests")
        started = time.process_time()
        try:
            try:
                require_loopback(addr[0], "SNMP request source")
            except ValueError:
                c.add("dropped_foreign")
                return None
            try:
                if int(api.decodeMessageVersion(data)) != api.SNMP_VERSION_2C:
                    c.add("dropped_version")
                    return None
                msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
            except (PyAsn1Error, ValueError, TypeError):
                c.add("dropped_malformed")
                return None
            if bytes(v2c.apiMessage.get_community(msg)) != self.spec.community:
                c.add("dropped_community")  # real agents stay silent on a wrong community
                return None
            t = self.lab.clock.now()
            if not self.lab.reachable(self.spec.device.name, t):
                c.add("dropped_down")
                return None
            reply = self._respond(msg, t)
            c.add("responses")
            return reply
        finally:
            self.cpu_s += time.process_time() - started

    def _respond(self, msg: v2c.Message, t: float) -> bytes:
        req = v2c.apiMessage.get_pdu(msg)
        rsp = v2c.apiMessage.get_response(msg)
        rpdu = v2c.apiMessage.get_pdu(rsp)
        snap = Snapshot(self.lab, self.spec.device, t)
        oids = [tuple(o) for o, _ in v2c.apiPDU.get_varbinds(req)]
        mib = self.mib
        out: list[tuple[object, object]] = []
        if req.isSameTypeWith(v2c.GetRequestPDU()):
            out = [mib.get(o, snap) for o in oids]
        elif req.isSameTypeWith(v2c.GetNextRequestPDU()):
            out = [self._next(mib.next_position(o), o, snap) for o in oids]
        elif req.isSameTypeWith(v2c.GetBulkRequestPDU()):
            out = self._bulk(req, oids, snap)
        else:  # SET and anything else: this lab is read-only
            v2c.apiPDU.set_error_status(rpdu, ERR_NOT_WRITABLE)
            v2c.apiPDU.set_error_index(rpdu, 1)
            out = [(v2c.ObjectIdentifier(o), v2c.Null("")) for o in oids]
        v2c.apiPDU.set_varbinds(rpdu, out)
        self.counters.add("varbinds", len(out))
        return bytes(encoder.encode(rsp))

    def _next(self, pos: int, oid: tuple[int, ...], snap: Snapshot) -> tuple[object, object]:
        if pos >= len(self.mib):
            return v2c.ObjectIdentifier(oid), v2c.EndOfMibView("")
        return self.mib.at(pos, snap)

    def _bulk(self, req: object, oids: list[tuple[int, ...]], snap: Snapshot) -> list[tuple[object, object]]:
        non_rep = max(0, int(v2c.apiBulkPDU.get_non_repeaters(req)))
        max_rep = max(0, int(v2c.apiBulkPDU.get_max_repetitions(req)))
        mib = self.mib
        out = [self._next(mib.next_position(o), o, snap) for o in oids[:non_rep]]
        repeaters = oids[non_rep:]
        if not repeaters:
            return out
        max_rep = min(max_rep, (MAX_VARBINDS - len(out)) // len(repeaters))
        positions = [mib.next_position(o) for o in repeaters]
        last = list(repeaters)
        for _ in range(max_rep):
            if all(p >= len(mib) for p in positions):
                # RFC 3416 4.2.3: one row of endOfMibView, then the reply may stop early.
                out.extend((v2c.ObjectIdentifier(o), v2c.EndOfMibView("")) for o in last)
                break
            for j, p in enumerate(positions):
                if p >= len(mib):
                    out.append((v2c.ObjectIdentifier(last[j]), v2c.EndOfMibView("")))
                else:
                    out.append(mib.at(p, snap))
                    last[j] = mib.oids[p]
                    positions[j] = p + 1
        return out


def agent_specs(lab: Lab, warnings: list[str]) -> list[AgentSpec]:
    """Where each device listens and with which credentials (secrets resolved now, so a missing
    variable is reported before anything binds). Devices that cannot be served are warned."""
    specs: list[AgentSpec] = []
    for d in lab.topo.devices:
        dev = d.device
        try:
            profile = lab.inventory.profile(dev.profile)
        except KeyError:
            warnings.append(f"{dev.name}: unknown SNMP profile {dev.profile!r}; no agent")
            continue
        address = require_loopback(dev.address, f"device {dev.name} address")
        community = b""
        if profile.version == "2c":
            assert profile.community is not None  # the model requires it for v2c
            community = resolve_secret(
                profile.community, what=f"snmp_profiles[{profile.name}].community"
            ).encode()
        specs.append(AgentSpec(d, address, dev.snmp_port or profile.port, profile, community))
    return specs


class AgentPool:
    """Every device agent, bound in the running asyncio loop; `close()` releases the sockets.

    v2c devices use the lean responder above; v3 devices a pysnmp engine each (snmp_v3.py).
    """

    def __init__(self, lab: Lab, specs: list[AgentSpec]) -> None:
        self.lab = lab
        self.counters = Tally(*COUNTER_NAMES)
        self.agents = [DeviceAgent(lab, s, self.counters) for s in specs if s.profile.version == "2c"]
        self.v3_agents = [
            V3Agent(lab, s.device, s.profile, s.address, s.port, self.counters)
            for s in specs
            if s.profile.version == "3"
        ]
        self.specs = specs
        self._transports: list[asyncio.DatagramTransport] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for agent in self.agents:
            s = agent.spec
            try:
                transport, _ = await loop.create_datagram_endpoint(
                    functools.partial(_Responder, agent),
                    local_addr=(require_loopback(s.address, "SNMP bind"), s.port),
                )
            except OSError as exc:
                self.close()
                raise OSError(
                    f"cannot bind SNMP agent {s.device.name} on {s.address}:{s.port}: {exc.strerror}"
                ) from exc
            self._transports.append(transport)
        for v3 in self.v3_agents:
            try:
                v3.open()
            except Exception as exc:  # pysnmp wraps the OSError in its own CarrierError
                self.close()
                raise OSError(
                    f"cannot bind SNMP agent {v3.device.name} on {v3.address}:{v3.port}: {exc}"
                ) from exc

    def close(self) -> None:
        for t in self._transports:
            t.close()
        self._transports.clear()
        for v3 in self.v3_agents:
            v3.close()

    def cpu_seconds(self) -> float:
        """CPU spent in MIB lookups and (for v2c) BER; v3's USM cost is not included."""
        return sum(a.cpu_s for a in self.agents) + sum(a.cpu_s for a in self.v3_agents)

    def served(self) -> list[AgentSpec]:
        return self.specs
