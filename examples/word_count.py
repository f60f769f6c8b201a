"""Word count: a small batch job mixing SQL DDL with the Table API, the README's first example.

Writes a few lines of text to a CSV file in a temporary directory, declares it as a table with SQL,
splits lines into words with a Python table function, counts each word with the Table API and
prints the result with ``execute().print()``. The imports are the only difference from a PyFlink
2.x program.

Run: ``python examples/word_count.py``.
"""

import os
import shutil
import tempfile

from volley.common import Row
from volley.table import DataTypes, EnvironmentSettings, TableEnvironment
from volley.table.expressions import col, lit
from volley.table.udf import udtf

TEXT = [
    "To be, or not to be, that is the question:",
    "Whether 'tis nobler in the mind to suffer",
    "The slings and arrows of outrageous fortune,",
    "Or to take arms against a sea of troubles",
]

work_dir = tempfile.mkdtemp(prefix="volley-word-count-")
input_path = os.path.join(work_dir, "lines.csv")
with open(input_path, "w") as f:
    for line in TEXT:
        # One quoted CSV field per line: the text itself contains commas.
        f.write('"' + line.replace('"', '""') + '"\n')

t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())

t_env.execute_sql(f"""
    CREATE TABLE lines (
        line STRING
    ) WITH (
        'connector' = 'filesystem',
        'path' = '{input_path}',
        'format' = 'csv'
    )
""")


@udtf(result_types=[DataTypes.STRING()])
def split(row: Row):
    """Lower-cased words of a line, without punctuation; ``flat_map`` passes each input row."""
    for word in row.line.lower().split():
        word = word.strip(".,:;!?'\"")
        if word:
            yield Row(word)


counts = (
    t_env.from_path("lines")
    .flat_map(split)
    .alias("word")
    .group_by(col("word"))
    .select(col("word"), lit(1).count.alias("count"))
    .order_by(col("count").desc, col("word"))
)
counts.execute().print()

shutil.rmtree(work_dir)
