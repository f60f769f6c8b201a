"""Volley: a Python stream and batch processing engine with PyFlink's API and no JVM.

Import from the PyFlink-shaped modules: ``volley.table``, ``volley.datastream``, ``volley.common``.
"""

from volley.errors import VolleyError

__version__ = "0.1.0"

__all__ = ["VolleyError", "__version__"]
