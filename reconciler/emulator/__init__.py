"""A GREYHOUND JSON-RPC emulator: the embedded default target, and a server for offline testing."""
