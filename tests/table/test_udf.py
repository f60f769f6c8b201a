"""Scalar UDFs: general and pandas flavours, registration, casting, batching, errors."""

from __future__ import annotations

import pandas as pd
import pytest

from volley.errors import UdfError
from volley.table import DataTypes, EnvironmentSettings, TableEnvironment
from volley.table.expressions import call, col
from volley.table.udf import ScalarFunction, udf


@pytest.fixture
def t_env():
    return TableEnvironment.create(EnvironmentSettings.in_batch_mode())


@pytest.fixture
def tab(t_env):
    return t_env.from_elements([(1, "a"), (2, "bb"), (3, None), (4, "dddd"), (5, "e")], ["id", "s"])


def vals(table):
    return [tuple(r) for r in table.execute().collect()]


def test_function_udf(tab):
    @udf(result_type=DataTypes.BIGINT())
    def plus_one(x):
        return x + 1

    assert vals(tab.select(plus_one(col("id")))) == [(2,), (3,), (4,), (5,), (6,)]


def test_udf_call_form_and_lambda(tab):
    double = udf(lambda x: x * 2, result_type=DataTypes.BIGINT())
    assert vals(tab.select(double(col("id")))) == [(2,), (4,), (6,), (8,), (10,)]
    strlen = udf(lambda s: None if s is None else len(s), input_types=[DataTypes.STRING()],
                 result_type=DataTypes.INT())
    assert vals(tab.select(strlen(col("s")))) == [(1,), (2,), (None,), (4,), (1,)]


def test_callable_class_udf(tab):
    class Mul:
        def __init__(self, k):
            self.k = k

        def __call__(self, x):
            return x * self.k

    mul3 = udf(Mul(3), result_type=DataTypes.BIGINT())
    assert vals(tab.select(mul3(col("id")))) == [(3,), (6,), (9,), (12,), (15,)]


def test_scalar_function_subclass_open_close(tab):
    calls = []

    class Offset(ScalarFunction):
        def open(self, function_context):
            calls.append("open")
            self.offset = 100

        def eval(self, x):
            return x + self.offset

        def close(self):
            calls.append("close")

    fn = udf(Offset(), result_type=DataTypes.BIGINT())
    assert vals(tab.select(fn(col("id")))) == [(101,), (102,), (103,), (104,), (105,)]
    assert calls[0] == "open"
    assert calls.count("open") >= 1
    assert "close" in calls


def test_pandas_udf(tab):
    @udf(result_type=DataTypes.BIGINT(), func_type="pandas")
    def padd(a, b):
        assert isinstance(a, pd.Series)
        return a + b

    assert vals(tab.select(padd(col("id"), col("id")))) == [(2,), (4,), (6,), (8,), (10,)]


@pytest.mark.parametrize("result_type", [DataTypes.DOUBLE(), DataTypes.FLOAT()])
def test_pandas_udf_nan_results_are_null(tab, result_type):
    """A float result's NaN is NULL (as PyFlink converts pandas data), NaN-free results and
    results of another float width included."""
    @udf(result_type=result_type, func_type="pandas")
    def halve_or_nan(x):
        return (x / 2).where(x % 2 == 0)  # NaN for odd ids

    @udf(result_type=result_type, func_type="pandas")
    def halve(x):
        return x / 2

    got = vals(tab.select(halve_or_nan(col("id")), halve(col("id"))))
    assert got == [(None, 0.5), (1.0, 1.0), (None, 1.5), (2.0, 2.0), (None, 2.5)]


def test_legacy_udf_type_pandas(tab):
    seen = []

    def upper(s):
        seen.append(type(s))
        return s.str.upper()

    f = udf(upper, result_type=DataTypes.STRING(), udf_type="pandas")
    assert vals(tab.select(f(col("s")))) == [("A",), ("BB",), (None,), ("DDDD",), ("E",)]
    assert seen and all(t is pd.Series for t in seen)


def test_input_types_cast_to_string(tab):
    seen = []

    @udf(input_types=[DataTypes.STRING()], result_type=DataTypes.STRING())
    def describe(x):
        seen.append(x)
        return f"<{x}>"

    assert vals(tab.select(describe(col("id"))))[0] == ("<1>",)
    assert all(isinstance(v, str) for v in seen)
    assert seen[:2] == ["1", "2"]


def test_pandas_batch_size(t_env, tab):
    t_env.get_config().set("python.fn-execution.arrow.batch.size", "2")
    sizes = []

    @udf(result_type=DataTypes.BIGINT(), func_type="pandas")
    def ident(x):
        sizes.append(len(x))
        return x

    assert vals(tab.select(ident(col("id")))) == [(1,), (2,), (3,), (4,), (5,)]
    assert sizes and max(sizes) <= 2
    assert sum(sizes) == 5


@udf(result_type=DataTypes.BIGINT())
def times_ten(x):
    return x * 10


def test_create_temporary_function_sql_and_call(t_env, tab):
    t_env.create_temporary_function("times_ten", times_ten)
    t_env.create_temporary_view("t", tab)
    assert vals(t_env.sql_query("SELECT times_ten(id) FROM t WHERE id < 3")) == [(10,), (20,)]
    assert vals(tab.select(call("times_ten", col("id"))).limit(2)) == [(10,), (20,)]


def test_create_temporary_system_function(t_env, tab):
    t_env.create_temporary_system_function("tt", times_ten)
    t_env.create_temporary_view("t", tab)
    assert vals(t_env.sql_query("SELECT tt(id) FROM t WHERE id = 4")) == [(40,)]
    assert vals(tab.filter(col("id") == 5).select(call("tt", col("id")))) == [(50,)]


def test_register_function(t_env, tab):
    t_env.register_function("legacy_tt", times_ten)
    t_env.create_temporary_view("t", tab)
    assert vals(t_env.sql_query("SELECT legacy_tt(id) + 1 FROM t WHERE id = 1")) == [(11,)]


def test_udf_in_where(t_env, tab):
    is_even = udf(lambda x: x % 2 == 0, result_type=DataTypes.BOOLEAN())
    t_env.create_temporary_function("is_even", is_even)
    t_env.create_temporary_view("t", tab)
    assert vals(t_env.sql_query("SELECT id FROM t WHERE is_even(id)")) == [(2,), (4,)]


def boom_impl(x):
    if x == 3:
        raise ZeroDivisionError("user boom at 3")
    return x


def test_udf_error_wraps_user_exception(tab):
    boom = udf(boom_impl, result_type=DataTypes.BIGINT())
    with pytest.raises(UdfError) as ei:
        vals(tab.select(boom(col("id"))))
    msg = str(ei.value)
    assert "boom_impl" in msg
    assert __file__.split("/")[-1] in msg
    assert isinstance(ei.value.__cause__, ZeroDivisionError)
    assert "user boom at 3" in str(ei.value.__cause__)


def test_pandas_udf_error_wraps_user_exception(tab):
    def pboom(x):
        raise ValueError("pandas boom")

    f = udf(pboom, result_type=DataTypes.BIGINT(), func_type="pandas")
    with pytest.raises(UdfError) as ei:
        vals(tab.select(f(col("id"))))
    assert "pboom" in str(ei.value)
    assert "test_udf.py" in str(ei.value)
    assert isinstance(ei.value.__cause__, ValueError)


@pytest.mark.parametrize("method", ["open", "close"])
def test_a_udf_whose_open_or_close_raises_gives_a_udf_error_naming_it(method):
    class Flaky(ScalarFunction):
        def open(self, function_context):
            if method == "open":
                raise RuntimeError("cannot connect")

        def close(self):
            if method == "close":
                raise RuntimeError("cannot disconnect")

        def eval(self, x):
            return x

    t_env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    t_env.create_temporary_function("flaky", udf(Flaky(), result_type=DataTypes.BIGINT()))
    with pytest.raises(UdfError, match=rf"{method}\(\) of user-defined function 'Flaky' "
                       r"\(defined at .*test_udf.py:\d+\) raised RuntimeError") as info:
        list(t_env.sql_query("SELECT flaky(x) FROM (VALUES (1), (2)) AS v(x)").execute().collect())
    assert isinstance(info.value.__cause__, RuntimeError)
