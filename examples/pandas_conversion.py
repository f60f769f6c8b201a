"""The seed article's Table <-> pandas conversion, written for PyFlink 2.x, run on Volley.

Same program as ``pandas_conversion_1_11.py`` with today's API: a ``TableEnvironment`` from
``EnvironmentSettings`` and an expression-DSL filter, ``col("a") > 0.5``, instead of a string.

Run: ``python examples/pandas_conversion.py``; it prints the filtered DataFrame, about 500 rows
with every ``a`` above 0.5.
"""

import numpy as np
import pandas as pd

from volley.table import EnvironmentSettings, TableEnvironment
from volley.table.expressions import col

t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())

# Create a Table from a pandas DataFrame
pdf = pd.DataFrame(np.random.rand(1000, 2))
table = t_env.from_pandas(pdf, ["a", "b"]).filter(col("a") > 0.5)

# Convert the Table back to a pandas DataFrame
pdf = table.to_pandas()
print(pdf)
