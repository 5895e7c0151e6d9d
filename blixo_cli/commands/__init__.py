"""One module per command group; each exposes a typer app `app` (or a command) for `blixo_cli.app`."""
