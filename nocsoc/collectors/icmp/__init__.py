"""ICMP reachability: every inventory device pinged each interval (icmplib), availability reports."""
