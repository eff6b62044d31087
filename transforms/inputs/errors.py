"""The error of an input that cannot be listed."""


class ListingError(ValueError):
    """A listing row or a path that cannot become an ImageRef."""
