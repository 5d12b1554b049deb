"""Review mode: the Direct Post audit kit, generated from Cadence's own screens and models."""
