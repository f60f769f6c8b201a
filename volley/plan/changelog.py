"""Changelog-mode inference: which row kinds each node of a streaming plan emits, and its upsert
keys (Flink's ``FlinkChangelogModeInferenceProgram`` and ``FlinkRelMdUpsertKeys``).

Two phases, as in Flink:

1. Bottom-up, what each node *can* produce (``modify_kinds``): inserts, updates, deletes. A
   source is insert-only; a projection or filter forwards its input's; a group aggregation adds
   updates (and deletes, over an updating input); an outer join may produce anything.
2. Top-down, what each consumer *requires* of updates (``UpdateKind``): ``BEFORE_AND_AFTER``
   (``-U`` then ``+U``: a retract stream) or ``ONLY_UPDATE_AFTER`` (``+U`` alone: an upsert
   stream, keyed by the upsert key). ``collect()``, ``print`` and every stateful operator need
   before-and-after; an upsert sink (``blackhole``) asks for only-after, and gets it when the
   plan can give it — a group aggregation then emits no ``-U`` — else before-and-after.
   ``can_provide`` says whether a node can satisfy a requirement, ``child_requirement`` what it
   asks of an input in turn.

Upsert keys (``upsert_keys``) are sets of output columns under which a changelog's rows are
keyed: a group aggregation's group keys, mapped through projections, kept by a join where Flink
keeps them. A sink with a PRIMARY KEY takes an updating query only when the key contains one.
The physical planner asks this module what to build; it never builds anything itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from volley.common.changelog import DELETE, INSERT, UPDATE_AFTER, UPDATE_BEFORE, ChangelogMode
from volley.errors import ChangelogModeError
from volley.plan import nodes as n
from volley.plan.expressions import Cast, InputRef
from volley.plan.join_keys import split_equi_condition

#: Flink's ModifyKind: what a node may do to its result (insert, update, delete rows)
INSERTS, UPDATES, DELETES = "insert", "update", "delete"
INSERT_ONLY = frozenset({INSERTS})
ALL_CHANGES = frozenset({INSERTS, UPDATES, DELETES})

Keys = frozenset[frozenset[int]] | None
"""Upsert keys: sets of column indices; None when none is known."""


class UpdateKind(Enum):
    """How updates travel (Flink's UpdateKindTrait)."""

    NONE = "none"  # no updates at all
    ONLY_UPDATE_AFTER = "only-update-after"  # +U alone (an upsert stream)
    BEFORE_AND_AFTER = "before-and-after"  # -U then +U (a retract stream)


ONLY_AFTER = UpdateKind.ONLY_UPDATE_AFTER
BEFORE_AND_AFTER = UpdateKind.BEFORE_AND_AFTER


@dataclass(frozen=True)
class Changelog:
    """What a node emits in a planned job: its row kinds and upsert keys."""

    row_kinds: frozenset[int]
    upsert_keys: Keys = None

    @property
    def mode(self) -> ChangelogMode:
        if self.row_kinds <= {INSERT}:
            return ChangelogMode.INSERT_ONLY
        return ChangelogMode.RETRACT if UPDATE_BEFORE in self.row_kinds else ChangelogMode.UPSERT

    def __str__(self) -> str:
        """As Flink's ``changelogMode=[...]``: ``I,UB,UA,D``."""
        names = {INSERT: "I", UPDATE_BEFORE: "UB", UPDATE_AFTER: "UA", DELETE: "D"}
        return ",".join(names[k] for k in sorted(self.row_kinds))


def row_kinds(kinds: frozenset[str], update: UpdateKind) -> frozenset[int]:
    """The row kinds of a stream that may ``kinds`` and carries updates as ``update`` says."""
    out = set()
    if INSERTS in kinds:
        out.add(INSERT)
    if UPDATES in kinds:
        out.add(UPDATE_AFTER)
        if update is not ONLY_AFTER:
            out.add(UPDATE_BEFORE)
    if DELETES in kinds:
        out.add(DELETE)
    return frozenset(out)


def _transparent(node: n.Node) -> bool:
    """Nodes that forward their input's changes row by row (Flink's Calc, Union, ...)."""
    return isinstance(node, (n.Project, n.Filter, n.WatermarkAssigner)) or (
        isinstance(node, n.SetOp) and node.kind == "union" and node.all)


class ChangelogInference:
    """Both phases over one plan (results cached per node; nodes are immutable)."""

    def __init__(self) -> None:
        self._kinds: dict[int, frozenset[str]] = {}
        self._keys: dict[int, Keys] = {}
        self._provide: dict[tuple[int, UpdateKind], bool] = {}
        self._alive: list[n.Node] = []  # keeps cached ids from being reused

    # -- phase 1: what a node can produce ---------------------------------------------------------
    def modify_kinds(self, node: n.Node) -> frozenset[str]:
        key = id(node)
        if key not in self._kinds:
            self._kinds[key] = self._modify_kinds(node)
            self._alive.append(node)
        return self._kinds[key]

    def updating(self, node: n.Node) -> bool:
        return self.modify_kinds(node) != INSERT_ONLY

    def _modify_kinds(self, node: n.Node) -> frozenset[str]:
        inputs = [self.modify_kinds(i) for i in node.inputs]
        any_change = any(k != INSERT_ONLY for k in inputs)
        if isinstance(node, (n.Values, n.Scan)):
            return INSERT_ONLY
        if _transparent(node):
            return frozenset().union(*inputs)
        if isinstance(node, n.Aggregate):
            return frozenset({INSERTS, UPDATES, DELETES}) if any_change else frozenset({INSERTS, UPDATES})
        if isinstance(node, n.Join):
            if node.kind in ("inner", "semi"):
                return frozenset().union(*inputs)
            return ALL_CHANGES
        if isinstance(node, n.SetOp):
            # Flink plans EXCEPT as an anti join (which may delete) under a distinct
            # aggregation; the others as a group aggregation over the rows of both inputs
            if node.kind == "minus" and not node.all:
                return ALL_CHANGES
            return frozenset({INSERTS, UPDATES, DELETES}) if any_change else frozenset({INSERTS, UPDATES})
        if isinstance(node, n.Sort):  # a streaming LIMIT
            return ALL_CHANGES if any_change else INSERT_ONLY
        # a node this module does not know says what it emits through changelog_mode()
        return INSERT_ONLY if node.changelog_mode() is ChangelogMode.INSERT_ONLY else ALL_CHANGES

    # -- upsert keys ------------------------------------------------------------------------------
    def upsert_keys(self, node: n.Node) -> Keys:
        key = id(node)
        if key not in self._keys:
            self._keys[key] = self._upsert_keys(node)
            self._alive.append(node)
        return self._keys[key]

    def _upsert_keys(self, node: n.Node) -> Keys:
        if isinstance(node, n.Scan):
            names = node.schema.names
            pk = getattr(node.catalog_table, "primary_key", ())
            if pk and all(c in names for c in pk):
                return frozenset({frozenset(names.index(c) for c in pk)})
            return None
        if isinstance(node, (n.Filter, n.WatermarkAssigner)):
            return self.upsert_keys(node.input)
        if isinstance(node, n.Project):
            return _project_keys(node, self.upsert_keys(node.input))
        if isinstance(node, n.Aggregate):
            return frozenset({frozenset(range(len(node.group_keys)))})
        if isinstance(node, n.Join):
            return self._join_keys(node)
        if isinstance(node, n.SetOp) and not node.all:
            return frozenset({frozenset(range(len(node.schema.fields)))})
        if isinstance(node, n.Sort) and not node.keys:
            return self.upsert_keys(node.input)
        return None

    def _join_keys(self, node: n.Join) -> Keys:
        """Flink's ``getJoinUpsertKeys``: a side's keys survive when they contain its join keys
        and the other side has at most one row per join key (and is not the side padded with
        NULLs); a key of each side together always does."""
        width = len(node.left.schema.fields)
        left_on, right_on, _ = split_equi_condition(node.condition, width)
        left, right = self.upsert_keys(node.left), self.upsert_keys(node.right)
        if node.kind in ("semi", "anti", "null_aware_anti"):
            return _containing(left, frozenset(left_on))
        lk, rk = _containing(left, frozenset(left_on)), _containing(right, frozenset(right_on))
        rk = None if rk is None else frozenset(frozenset(c + width for c in k) for k in rk)
        keys: set[frozenset[int]] = set()
        if lk is not None and rk is not None:
            keys.update(a | b for a in lk for b in rk)
        if _unique_on(right, frozenset(right_on)) and lk is not None \
                and node.kind not in ("right", "full"):
            keys.update(lk)
        if _unique_on(left, frozenset(left_on)) and rk is not None \
                and node.kind not in ("left", "full"):
            keys.update(rk)
        return frozenset(keys) if keys else None

    # -- phase 2: what consumers require ----------------------------------------------------------
    def required(self, node: n.Node, update: UpdateKind) -> UpdateKind:
        """``update`` narrowed to what ``node`` carries: NONE for an insert-only node."""
        return update if self.updating(node) else UpdateKind.NONE

    def can_provide(self, node: n.Node, update: UpdateKind) -> bool:
        """Whether ``node`` (and everything under it) can emit its updates as ``update``."""
        update = self.required(node, update)
        key = (id(node), update)
        if key not in self._provide:
            self._provide[key] = self._can_provide(node, update)
            self._alive.append(node)
        return self._provide[key]

    def _can_provide(self, node: n.Node, update: UpdateKind) -> bool:
        if update is ONLY_AFTER and not self._skips_update_before(node):
            return False
        return all(self.can_provide(child, self.child_requirement(node, update, i))
                   for i, child in enumerate(node.inputs))

    def _skips_update_before(self, node: n.Node) -> bool:
        """Whether ``node`` can emit an upsert stream (no -U) when asked to."""
        if isinstance(node, n.Filter):
            # as in Flink (FLINK-9528): a filter over updates (`cnt < 10` after an aggregation)
            # must see -U to retract rows that stop passing it
            return False
        if _transparent(node) or isinstance(node, n.Aggregate):
            return True
        if isinstance(node, n.SetOp):
            return not node.all  # the ALL variants filter their counts like a Calc
        if isinstance(node, n.Join):
            # Volley's stream join retracts stored rows by value, so it needs its inputs' -U
            return not any(self.updating(i) for i in node.inputs)
        if isinstance(node, n.Sort) and not node.keys:
            return True
        return False

    def child_requirement(self, node: n.Node, update: UpdateKind, child: int) -> UpdateKind:
        """What ``node``, emitting its updates as ``update``, asks of input ``child``."""
        child_node = node.inputs[child]
        if _transparent(node):
            return self.required(child_node, update)
        return self.required(child_node, BEFORE_AND_AFTER)

    def changelog(self, node: n.Node, update: UpdateKind = BEFORE_AND_AFTER) -> Changelog:
        """What ``node`` emits when its consumer asked for ``update``."""
        return Changelog(row_kinds(self.modify_kinds(node), self.required(node, update)),
                         self.upsert_keys(node))

    # -- sinks ------------------------------------------------------------------------------------
    def sink_update_kind(self, plan: n.Node, sink: str, accepted: Iterable[ChangelogMode],
                         primary_key: tuple[int, ...] = ()) -> UpdateKind:
        """How ``plan`` must carry its updates into sink table ``sink`` (its qualified name),
        which takes the changelog modes ``accepted`` and has the primary key ``primary_key``
        (column indices); a ChangelogModeError with Flink's message when it cannot."""
        accepted = frozenset(accepted)
        if not self.updating(plan):
            return UpdateKind.NONE
        if accepted <= {ChangelogMode.INSERT_ONLY}:
            source = self.producer(plan)
            changes = " and ".join(k for k in (UPDATES, DELETES) if k in self.modify_kinds(source))
            raise ChangelogModeError(
                f"Table sink '{sink}' doesn't support consuming {changes} changes which is "
                f"produced by node {source.describe()}; write to a sink that takes updates "
                "(e.g. 'print', or 'blackhole'), or run the job in batch mode")
        pk = frozenset(primary_key)
        keys = self.upsert_keys(plan) or frozenset()
        if pk and not any(k <= pk for k in keys):
            names = plan.schema.names
            shown = min(keys, key=lambda k: (len(k), sorted(k)), default=None)
            upsert = "" if shown is None else f"[{', '.join(names[i] for i in sorted(shown))}]"
            raise ChangelogModeError(
                f"The query has an upsert key that differs from the primary key of the sink "
                f"table '{sink}'. Primary key: [{', '.join(names[i] for i in primary_key)}], "
                f"upsert key: {upsert}. This can lead to "
                "non-deterministic results when multiple records with different upsert keys map "
                "to the same primary key. Flink asks for an ON CONFLICT clause here, which Volley "
                "does not support yet: declare the PRIMARY KEY on the query's upsert key, or "
                "write to a table without one")
        if ChangelogMode.UPSERT in accepted and (not pk or pk in keys) \
                and self.can_provide(plan, ONLY_AFTER):
            return ONLY_AFTER
        return BEFORE_AND_AFTER

    def producer(self, plan: n.Node) -> n.Node:
        """The node that introduces ``plan``'s updates: below the row-by-row nodes that only
        forward them (the node Flink's error messages name)."""
        if _transparent(plan):
            for child in plan.inputs:
                if self.updating(child):
                    return self.producer(child)
        return plan


def _containing(keys: Keys, columns: frozenset[int]) -> Keys:
    """The keys that contain ``columns`` (those whose rows meet in one place when the rows are
    partitioned by ``columns``)."""
    return None if keys is None else frozenset(k for k in keys if columns <= k)


def _unique_on(keys: Keys, columns: frozenset[int]) -> bool:
    """Whether rows are unique on ``columns``: they contain a key."""
    return keys is not None and any(k <= columns for k in keys)


def _project_keys(node: n.Project, keys: Keys) -> Keys:
    """Keys whose every column the projection keeps (renamed or cast without loss)."""
    if keys is None:
        return None
    outputs: dict[int, list[int]] = {}
    for position, expr in enumerate(node.exprs):
        source = _kept_column(expr)
        if source is not None:
            outputs.setdefault(source, []).append(position)
    result: set[frozenset[int]] = set()
    for key in keys:
        if all(c in outputs for c in key):
            result.add(frozenset(outputs[c][0] for c in key))
    return frozenset(result) if result else None


def _kept_column(expr: object) -> int | None:
    """The input column ``expr`` passes on unchanged: a reference, or a cast that loses
    nothing (to the same type, or an integer to a wider one)."""
    if isinstance(expr, InputRef):
        return expr.index
    if isinstance(expr, Cast) and isinstance(expr.operand, InputRef) and not expr.safe:
        source, target = expr.operand.type, expr.type
        if source.as_nullable() == target.as_nullable():
            return expr.operand.index
        if source.is_integral and target.is_integral \
                and source.rank <= target.rank:  # type: ignore[attr-defined]
            return expr.operand.index
    return None


def explain_changelogs(plan: n.Node, inference: ChangelogInference,
                       update: UpdateKind = BEFORE_AND_AFTER, indent: int = 0) -> list[str]:
    """``explain_tree`` with each node's changelog mode, as Flink's ``ExplainDetail.
    CHANGELOG_MODE`` shows it: ``Aggregate(..., changelogMode=[I,UB,UA])``."""
    update = inference.required(plan, update)
    text = plan.describe()
    mode = f"changelogMode=[{inference.changelog(plan, update)}]"
    text = f"{text[:-1]}, {mode})" if text.endswith(")") else f"{text}({mode})"
    lines = [("   " * indent) + ("+- " if indent else "") + text]
    for index, child in enumerate(plan.inputs):
        lines += explain_changelogs(child, inference,
                                    inference.child_requirement(plan, update, index), indent + 1)
    return lines
