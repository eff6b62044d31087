"""Image and Example code (pure) and the Beam transforms built over it."""
