"""The Flink 1.11 Table <-> pandas conversion program from the seed article, run on Volley.

Builds a Table from a pandas DataFrame of 1,000 random rows, filters it with the 1.11 string
expression ``"a > 0.5"`` and converts it back with ``to_pandas()``. Only the imports differ from
the article (``volley`` for ``pyflink``; or keep ``pyflink`` and use ``volley run``).

Run: ``python examples/pandas_conversion_1_11.py``; it prints the filtered DataFrame, about 500
rows with every ``a`` above 0.5.
"""

import numpy as np
import pandas as pd

from volley.datastream import StreamExecutionEnvironment
from volley.table import StreamTableEnvironment

env = StreamExecutionEnvironment.get_execution_environment()
t_env = StreamTableEnvironment.create(env)

# Create a PyFlink Table
pdf = pd.DataFrame(np.random.rand(1000, 2))
table = t_env.from_pandas(pdf, ["a", "b"]).filter("a > 0.5")

# Convert the PyFlink Table to a Pandas DataFrame
pdf = table.to_pandas()
print(pdf)
