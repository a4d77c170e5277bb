"""Personal access tokens: made, listed and revoked by their owner on the web, used by other systems on the API."""
