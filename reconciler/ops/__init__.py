"""Day-to-day operations around the engine: fleets, export, check, status, environments, OAuth2."""
