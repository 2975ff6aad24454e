import pytest

from nocsoc import schema
from nocsoc.schema import FieldType, SchemaError


def test_registry_names_are_unique_and_complete() -> None:
    names = [m.name for m in schema.REGISTRY.values()]
    assert len(names) == len(set(names))
    assert {"interface", "device", "optics", "ups", "flow_top", "alert", "snmp_poll", "sink"} <= set(names)


def test_point_coerces_to_declared_types() -> None:
    p = schema.INTERFACE.point(5, {"device": "core-1", "ifalias": ""}, {"in_bps": 3, "in_octets": 7.0})
    assert p.fields == {"in_bps": 3.0, "in_octets": 7}
    assert type(p.fields["in_bps"]) is float and type(p.fields["in_octets"]) is int
    assert p.tags == {"device": "core-1"}  # empty tag values are left out


@pytest.mark.parametrize(
    ("tags", "fields", "message"),
    [
        ({"nope": "x"}, {"in_bps": 1.0}, "unknown tag 'nope'"),
        ({}, {"nope": 1.0}, "unknown field 'nope'"),
        ({}, {"in_octets": 1.5}, "not a valid int"),
        ({}, {"in_bps": "fast"}, "not a valid float"),
        ({}, {}, "at least one field"),
    ],
)
def test_point_refuses_what_does_not_fit(tags: dict, fields: dict, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        schema.INTERFACE.point(0, tags, fields)


def test_checked_names_for_dashboards() -> None:
    assert schema.INTERFACE.f("in_bps") == "in_bps"
    assert schema.INTERFACE.field("in_bps").type is FieldType.FLOAT
    with pytest.raises(SchemaError):
        schema.INTERFACE.f("in_bits")
    with pytest.raises(SchemaError):
        schema.INTERFACE.t("hostname")
