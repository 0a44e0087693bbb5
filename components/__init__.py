"""Component resources of the fabric, built from the typed model in `components.model`."""
