"""Ingest: sources -> triples -> SHACL validation -> store.

Reads declared sources (`source.toml` manifests), maps their records to RDF with a mapper from
`ingest.mappers`, validates the result with the project's shapes and loads it atomically into
the source's named graph, with a PROV-O record of the run. Never imports `endpoint`.
"""
