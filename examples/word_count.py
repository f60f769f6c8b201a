"""Word count: a small batch job mixing SQL DDL with the Table API, the README's first example.

Writes a few lines of text to a CSV file in a temporary directory, declares it as a table with SQL,
cleans each word with a Python UDF, counts words with the Table API and prints the result with
``execute().print()``. The imports are the only difference from a PyFlink
2.x program.

Run: ``python examples/word_count.py``.
"""

import os
import shutil
import tempfile

from volley.table import DataTypes, EnvironmentSettings, TableEnvironment
from volley.table.expressions import call, col, lit
from volley.table.udf import udf

TEXT = [
    "To be, or not to be, that is the question:",
    "Whether 'tis nobler in the mind to suffer",
    "The slings and arrows of outrageous fortune,",
    "Or to take arms against a sea of troubles",
]

work_dir = tempfile.mkdtemp(prefix="volley-word-count-")
input_path = os.path.join(work_dir, "words.csv")
with open(input_path, "w") as f:
    for line in TEXT:
        for word in line.split():
            # One quoted CSV field per word: words may carry commas.
            f.write('"' + word.replace('"', '""') + '"\n')

t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())

t_env.execute_sql(f"""
    CREATE TABLE words (
        word STRING
    ) WITH (
        'connector' = 'filesystem',
        'path' = '{input_path}',
        'format' = 'csv'
    )
""")


@udf(result_type=DataTypes.STRING())
def clean(word: str) -> str:
    """The word lower-cased, without surrounding punctuation."""
    return word.lower().strip(".,:;!?'\"")


t_env.create_temporary_function("clean", clean)

counts = (
    t_env.from_path("words")
    .select(call("clean", col("word")).alias("word"))
    .group_by(col("word"))
    .select(col("word"), lit(1).count.alias("count"))
    .order_by(col("count").desc, col("word"))
)
counts.execute().print()

shutil.rmtree(work_dir)
