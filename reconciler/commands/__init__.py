"""CLI commands grouped by area; each module exposes COMMANDS, registered in reconciler/cli.py."""
