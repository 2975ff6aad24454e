"""The demo's script is visible to the poller: each link flap lasts two poll intervals of the
slower of its two ends (the core routers poll every 30 s, the default is 10 s)."""

from __future__ import annotations

import pytest

import nocsoc.service.demo as demo
from nocsoc.inventory.sample import SAMPLE_INVENTORY
from nocsoc.inventory.store import InventoryStore
from nocsoc.simulate.events import Script


def test_flaps_last_two_polls_of_the_slower_end(monkeypatch: pytest.MonkeyPatch) -> None:
    inv = InventoryStore(SAMPLE_INVENTORY).load()
    opts = demo.DemoOptions(speed=30.0, snmp_interval_s=10.0, duration_s=120.0)
    assert demo.poll_interval_s(inv, "dongxoai-core-01", 10.0) == 30.0
    assert demo.poll_interval_s(inv, "dongphu-dist-01", 10.0) == 10.0
    script = demo.demo_script(inv, opts)
    assert script.link_flaps
    links = {link.name: link for link in inv.links}
    for flap in script.link_flaps:
        link = links[flap.link]
        slowest = max(demo.poll_interval_s(inv, d, 10.0) for d in (link.a.device, link.b.device))
        assert flap.down_s >= 2 * slowest * opts.speed
    # the same flap moved to a link ending at a core router: 2 x 30 s x speed 30 simulated seconds
    moved = [{**script.link_flaps[0].model_dump(), "link": "ring-core01-dongphu", "down_s": 20.0}]
    forced = Script.model_validate({**script.model_dump(), "link_flaps": moved})
    monkeypatch.setattr(demo, "default_script", lambda _topology: forced)
    (core_flap,) = demo.demo_script(inv, opts).link_flaps
    assert core_flap.down_s == 2 * 30.0 * 30.0  # was 2 x 10 s x 30: missed at the core end


def test_simulated_optics_alarm_at_the_configured_threshold() -> None:
    inv = InventoryStore(SAMPLE_INVENTORY).load()
    opts = demo.DemoOptions()
    assert {o.threshold_dbm for o in demo.demo_script(inv, opts, -18.5).optics} == {-18.5}
    assert demo.demo_script(inv, opts, -18.5).optics  # the script degrades at least one optic
