"""The one error type that incoming-message conversions raise for bad input."""


class InvalidMessage(ValueError):
    """A message that cannot be used: NaN fields, wrong sizes, unknown encodings.

    Components let it propagate; the dispatcher counts it as a drop with its reason.
    """


def require_finite(values, what: str):
    """Returns values as a float64 array; raises InvalidMessage if any entry is NaN or infinite."""
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise InvalidMessage(f'{what} has NaN or infinite values')
    return array
