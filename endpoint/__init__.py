"""Endpoint: the FastAPI app (SPARQL endpoint, home page, health). Never imports `ingest`."""
