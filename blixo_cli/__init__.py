"""`blixo-intacct`: the operators' command for the Blixo <-> Sage Intacct sync."""
