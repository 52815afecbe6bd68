"""Server side of BenchFleet: settings, stores, ingestion, publishers and the CLI composition root."""
