"""Time-bounded joins as logical plan nodes: interval joins and temporal joins.

An *interval join* is a join whose condition bounds the two inputs' time attributes against each
other (``a.ts BETWEEN b.ts - INTERVAL '1' HOUR AND b.ts``): a streaming engine can forget a row
once the watermark has passed every time it could still match. ``join_node`` recognises the
bounds the way Flink does (``IntervalJoinUtil``): among the conjuncts of the condition, exactly
two comparisons (a lower and an upper bound), or one equality, between a time attribute of each
input, both rowtime or both proctime, each side of a comparison a time attribute plus or minus
constant intervals. Anything else is a regular join.

A *temporal join* (``JOIN r FOR SYSTEM_TIME AS OF l.rowtime``) joins each left row with the
version of the right row valid at the left row's time: ``TemporalJoin`` against a versioned table
(a primary key and a rowtime attribute), ``LookupJoin`` (``AS OF l.proctime``) against a table
read as its current content.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from volley.common.changelog import ChangelogMode
from volley.errors import PlanError, UnsupportedFeatureError
from volley.plan import nodes as n
from volley.plan.expressions import Call, Cast, Expr, InputRef, Literal, walk
from volley.plan.types import BooleanType, RowField, RowType

TIME_ATTRIBUTES = ("rowtime", "proctime")
_COMPARISONS = ("lt", "le", "gt", "ge", "eq")


@dataclass(frozen=True)
class TimeBounds:
    """``left time - right time`` lies in ``[lower, upper]`` (milliseconds) for every joined
    pair; ``left_time``/``right_time`` index the time attributes in their inputs."""

    kind: str  # "rowtime" | "proctime"
    left_time: int
    right_time: int
    lower: int
    upper: int

    @property
    def left_relative_size(self) -> int:
        """How far a right row's time may lie after a left row's (Flink's names)."""
        return -self.lower

    @property
    def right_relative_size(self) -> int:
        return self.upper

    @property
    def output_delay(self) -> int:
        """How far the output watermark stays behind the input's: the longest a row can wait
        in state before it is joined (Flink's ``getMaxOutputDelay``)."""
        return max(self.left_relative_size, self.right_relative_size)


def conjuncts(e: Expr | None) -> list[Expr]:
    if e is None:
        return []
    if isinstance(e, Call) and e.fn == "and":
        return [c for a in e.args for c in conjuncts(a)]
    if isinstance(e, Call) and e.fn == "between" and len(e.args) == 3:
        x, lo, hi = e.args
        return [Call("ge", (x, lo), BooleanType()), Call("le", (x, hi), BooleanType())]
    return [e]


def conjunction(parts: list[Expr]) -> Expr | None:
    result: Expr | None = None
    for p in parts:
        result = p if result is None else Call("and", (result, p), BooleanType())
    return result


def _time_kind(e: InputRef) -> str | None:
    kind = getattr(e.type, "time_attribute", None)
    return kind if kind in TIME_ATTRIBUTES else None


def _offset(e: Expr) -> int | None:
    """``e`` with its time attribute read as 0: a constant number of milliseconds, or None."""
    if isinstance(e, InputRef):
        return 0
    if isinstance(e, Literal) and isinstance(e.value, int) and not isinstance(e.value, bool):
        return e.value
    if isinstance(e, Cast) and e.type.is_temporal:
        return _offset(e.operand)
    if isinstance(e, Call) and e.fn in ("plus", "minus") and len(e.args) == 2:
        a, b = (_offset(x) for x in e.args)
        if a is None or b is None:
            return None
        return a + b if e.fn == "plus" else a - b
    return None


@dataclass(frozen=True)
class _TimePredicate:
    kind: str
    left_on_left_side: bool  # the left input's time attribute is the comparison's first operand
    left_time: int
    right_time: int
    fn: str
    lower_offset: int  # offset of the comparison's first operand
    upper_offset: int  # ... and of its second


def _time_predicate(c: Expr, left_width: int) -> _TimePredicate | None:
    if not (isinstance(c, Call) and c.fn in _COMPARISONS and len(c.args) == 2):
        return None
    accesses = []
    for side in c.args:
        refs = _refs(side)
        if not refs or any(_time_kind(r) is None for r in refs) or len(refs) != 1:
            return None
        accesses.append(refs[0])
    a, b = accesses
    if _time_kind(a) != _time_kind(b) or (a.index < left_width) == (b.index < left_width):
        return None
    offsets = [_offset(x) for x in c.args]
    if offsets[0] is None or offsets[1] is None:
        return None
    left_first = a.index < left_width
    left_ref, right_ref = (a, b) if left_first else (b, a)
    return _TimePredicate(_time_kind(a), left_first, left_ref.index,  # type: ignore[arg-type]
                          right_ref.index - left_width, c.fn, offsets[0], offsets[1])


def _refs(e: Expr) -> list[InputRef]:
    return [x for x in walk(e) if isinstance(x, InputRef)]


def _bound(p: _TimePredicate) -> tuple[int, bool]:
    """(bound on ``left time - right time``, whether it is the lower one)."""
    if p.fn in ("gt", "ge"):
        is_lower = p.left_on_left_side
    elif p.fn in ("lt", "le"):
        is_lower = not p.left_on_left_side
    else:
        is_lower = True
    offset = (p.upper_offset - p.lower_offset) if p.left_on_left_side \
        else (p.lower_offset - p.upper_offset)
    if p.fn == "lt":
        offset += -1 if p.left_on_left_side else 1
    elif p.fn == "gt":
        offset += 1 if p.left_on_left_side else -1
    return offset, is_lower


def extract_time_bounds(condition: Expr | None, left_width: int
                        ) -> tuple[TimeBounds | None, Expr | None]:
    """The interval bounds in ``condition`` (over the left columns then the right ones) and the
    conjuncts that are not time predicates; ``(None, condition)`` when it bounds no interval."""
    times: list[tuple[_TimePredicate, Expr]] = []
    others: list[Expr] = []
    for c in conjuncts(condition):
        p = _time_predicate(c, left_width)
        if p is None:
            others.append(c)
        else:
            times.append((p, c))
    preds = [p for p, _ in times]
    if len(preds) == 1 and preds[0].fn == "eq":
        bound, _ = _bound(preds[0])
        lower = upper = bound
    elif len(preds) == 2 and not any(p.fn == "eq" for p in preds):
        (b1, low1), (b2, low2) = _bound(preds[0]), _bound(preds[1])
        if low1 == low2:
            return None, condition
        lower, upper = (b1, b2) if low1 else (b2, b1)
    else:
        return None, condition
    first = preds[0]
    return TimeBounds(first.kind, first.left_time, first.right_time, lower, upper), \
        conjunction(others)


def _kept_field(f: RowField, nullable: bool) -> RowField:
    return RowField(f.name, f.data_type.as_nullable()) if nullable else f


def _join_schema(left: n.Node, right: n.Node, kind: str, keep_right_times: bool = True
                 ) -> RowType:
    lf = tuple(_kept_field(f, kind in ("right", "full")) for f in left.schema.fields)
    rf = tuple(_kept_field(f if keep_right_times else n.materialized(f), kind in ("left", "full"))
               for f in right.schema.fields)
    return RowType(lf + rf)


@dataclass(frozen=True, eq=False)
class IntervalJoin(n.Node):
    """A join whose condition bounds the inputs' times (``bounds``); ``other`` is the rest of
    the condition (equi-keys and residual). Its output keeps both inputs' time attributes and
    is insert-only: an outer join emits a row's NULL-padded result once the row has expired
    unmatched."""

    left: n.Node
    right: n.Node
    kind: str
    condition: Expr
    bounds: TimeBounds
    other: Expr | None

    def __post_init__(self) -> None:
        if self.kind not in ("inner", "left", "right", "full"):
            raise PlanError(f"an interval join is inner, left, right or full; got {self.kind!r}")

    @property
    def inputs(self) -> tuple[n.Node, ...]:
        return (self.left, self.right)

    @cached_property
    def schema(self) -> RowType:
        return _join_schema(self.left, self.right, self.kind)

    def changelog_mode(self) -> ChangelogMode:
        return n.INSERT_ONLY

    def describe(self) -> str:
        b = self.bounds
        return (f"IntervalJoin(joinType=[{self.kind}], windowBounds=[isRowTime="
                f"{str(b.kind == 'rowtime').lower()}, leftLowerBound={b.lower}, "
                f"leftUpperBound={b.upper}, leftTimeIndex={b.left_time}, "
                f"rightTimeIndex={b.right_time}], where=[{self.condition}])")


def join_node(left: n.Node, right: n.Node, kind: str, condition: Expr | None) -> n.Node:
    """A regular ``Join``, or an ``IntervalJoin`` when ``condition`` bounds the inputs' time
    attributes against each other."""
    if kind in ("inner", "left", "right", "full") and condition is not None:
        fields = left.schema.fields + right.schema.fields
        bounds, _ = extract_time_bounds(_with_input_types(condition, fields),
                                        len(left.schema.fields))
        if bounds is not None:
            others = [c for c in conjuncts(condition)
                      if _time_predicate(_with_input_types(c, fields), len(left.schema.fields))
                      is None]
            return IntervalJoin(left, right, kind, condition, bounds, conjunction(others))
    return n.Join(left, right, kind, condition)


def _with_input_types(e: Expr, fields: tuple[RowField, ...]) -> Expr:
    """``e`` with its column references typed as the join's inputs type them: a condition
    bound against a join's output (whose time attributes are plain timestamps) still sees
    which columns are time attributes."""
    if isinstance(e, InputRef):
        return InputRef(e.index, e.name, fields[e.index].data_type)
    if isinstance(e, Call):
        return replace(e, args=tuple(_with_input_types(a, fields) for a in e.args))
    if isinstance(e, Cast):
        return replace(e, operand=_with_input_types(e.operand, fields))
    return e


def filter_join(plan: n.Node, condition: Expr) -> n.Node | None:
    """``plan`` filtered by ``condition`` as one interval join, when ``plan`` is an inner join
    and the two conditions together bound its inputs' times (``FROM a, b WHERE a.ts BETWEEN
    ...``, ``a.join(b).where(...)``); else None."""
    if not isinstance(plan, n.Join) or plan.kind != "inner":
        return None
    combined = conjunction(conjuncts(plan.condition) + conjuncts(condition))
    node = join_node(plan.left, plan.right, "inner", combined)
    return node if isinstance(node, IntervalJoin) else None


# ------------------------------------------------------------------------------------------------
# temporal joins
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TemporalJoin(n.Node):
    """``left JOIN right FOR SYSTEM_TIME AS OF left.<rowtime>``: each left row joins the version
    of ``right`` (a versioned table: ``right_key`` is its primary key, ``right_time`` its rowtime
    attribute) valid at the left row's time ``left_time``. Output: both inputs' columns, time
    attributes kept; insert-only."""

    left: n.Node
    right: n.Node
    kind: str  # inner | left
    condition: Expr
    left_time: int
    right_time: int
    right_key: tuple[int, ...]

    @property
    def inputs(self) -> tuple[n.Node, ...]:
        return (self.left, self.right)

    @cached_property
    def schema(self) -> RowType:
        return _join_schema(self.left, self.right, self.kind)

    def changelog_mode(self) -> ChangelogMode:
        return n.INSERT_ONLY

    def describe(self) -> str:
        return (f"TemporalJoin(joinType=[{self.kind}], asOf=[{self.left.schema.names[self.left_time]}"
                f"], version=[{self.right.schema.names[self.right_time]}], "
                f"where=[{self.condition}])")


@dataclass(frozen=True, eq=False)
class LookupJoin(n.Node):
    """``left JOIN right FOR SYSTEM_TIME AS OF left.<proctime>``: each left row joins the rows
    ``right`` holds when it arrives (a bounded connector table, read as its current content).
    Output: the left columns (time attributes kept) and the right ones; insert-only."""

    left: n.Node
    right: n.Node
    kind: str  # inner | left
    condition: Expr
    left_time: int

    @property
    def inputs(self) -> tuple[n.Node, ...]:
        return (self.left,)

    @property
    def bounded(self) -> bool:
        return self.left.bounded

    @cached_property
    def schema(self) -> RowType:
        return _join_schema(self.left, self.right, self.kind, keep_right_times=False)

    def changelog_mode(self) -> ChangelogMode:
        return self.left.changelog_mode()

    def describe(self) -> str:
        table = lookup_scan(self.right)
        name = table.table_name if table is not None else "?"
        return (f"LookupJoin(table=[{name}], joinType=[{self.kind}], "
                f"where=[{self.condition}])")


def versions(node: n.Node) -> n.Node:
    """The rows of a versioned table as versions. Under a keep-last deduplication by rowtime
    (through projections and filters) every row of its input is a version of its key from its
    time on: the deduplication, which emits only the last row of a key that a batch holds, is
    read through, so that no version in between is lost."""
    from volley.plan.ranking import Deduplicate

    if isinstance(node, Deduplicate) and node.keep_last and node.rowtime:
        return node.input
    if isinstance(node, (n.Project, n.Filter)):
        inner = versions(node.input)
        return node if inner is node.input else replace(node, input=inner)
    return node


def lookup_scan(node: n.Node) -> n.Scan | None:
    """The table scan under projections, filters and a watermark assigner, or None."""
    while isinstance(node, (n.Project, n.Filter, n.WatermarkAssigner)):
        node = node.input
    return node if isinstance(node, n.Scan) else None


def unique_key(node: n.Node) -> tuple[int, ...] | None:
    """Output columns of ``node`` that identify a row: a table's primary key carried through
    projections and filters, or the partition keys of a keep-first/last-row deduplication
    (``ROW_NUMBER() OVER (PARTITION BY k ORDER BY ...) = 1``)."""
    if isinstance(node, n.Scan):
        pk = node.catalog_table.primary_key if node.catalog_table is not None else ()
        names = node.schema.names
        return tuple(names.index(c) for c in pk) if pk and all(c in names for c in pk) else None
    if isinstance(node, n.WatermarkAssigner):
        return unique_key(node.input)
    if isinstance(node, n.Project):
        inner = unique_key(node.input)
        if inner is None:
            return None
        where = {e.index: i for i, e in enumerate(node.exprs) if isinstance(e, InputRef)}
        return tuple(where[k] for k in inner) if all(k in where for k in inner) else None
    if isinstance(node, n.Filter):
        dedup = _deduplication_key(node)
        return dedup if dedup is not None else unique_key(node.input)
    if isinstance(node, n.Aggregate):
        return tuple(range(len(node.group_keys))) if node.group_keys else None
    from volley.plan.ranking import Deduplicate

    if isinstance(node, Deduplicate):
        return tuple(node.partition_keys)
    return None


def _deduplication_key(node: n.Filter) -> tuple[int, ...] | None:
    """The partition keys of ``ROW_NUMBER() OVER (PARTITION BY ...)`` filtered to its first row
    (through projections of plain columns), as columns of the filter; else None."""
    projects: list[n.Project] = []
    below = node.input
    while isinstance(below, n.Project):
        projects.append(below)
        below = below.input
    if not isinstance(below, n.Rank) or below.function != "row_number":
        return None
    columns = [*below.partition_keys, len(below.schema.fields) - 1]
    for project in reversed(projects):  # bottom-up: where each column goes
        where = {e.index: i for i, e in enumerate(project.exprs) if isinstance(e, InputRef)}
        if not all(c in where for c in columns):
            return None
        columns = [where[c] for c in columns]
    *keys, rank_column = columns
    return tuple(keys) if _first_rank_only(node.condition, rank_column) else None


def _first_rank_only(condition: Expr, column: int) -> bool:
    for c in conjuncts(condition):
        if not (isinstance(c, Call) and len(c.args) == 2):
            continue
        ref, value = c.args
        if not (isinstance(ref, InputRef) and ref.index == column and isinstance(value, Literal)):
            continue
        if (c.fn in ("eq", "le") and value.value == 1) or (c.fn == "lt" and value.value == 2):
            return True
    return False


def temporal_join(left: n.Node, right: n.Node, kind: str, condition: Expr | None,
                  as_of: Expr, table: str) -> n.Node:
    """The temporal join ``left [LEFT] JOIN right FOR SYSTEM_TIME AS OF <as_of> ON condition``
    (``condition`` over the left columns then the right ones), checked as Flink checks it."""
    if kind not in ("inner", "left"):
        raise UnsupportedFeatureError(
            f"a {kind.upper()} JOIN ... FOR SYSTEM_TIME AS OF is not supported (as in Flink); "
            f"expected JOIN or LEFT JOIN with table {table!r}"
        )
    left_width = len(left.schema.fields)
    if not (isinstance(as_of, InputRef) and as_of.index < left_width
            and _time_kind(as_of) is not None):
        raise PlanError(
            f"FOR SYSTEM_TIME AS OF must name a time attribute of the left table; got "
            f"{as_of}; declare a WATERMARK on the left table's time column (event time) or a "
            "PROCTIME() column (processing time) and name it, e.g. FOR SYSTEM_TIME AS OF o.ts "
            "(a batch job has no event time, as in Flink: run an event-time temporal join in "
            "streaming mode)"
        )
    if condition is None:
        raise PlanError(
            f"the join with {table!r} FOR SYSTEM_TIME AS OF has no ON condition; expected "
            "equalities between left columns and the temporal table's key, e.g. ON o.k = r.k"
        )
    if left.changelog_mode() is not n.INSERT_ONLY:
        raise UnsupportedFeatureError(
            f"the left input of the temporal join with {table!r} is an updating stream; Volley "
            "supports temporal joins of insert-only left inputs; join before aggregating"
        )
    from volley.plan.join_keys import split_equi_condition

    left_keys, right_keys, _ = split_equi_condition(condition, left_width)
    if not left_keys:
        raise PlanError(
            f"the temporal join with {table!r} has no equality between left and right columns; "
            "a temporal join needs a join key, e.g. ON o.currency = r.currency"
        )
    if _time_kind(as_of) == "proctime":
        return _lookup_join(left, right, kind, condition, as_of.index, table)
    key = unique_key(right)
    if key is None:
        raise PlanError(
            f"an event-time temporal join needs a versioned table, but {table!r} has no primary "
            "key; declare PRIMARY KEY (...) NOT ENFORCED on it (or join a deduplicated view "
            "keeping the last row per key)"
        )
    times = [i for i, f in enumerate(right.schema.fields)
             if getattr(f.data_type, "time_attribute", None) == "rowtime"]
    if not times:
        raise PlanError(
            f"an event-time temporal join needs a versioned table with a rowtime attribute, but "
            f"{table!r} has none; declare a WATERMARK on its version time column"
        )
    missing = [right.schema.names[k] for k in key if k not in right_keys]
    if missing:
        raise PlanError(
            f"the temporal join with {table!r} must join on its primary key; the ON condition "
            f"has no equality on {', '.join(missing)}; expected e.g. ON o.{missing[0]} = "
            f"{table}.{missing[0]}"
        )
    return TemporalJoin(left, right, kind, condition, as_of.index, times[0], key)


def _lookup_join(left: n.Node, right: n.Node, kind: str, condition: Expr, left_time: int,
                 table: str) -> LookupJoin:
    scan = lookup_scan(right)
    if scan is None:
        raise UnsupportedFeatureError(
            f"a processing-time temporal join (FOR SYSTEM_TIME AS OF a PROCTIME() column) needs "
            f"a lookup table, but {table!r} is a query; join a connector table (filesystem), or "
            "use an event-time temporal join against a versioned table"
        )
    if not scan.bounded:
        raise UnsupportedFeatureError(
            f"a processing-time temporal join reads its table {table!r} as its current content; "
            f"expected a bounded table, but {scan.table_name!r} is unbounded; use an event-time "
            "temporal join against a versioned table (PRIMARY KEY and WATERMARK), or a regular "
            "join"
        )
    return LookupJoin(left, right, kind, condition, left_time)
