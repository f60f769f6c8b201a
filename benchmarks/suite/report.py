"""The markdown report: per case, each engine's figures, then the ratios and the targets.

Times: ``job s`` is the job alone (engine ready → job finished); ``process s`` is the whole
process (interpreter start, imports, engine start, input DDL, job, exit). Throughput is counted
over the job time, except for startup, whose figure *is* the whole process.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from benchmarks.suite.cases import BASELINE, ENGINE_LABELS, ENGINES, Case, Target
from benchmarks.suite.measure import Measurement


@dataclass
class EngineFigures:
    """The medians of one engine's repeated runs of one case (or why it has none)."""

    engine: str
    runs: list[Measurement]
    missing: str | None = None  # why there are no figures (not installed, not applicable, ...)

    @property
    def ok_runs(self) -> list[Measurement]:
        return [m for m in self.runs if m.error is None]

    @property
    def error(self) -> str | None:
        failed = [m.error for m in self.runs if m.error is not None]
        return failed[0] if failed else None

    def job_s(self) -> float | None:
        runs = self.ok_runs
        return statistics.median(m.result.get("job_s", m.wall_s) for m in runs) if runs else None

    def job_times(self) -> list[float]:
        return [m.result.get("job_s", m.wall_s) for m in self.ok_runs]

    def wall_s(self) -> float | None:
        runs = self.ok_runs
        return statistics.median(m.wall_s for m in runs) if runs else None

    def peak_rss(self) -> int | None:
        runs = self.ok_runs
        return int(statistics.median(m.peak_rss for m in runs)) if runs else None

    def check(self) -> object:
        runs = self.ok_runs
        return runs[0].result.get("check") if runs else None


def case_time(case: Case, figures: EngineFigures) -> float | None:
    """The time a case is judged on: the whole process for startup, the job otherwise."""
    return figures.wall_s() if case.worker_case == "startup" else figures.job_s()


def _mb(n: int | None) -> str:
    return "–" if n is None else f"{n / 1e6:,.0f} MB"


def _secs(s: float | None) -> str:
    return "–" if s is None else f"{s:.3f}"


def _labelled(by_engine: dict[str, EngineFigures], label: str) -> EngineFigures | None:
    return next((f for f in by_engine.values() if ENGINE_LABELS[f.engine] == label), None)


def evaluate(case: Case, target: Target, by_engine: dict[str, EngineFigures]) -> tuple[str, str]:
    """(the measured ratio as text, "met" / "NOT met" / "n/a") for one target."""
    reference = _labelled(by_engine, target.reference)
    volley = _labelled(by_engine, target.subject)
    if reference is None or volley is None:
        return "–", "n/a"
    if target.kind == "memory":
        mine, theirs = volley.peak_rss(), reference.peak_rss()
        if not mine or not theirs:
            return "–", "n/a"
        ratio = mine / theirs
        return f"{ratio:.2f}", "met" if ratio <= target.value else "NOT met"
    mine, theirs = case_time(case, volley), case_time(case, reference)
    if not mine or not theirs:
        return "–", "n/a"
    if target.kind == "speedup":
        speedup = theirs / mine
        return f"{speedup:,.1f}x faster", "met" if speedup >= target.value else "NOT met"
    ratio = mine / theirs
    if target.kind == "startup":
        return f"1/{1 / ratio:.1f} of the time", "met" if ratio <= target.value else "NOT met"
    return f"{ratio:.2f}x the time", "met" if ratio <= target.value else "NOT met"


def render_case(case: Case, rows: int, by_engine: dict[str, EngineFigures]) -> list[str]:
    lines = [f"### {case.name}: {case.title}", ""]
    if rows:
        mode = "Batch mode." if not case.streaming else "Streaming mode (DuckDB and floor: batch)."
        lines.append(f"Input: {rows:,} {case.unit}. {case.note or mode}")
        lines.append("")
    lines += [f"| engine | job s | process s | {case.unit.split()[0]}/s (job) | peak RSS (tree) | check |", "|---|---|---|---|---|---|"]
    for figures in by_engine.values():
        label = ENGINE_LABELS[figures.engine]
        if figures.missing:
            lines.append(f"| {label} | {figures.missing} | | | | |")
            continue
        if not figures.ok_runs:
            lines.append(f"| {label} | failed: {figures.error} | | | | |")
            continue
        time_s = case_time(case, figures)
        calibration = ENGINES[figures.engine].calibration
        rate = f"{rows / time_s:,.0f}" if rows and time_s and not calibration else "–"
        job = "–" if case.worker_case == "startup" else _secs(figures.job_s())
        check = figures.check()
        lines.append(
            f"| {label} | {job} | {_secs(figures.wall_s())} | {rate} | "
            f"{_mb(figures.peak_rss())} | {'' if check is None else check} |"
        )
    if case.targets:
        lines += ["", "| target | measured | status |", "|---|---|---|"]
        for target in case.targets:
            measured, status = evaluate(case, target, by_engine)
            lines.append(f"| {target.describe()} | {measured} | {status} |")
    if case.ratios:
        lines += ["", "| ratio of times | of the medians | from | median of per-round ratios |",
                  "|---|---|---|---|"]
        for ratio in case.ratios:
            value, source = ratio_text(case, by_engine, ratio.numerator, ratio.denominator,
                                       ratio.scale)
            top, bottom = by_engine.get(ratio.numerator), by_engine.get(ratio.denominator)
            paired = paired_ratio(case, top, bottom) if top and bottom else None
            paired = None if paired is None else paired * ratio.scale
            lines.append(f"| {ratio.meaning} | {value} | {source} | {_ratio(paired)} |")
    if case.per_round:
        lines += per_round_table(case, by_engine)
    lines.append("")
    return lines


def per_round_table(case: Case, by_engine: dict[str, EngineFigures]) -> list[str]:
    """Every round's time per engine (engines take turns within a round), and the case's
    ratios within each round."""
    shown = [f for f in by_engine.values() if f.runs]
    if not shown:
        return []
    times = {f.engine: _times(case, f) for f in shown}
    rounds = max(len(t) for t in times.values())
    head = [ENGINE_LABELS[f.engine] for f in shown]
    head += [r.short or r.meaning for r in case.ratios]
    lines = ["", "Per round (s; ratios within the round):", "",
             "| round | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for i in range(rounds):
        cells = []
        for f in shown:
            t = times[f.engine][i] if i < len(times[f.engine]) else None
            cells.append("–" if t is None else f"{t:.3f}")
        for r in case.ratios:
            a = times.get(r.numerator, [])
            b = times.get(r.denominator, [])
            ok = i < len(a) and i < len(b) and a[i] and b[i]
            cells.append(f"{r.scale * a[i] / b[i]:.2f}" if ok else "–")
        lines.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    return lines


def _times(case: Case, figures: EngineFigures) -> list[float | None]:
    """Per run, in round order, the time the case is judged on (None for a failed run)."""
    if case.worker_case == "startup":
        return [m.wall_s if m.error is None else None for m in figures.runs]
    return [m.result.get("job_s", m.wall_s) if m.error is None else None for m in figures.runs]


def _cpu_times(case: Case, figures: EngineFigures) -> list[float | None]:
    """Per run, CPU seconds: of the whole process for startup, of the job otherwise."""
    if case.worker_case == "startup":
        return [m.cpu_s if m.error is None else None for m in figures.runs]
    return [m.result.get("job_cpu_s") if m.error is None else None for m in figures.runs]


def paired_ratio(case: Case, top: EngineFigures, bottom: EngineFigures,
                 cpu: bool = False) -> float | None:
    """The median over rounds of top's time / bottom's time in the same round (``cpu``: CPU
    time). Engines take turns within a round, so this cancels noise that drifts over minutes
    (another job starting on the machine) better than a ratio of medians."""
    times = _cpu_times if cpu else _times
    pairs = [a / b for a, b in zip(times(case, top), times(case, bottom), strict=False)
             if a and b]
    return statistics.median(pairs) if pairs else None


def ratio_text(case: Case, by_engine: dict[str, EngineFigures], numerator: str,
               denominator: str, scale: float = 1.0) -> tuple[str, str]:
    """(scale x numerator's median time / denominator's, "a s / b s") as text; "–" without
    both."""
    top, bottom = by_engine.get(numerator), by_engine.get(denominator)
    a = case_time(case, top) if top and not top.missing else None
    b = case_time(case, bottom) if bottom and not bottom.missing else None
    if not a or not b:
        return "–", "–"
    factor = "" if scale == 1 else f"{scale:g} x "
    return f"{scale * a / b:.2f}", f"{factor}{_secs(a)} s / {_secs(b)} s"


def _spread(case: Case, figures: EngineFigures) -> str:
    times = [m.wall_s for m in figures.ok_runs] if case.worker_case == "startup" \
        else figures.job_times()
    return f"[{min(times):.3f}, {max(times):.3f}]" if times else "–"


def baseline_rows(case: Case, by_engine: dict[str, EngineFigures]) -> list[str]:
    """The case's line of the report's "against the baseline" table (none without one)."""
    new, old = by_engine.get("volley"), by_engine.get(BASELINE)
    if new is None or old is None:
        return []
    if not new.ok_runs or not old.ok_runs:
        return [f"| {case.name} | failed: {new.error or old.error} | | | | | | |"]
    ratio, _ = ratio_text(case, by_engine, "volley", BASELINE)
    paired = paired_ratio(case, new, old)
    paired_cpu = paired_ratio(case, new, old, cpu=True)
    wall = new.wall_s() / old.wall_s() if new.wall_s() and old.wall_s() else None
    judged = "process" if case.worker_case == "startup" else "job"
    return [
        f"| {case.name} ({judged}) | {_secs(case_time(case, new))} {_spread(case, new)} | "
        f"{_secs(case_time(case, old))} {_spread(case, old)} | {ratio} | "
        f"{_ratio(paired)} | {_ratio(paired_cpu)} | {_ratio(wall)} | "
        f"{_mb(new.peak_rss())} / {_mb(old.peak_rss())} |"
    ]


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def summary_rows(case: Case, by_engine: dict[str, EngineFigures]) -> list[str]:
    """One line per target, for the report's overview table."""
    out = []
    for target in case.targets:
        measured, status = evaluate(case, target, by_engine)
        out.append(f"| {case.name} | {target.describe()} | {measured} | {status} |")
    return out
