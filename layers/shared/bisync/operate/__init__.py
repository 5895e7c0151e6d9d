"""What operators do with the sync (status, settings, errors, sync now, backfill, dead letters,
reconciliation), as plain logic shared by the `blixo-intacct` command and the Accounting Sync
API. No printing, no HTTP: callers render the typed results."""
