"""Pure mappings between Blixo and Intacct records, one module per object; no I/O."""
