"""Twin state owned by SQL: conditional writes per section, reads assembled from rows, a read cache."""
