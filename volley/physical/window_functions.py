"""Planning window functions and sorts: OVER aggregates, rankings, Top-N, deduplication, ORDER BY.

Batch mode runs any of them with blocking operators. A stream runs what Flink runs, and is
refused the rest with Flink's reason: an OVER window ordered by one column, ascending, its frame
ending at the current row, one window per SELECT, over an insert-only input — by a time
attribute any such frame (an insert-only result), by another column only a running frame (an
updating result); ranking as a Top-N (a ROW_NUMBER with an upper bound on it) or as the running
ROW_NUMBER of an OVER window; ORDER BY a time attribute (ascending, first), or with a LIMIT (a
Top-N).
"""

from __future__ import annotations

from typing import Any, Protocol

from volley.errors import UnsupportedFeatureError
from volley.physical.plan_op import PlanOp
from volley.plan import nodes as n
from volley.plan.calls import AggCall, OverFrame
from volley.plan.ranking import Deduplicate, TopN, time_attribute


class PhysicalPlanner(Protocol):
    """What these functions use of ``planner.PhysicalPlanner``."""

    streaming: bool
    changelogs: Any  # plan.changelog.ChangelogInference

    def _op(self, kind: str, node: n.Node, params: dict, inputs: list[n.Node],
            name: str | None = None, input_ops: Any = None) -> PlanOp: ...


def plan_window_function(planner: PhysicalPlanner, node: n.Node) -> PlanOp:
    """The operator of a Sort, Rank, OverAggregate, TopN or Deduplicate node."""
    if isinstance(node, n.Sort):
        return plan_sort(planner, node)
    if isinstance(node, n.Rank):
        return plan_rank(planner, node)
    if isinstance(node, n.OverAggregate):
        return plan_over_aggregate(planner, node)
    if isinstance(node, TopN):
        return plan_top_n(planner, node)
    assert isinstance(node, Deduplicate)
    return plan_deduplicate(planner, node)


def plan_over_aggregate(planner: PhysicalPlanner, node: n.OverAggregate) -> PlanOp:
    if not planner.streaming:
        return planner._op("over_aggregate", node, {
            "partition_keys": node.partition_keys, "order_keys": node.order_keys,
            "aggs": node.aggs, "frame": node.frame}, [node.input])
    if node.select_windows > 1:
        raise UnsupportedFeatureError(
            "Over Agg: Unsupported use of OVER windows. All aggregates must be computed on the "
            "same window (in streaming mode, as in Flink); give every OVER of this SELECT the "
            "same window (e.g. a named WINDOW w AS (...) and OVER w), or compute the others in "
            "a subquery")
    kind = _time_order(node.input, node.order_keys, node.frame)
    _check_insert_only(planner, node.input, "an OVER aggregate")
    if kind is None:  # a running window by a non-time column: an updating result
        return planner._op("sorted_over_aggregate", node, {
            "partition_keys": node.partition_keys, "order_key": node.order_keys[0],
            "aggs": node.aggs, "frame": node.frame}, [node.input])
    return planner._op("stream_over_aggregate", node, {
        "partition_keys": node.partition_keys, "time_index": node.order_keys[0].index,
        "aggs": node.aggs, "frame": node.frame, "rowtime": kind == "rowtime"}, [node.input])


def plan_rank(planner: PhysicalPlanner, node: n.Rank) -> PlanOp:
    if not planner.streaming:
        return planner._op("rank", node, {"partition_keys": node.partition_keys,
                                          "order_keys": node.order_keys,
                                          "function": node.function}, [node.input])
    if node.function != "row_number":
        raise UnsupportedFeatureError(
            f"{node.function.upper()}() on streaming table is not supported currently (as in "
            "Flink); use ROW_NUMBER(), or run the query in batch mode")
    # a ROW_NUMBER without a bound on it is the running count of an OVER window
    frame = OverFrame("rows", None, 0)
    kind = _time_order(node.input, node.order_keys, frame)
    _check_insert_only(planner, node.input, "ROW_NUMBER() OVER (...)")
    count = AggCall("count", None, False, node.schema.fields[-1].data_type, node.name)
    if kind is None:  # numbered by a non-time column: an updating result
        return planner._op("sorted_over_aggregate", node, {
            "partition_keys": node.partition_keys, "order_key": node.order_keys[0],
            "aggs": (count,), "frame": frame}, [node.input])
    return planner._op("stream_over_aggregate", node, {
        "partition_keys": node.partition_keys, "time_index": node.order_keys[0].index,
        "aggs": (count,), "frame": frame, "rowtime": kind == "rowtime"}, [node.input])


def plan_top_n(planner: PhysicalPlanner, node: TopN) -> PlanOp:
    return planner._op("top_n", node, {
        "partition_keys": node.partition_keys, "order_keys": node.order_keys,
        "start": node.start, "end": node.end, "output_rank": node.output_rank}, [node.input])


def plan_deduplicate(planner: PhysicalPlanner, node: Deduplicate) -> PlanOp:
    return planner._op("deduplicate", node, {
        "partition_keys": node.partition_keys, "time_index": node.time_index,
        "keep_last": node.keep_last, "rowtime": node.rowtime}, [node.input])


def plan_sort(planner: PhysicalPlanner, node: n.Sort) -> PlanOp:
    if not planner.streaming:
        return planner._op("sort", node, {"keys": node.keys, "offset": node.offset,
                                          "fetch": node.fetch}, [node.input])
    if not node.keys:
        return planner._op("limit", node, {"offset": node.offset, "fetch": node.fetch},
                           [node.input])
    first = node.keys[0]
    kind = time_attribute(node.input, first.index)
    if node.offset:
        raise UnsupportedFeatureError(
            "OFFSET without FETCH on a stream is not supported; add a FETCH (a Top-N: ORDER BY "
            "... LIMIT n OFFSET m), or run the query in batch mode")
    if kind is None or not first.ascending:
        raise UnsupportedFeatureError(
            "Sort on a non-time-attribute field is not supported (on a stream, as in Flink); "
            "ORDER BY a time attribute ascending first (e.g. ORDER BY ts, amount DESC), add a "
            "LIMIT (a Top-N), or run the query in batch mode")
    _check_insert_only(planner, node.input, "ORDER BY")
    return planner._op("temporal_sort", node, {"keys": node.keys, "rowtime": kind == "rowtime"},
                       [node.input])


def _time_order(input: n.Node, order_keys: tuple, frame: OverFrame) -> str | None:
    """The time attribute an OVER window on a stream is ordered by (None: a non-time column,
    which only a running window may be ordered by), or Flink's refusal."""
    if len(order_keys) != 1:
        raise UnsupportedFeatureError(
            "The window can only be ordered by a single time column (an OVER window on a "
            "stream, as in Flink); ORDER BY one time attribute, e.g. OVER (PARTITION BY k "
            "ORDER BY ts), or run the query in batch mode")
    key = order_keys[0]
    if not key.ascending:
        raise UnsupportedFeatureError(
            "The window can only be ordered in ASCENDING mode (an OVER window on a stream, as "
            "in Flink); drop the DESC, or run the query in batch mode")
    if frame.end != 0:
        raise UnsupportedFeatureError(
            "OVER RANGE FOLLOWING windows are not supported yet (on a stream, as in Flink); end "
            "the frame at CURRENT ROW, or run the query in batch mode")
    kind = time_attribute(input, key.index)
    if kind is None and frame.start is not None:
        raise UnsupportedFeatureError(
            f"Non-time attribute sort is not supported for bounded OVER window (column "
            f"{input.schema.names[key.index]!r}, as in Flink); order the window by a time "
            "attribute (a rowtime column with a WATERMARK, or PROCTIME()), make it unbounded "
            "(an updating result), or run the query in batch mode")
    return kind


def _check_insert_only(planner: PhysicalPlanner, input: n.Node, what: str) -> None:
    if planner.changelogs.updating(input):
        raise UnsupportedFeatureError(
            f"{what} on a stream needs an insert-only input, but its input is updating (it "
            "comes from a GROUP BY, a Top-N or another updating operation), as in Flink; apply "
            "it before the update, or run the query in batch mode")
