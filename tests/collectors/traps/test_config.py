"""The `traps:` section: secrets only as references (env:/file:), engine ids checked, and a v3
user whose passwords come from 0600 files decodes a real snmptrap datagram."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from nocsoc.collectors.traps.config import TrapsConfig
from nocsoc.collectors.traps.decode import TrapDecoder
from nocsoc.errors import SecretError
from tests.collectors.traps.conftest import AUTH, ENGINE_ID, PRIV
from tests.collectors.traps.test_fuzz import capture


def test_literal_secrets_and_bad_engine_ids_are_refused() -> None:
    with pytest.raises(ValidationError, match="secret reference"):
        TrapsConfig.model_validate({"communities": ["public"]})
    with pytest.raises(ValidationError, match="secret reference"):
        TrapsConfig.model_validate({"users": [{"user": "u", "auth_protocol": "SHA", "auth_password": "x"}]})
    with pytest.raises(ValidationError, match="5 to 32 bytes of hex"):
        TrapsConfig.model_validate({"users": [{"user": "u", "engine_ids": ["0x1234"]}]})
    with pytest.raises(ValidationError, match="privacy needs authentication"):
        TrapsConfig.model_validate({"users": [{"user": "u", "priv_protocol": "AES-128",
                                               "priv_password": "env:X"}]})
    assert TrapsConfig().enabled is False and TrapsConfig().bind == "127.0.0.1:1162"


def _config(tmp_path: Path) -> TrapsConfig:
    return TrapsConfig.model_validate({"users": [{
        "user": "trapuser", "engine_ids": [ENGINE_ID], "auth_protocol": "SHA",
        "auth_password": "file:auth.secret", "priv_protocol": "AES-128",
        "priv_password": "file:priv.secret"}]})


def test_file_secrets_decode_a_real_v3_trap(tmp_path: Path, trap_env: None) -> None:
    for name, value in (("auth.secret", AUTH), ("priv.secret", PRIV)):
        (tmp_path / name).write_text(value + "\n")
        (tmp_path / name).chmod(0o600)
    v3 = capture(tmp_path)[2]
    decoded = TrapDecoder(_config(tmp_path), base_dir=tmp_path).decode(v3, ("127.0.0.1", 40000))
    assert decoded.outcome == "trap" and decoded.trap is not None
    assert (decoded.trap.version, decoded.trap.security_name, decoded.trap.trap_oid) == (
        "3", "trapuser", "1.3.6.1.6.3.1.1.5.4")


def test_a_world_readable_secret_file_is_refused_naming_the_reference(tmp_path: Path) -> None:
    for name in ("auth.secret", "priv.secret"):
        (tmp_path / name).write_text("x" * 12)
        (tmp_path / name).chmod(0o644)
    with pytest.raises(SecretError) as err:
        TrapDecoder(_config(tmp_path), base_dir=tmp_path)
    assert "file:auth.secret" in str(err.value) and "chmod 600" in str(err.value)
