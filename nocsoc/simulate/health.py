"""Device health that follows the daily curve: CPU, memory, load, storage, temperature, UPS."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nocsoc.inventory.model import Role
from nocsoc.simulate.clock import SimClock, stream_seed
from nocsoc.simulate.traffic import daily_curve

# (idle %, extra % at the daily peak, RAM GiB, RAM used share)
_PROFILE = {
    Role.CORE: (10.0, 25.0, 16, 0.45),
    Role.DISTRIBUTION: (6.0, 18.0, 8, 0.40),
    Role.ACCESS: (4.0, 10.0, 2, 0.35),
    Role.FIREWALL: (12.0, 35.0, 16, 0.55),
    Role.SERVER: (8.0, 45.0, 64, 0.50),
    Role.UPS: (1.0, 1.0, 0, 0.0),
}
GIB = 1024**3


@dataclass(frozen=True)
class Storage:
    index: int
    type_oid: tuple[int, ...]
    descr: str
    unit: int
    size: int
    used: int


@dataclass(frozen=True)
class UpsState:
    battery_status: int  # 2 normal
    seconds_on_battery: int
    minutes_remaining: int
    charge_pct: int
    battery_voltage_dv: int
    battery_temp_c: int
    input_voltage: int
    input_freq_dhz: int
    output_source: int  # 3 normal
    output_voltage: int
    output_current_da: int
    output_power_w: int
    output_load_pct: int


HR_RAM = (1, 3, 6, 1, 2, 1, 25, 2, 1, 2)
HR_VIRTUAL = (1, 3, 6, 1, 2, 1, 25, 2, 1, 3)
HR_DISK = (1, 3, 6, 1, 2, 1, 25, 2, 1, 4)


class HealthModel:
    def __init__(self, clock: SimClock, seed: int) -> None:
        self.clock, self.seed = clock, seed

    def _noise(self, device: str, what: str, t: float, sd: float) -> float:
        k = self.clock.tick_index(t)
        return float(np.random.default_rng(stream_seed(self.seed, what, device, k)).normal(0.0, sd))

    def _curve(self, t: float) -> float:
        return daily_curve(self.clock.time_of_day(t))

    def cpu_pct(self, device: str, role: Role, t: float) -> int:
        idle, extra, _, _ = _PROFILE[role]
        return int(max(0.0, min(100.0, idle + extra * self._curve(t) + self._noise(device, "cpu", t, 2.0))))

    def cpu_count(self, role: Role) -> int:
        return 8 if role is Role.SERVER else 2

    def memory(self, device: str, role: Role, t: float) -> tuple[int, int]:
        """(total bytes, used bytes)."""
        _, _, gib, share = _PROFILE[role]
        total = gib * GIB
        used = total * min(0.95, share + 0.1 * self._curve(t) + self._noise(device, "mem", t, 0.005))
        return total, int(used)

    def load(self, device: str, role: Role, t: float) -> tuple[float, float, float]:
        ncpu = self.cpu_count(role)
        now = self.cpu_pct(device, role, t) / 100.0 * ncpu
        return round(now, 2), round(now * 0.95, 2), round(now * 0.9, 2)

    def storages(self, device: str, role: Role, t: float) -> list[Storage]:
        total, used = self.memory(device, role, t)
        unit = 1024
        out = [Storage(1, HR_RAM, "Physical memory", unit, total // unit, used // unit)]
        if role is Role.SERVER:
            rnd = np.random.default_rng(stream_seed(self.seed, "disk", device))
            out.append(
                Storage(3, HR_VIRTUAL, "Virtual memory", unit, (total + 8 * GIB) // unit, used // unit)
            )
            out.append(Storage(10, HR_VIRTUAL, "Swap space", unit, 8 * GIB // unit, 0))
            for idx, (mount, size_gib) in enumerate((("/", 100), ("/var", 500), ("/data", 2000)), start=31):
                size = size_gib * GIB // 4096
                share = float(rnd.uniform(0.2, 0.8))
                out.append(Storage(idx, HR_DISK, mount, 4096, size, int(size * share)))
        return out

    def chassis_temp_c(self, device: str, t: float) -> float:
        return round(34.0 + 6.0 * self._curve(t) + self._noise(device, "temp", t, 0.3), 1)

    def ups(self, device: str, t: float) -> UpsState:
        load = int(35 + 12 * self._curve(t) + self._noise(device, "ups", t, 1.0))
        return UpsState(
            battery_status=2,
            seconds_on_battery=0,
            minutes_remaining=int(95 - load * 0.9),
            charge_pct=100,
            battery_voltage_dv=2730,
            battery_temp_c=27,
            input_voltage=int(226 + self._noise(device, "vin", t, 1.5)),
            input_freq_dhz=500,
            output_source=3,
            output_voltage=230,
            output_current_da=int(load * 4.3),
            output_power_w=int(load * 100),
            output_load_pct=load,
        )
