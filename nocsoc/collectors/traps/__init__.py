"""SNMP trap receiver: v1, v2c and v3 USM traps and informs -> events, interface status, alerts."""
