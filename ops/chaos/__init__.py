"""The fault-injection run (make chaos): workload, faults, crashes, checks."""
