"""The seed article's pandas UDF program, written for PyFlink 2.x, run on Volley.

Same job as ``pandas_udf_demo_1_11.py`` (fill in missing temperatures per device with a pandas
UDF), in today's API: ``TableEnvironment.create(EnvironmentSettings.in_streaming_mode())``,
``func_type='pandas'``, ``create_temporary_system_function``, ``'connector' = 'filesystem'`` DDL,
expressions built with ``col``/``call`` and ``execute_insert(...).wait()``. Only the imports differ
from a PyFlink 2.x program (``volley`` for ``pyflink``; or run it unchanged with ``volley run``).

Run: ``python examples/pandas_udf_demo.py``. In 2.x the filesystem sink's path is a directory of
part files; the example prints their content::

    1,98.0
    1,99.0
    1,100.0
    2,99.0
"""

import os
import shutil
import tempfile

import pandas as pd

from volley.table import DataTypes, EnvironmentSettings, TableEnvironment
from volley.table.expressions import call, col
from volley.table.udf import udf

work_dir = tempfile.mkdtemp(prefix="volley-pandas-udf-")
input_path = os.path.join(work_dir, "input.csv")
output_path = os.path.join(work_dir, "output")
with open(input_path, "w") as f:
    f.write("1,98.0\n1,\n1,100.0\n2,99.0\n")

t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
t_env.get_config().set("parallelism.default", "1")


@udf(result_type=DataTypes.FLOAT(), func_type="pandas")
def interpolate(id, temperature):
    """Fill missing temperatures per device id by linear interpolation.

    ``transform`` keeps the rows in their input order; the article's ``groupby().apply()`` returns
    them sorted by id, which only matches the input when each id's rows are already together.
    """
    df = pd.DataFrame({"id": id, "temperature": temperature})
    return df.groupby("id")["temperature"].transform(
        lambda group: group.interpolate(limit_direction="both")
    )


t_env.create_temporary_system_function("interpolate", interpolate)

# 'csv.null-literal' = '' reads the empty field in "1," as NULL; the 2.x csv format rejects an
# empty numeric field otherwise.
t_env.execute_sql(f"""
    CREATE TABLE mySource (
        id INT,
        temperature FLOAT
    ) WITH (
        'connector' = 'filesystem',
        'path' = '{input_path}',
        'format' = 'csv',
        'csv.null-literal' = ''
    )
""")
t_env.execute_sql(f"""
    CREATE TABLE mySink (
        id INT,
        temperature FLOAT
    ) WITH (
        'connector' = 'filesystem',
        'path' = '{output_path}',
        'format' = 'csv'
    )
""")

t_env.from_path("mySource").select(
    col("id"), call("interpolate", col("id"), col("temperature")).alias("temperature")
).execute_insert("mySink").wait()

# Part files, in name order; names starting with '.' or '_' are in-progress or marker files.
print(f"$ cat {output_path}/*")
for root, _, names in sorted(os.walk(output_path)):
    for name in sorted(names):
        if not name.startswith((".", "_")):
            with open(os.path.join(root, name)) as f:
                print(f.read(), end="")
shutil.rmtree(work_dir)
