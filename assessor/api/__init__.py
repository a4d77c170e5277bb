"""The JSON API, version 1: the same operations, queries and access policy as the web, for other systems."""
