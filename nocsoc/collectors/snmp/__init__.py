"""nocsoc.collectors.snmp."""
