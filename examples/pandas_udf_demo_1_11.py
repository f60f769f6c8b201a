"""The Flink 1.11 pandas UDF program from the seed article, run on Volley.

Source: "Apache Flink 说道系列 - PyFlink集成Pandas" (PyFlink 1.11 pandas integration). The program
below is the article's, API call for API call: ``StreamTableEnvironment.create(env)``,
``udf_type='pandas'``, ``register_function``, the legacy ``'connector.type'`` DDL, a string
expression in ``select``, ``insert_into`` and ``t_env.execute``. PyFlink 2.x rejects most of these;
Volley still accepts them. Two changes: imports say ``volley`` instead of ``pyflink`` (or keep
``pyflink`` and run this file with ``volley run``), and the input and output live in a temporary
directory instead of ``/tmp/input`` and ``/tmp/output``.

Run: ``python examples/pandas_udf_demo_1_11.py``. It prints the output file, which the article
shows as::

    1,98.0
    1,99.0
    1,100.0
    2,99.0
"""

import os
import shutil
import tempfile

import pandas as pd

from volley.datastream import StreamExecutionEnvironment
from volley.table import DataTypes, StreamTableEnvironment
from volley.table.udf import udf

# The article's `echo -e "1,98.0\n1,\n1,100.0\n2,99.0" > /tmp/input`, in a temporary directory.
work_dir = tempfile.mkdtemp(prefix="volley-pandas-udf-1.11-")
input_path = os.path.join(work_dir, "input")
output_path = os.path.join(work_dir, "output")
with open(input_path, "w") as f:
    f.write("1,98.0\n1,\n1,100.0\n2,99.0\n")

# The article's code, kept as it was written.
# fmt: off
env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(1)
t_env = StreamTableEnvironment.create(env)
t_env.get_config().get_configuration().set_boolean("python.fn-execution.memory.managed", True)


@udf(input_types=[DataTypes.STRING(), DataTypes.FLOAT()],
     result_type=DataTypes.FLOAT(), udf_type='pandas')
def interpolate(id, temperature):
    # takes id: pandas.Series and temperature: pandas.Series as input
    df = pd.DataFrame({'id': id, 'temperature': temperature})

    # use interpolate() to interpolate the missing temperature
    interpolated_df = df.groupby('id').apply(
        lambda group: group.interpolate(limit_direction='both'))

    # output temperature: pandas.Series
    return interpolated_df['temperature']


t_env.register_function("interpolate", interpolate)

my_source_ddl = f"""
    create table mySource (
        id INT,
        temperature FLOAT
    ) with (
        'connector.type' = 'filesystem',
        'format.type' = 'csv',
        'connector.path' = '{input_path}'
    )
"""

my_sink_ddl = f"""
    create table mySink (
        id INT,
        temperature FLOAT
    ) with (
        'connector.type' = 'filesystem',
        'format.type' = 'csv',
        'connector.path' = '{output_path}'
    )
"""

t_env.execute_sql(my_source_ddl)
t_env.execute_sql(my_sink_ddl)

t_env.from_path('mySource')\
    .select("id, interpolate(id, temperature) as temperature") \
    .insert_into('mySink')

t_env.execute("pandas_udf_demo")
# fmt: on


# The article's `cat /tmp/output`. A legacy filesystem sink writes one file; accept a directory of
# part files too, so the example does not depend on that detail.
def read_output(path):
    if os.path.isdir(path):
        parts = sorted(
            os.path.join(root, name)
            for root, _, names in os.walk(path)
            for name in names
            if not name.startswith((".", "_"))
        )
    else:
        parts = [path]
    text = ""
    for part in parts:
        with open(part) as f:
            text += f.read()
    return text


print(f"$ cat {output_path}")
print(read_output(output_path), end="")
shutil.rmtree(work_dir)
