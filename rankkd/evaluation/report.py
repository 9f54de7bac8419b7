"""``ComparisonReport``: the result of :func:`rankkd.evaluation.compare_runs` as a table, JSON or bar chart."""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rankkd.utils import atomic_write

STAT_TEST_LABELS = {
    "student": "two-sided paired Student's t-test",
    "fisher": "Fisher's randomisation test",
    "tukey": "Tukey's HSD test",
}
LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Unicode modifier letters; there is no common superscript "q", so it uses U+107A5 (MODIFIER LETTER SMALL Q)
SUPERSCRIPTS = dict(zip(LETTERS, "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖ\U000107a5ʳˢᵗᵘᵛʷˣʸᶻ"))
MAX_RUNS = len(LETTERS)


@dataclass
class ComparisonReport:
    """Mean and per-query scores of several runs on one query set, with pairwise significance.

    Attributes:
        metrics: metric names in column order.
        run_names: run names in row order; row ``i`` is labelled with letter ``LETTERS[i]``.
        mean_scores: ``{run: {metric: mean}}``.
        per_query: ``{run: {metric: {qid: score}}}``.
        p_values: ``{run_a: {run_b: {metric: p or None}}}`` (symmetric; None when undefined, e.g. identical runs).
        significant: ``{run: {metric: [runs it beats with p <= max_p]}}``.
        stat_test, max_p: the test and threshold used.
        num_queries: size of the evaluated query set (the qrels queries).
        missing_queries / ignored_queries: per run, qrels queries without results (scored 0) / run queries not in
            the qrels (not evaluated).
    """

    metrics: list[str]
    run_names: list[str]
    mean_scores: dict[str, dict[str, float]]
    per_query: dict[str, dict[str, dict[str, float]]]
    p_values: dict[str, dict[str, dict[str, float | None]]]
    significant: dict[str, dict[str, list[str]]]
    stat_test: str
    max_p: float
    num_queries: int
    missing_queries: dict[str, int] = field(default_factory=dict)
    ignored_queries: dict[str, int] = field(default_factory=dict)

    # ---------------------------------------------------------------------------------------------------- queries
    def letter(self, run: str) -> str:
        """The letter that marks ``run`` in the table's superscripts."""
        return LETTERS[self.run_names.index(run)]

    def best(self, metric: str, digits: int = 4) -> list[str]:
        """Runs with the highest mean on ``metric`` at the shown precision (several on a tie)."""
        rounded = {run: round(self.mean_scores[run][metric], digits) for run in self.run_names}
        top = max(rounded.values())
        return [run for run in self.run_names if rounded[run] == top]

    # ------------------------------------------------------------------------------------------------- renderers
    def to_markdown(self, digits: int = 4) -> str:
        """A markdown table: best per metric in bold, superscript letters = significantly better than that run."""
        header = ["", "run", *self.metrics]
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join([":-:", ":--"] + ["--:"] * len(self.metrics)) + "|"]
        best = {m: set(self.best(m, digits)) for m in self.metrics}
        for run in self.run_names:
            cells = [self.letter(run), _escape(run)]
            for metric in self.metrics:
                value = f"{self.mean_scores[run][metric]:.{digits}f}"
                if run in best[metric]:
                    value = f"**{value}**"
                marks = "".join(SUPERSCRIPTS[self.letter(other)] for other in self.significant[run][metric])
                cells.append(value + marks)
            lines.append("| " + " | ".join(cells) + " |")
        test = STAT_TEST_LABELS.get(self.stat_test, self.stat_test)
        notes = [
            "",
            f"Mean over {self.num_queries} queries (every judged query; a query without results scores 0). "
            f"Best per metric in **bold**. A superscript letter marks a significant improvement over the run with "
            f"that letter ({test}, p ≤ {self.max_p:g}).",
        ]
        for run in self.run_names:
            if self.missing_queries.get(run):
                notes.append(f"- {run}: no results for {self.missing_queries[run]} of {self.num_queries} queries "
                             "(scored 0).")
            if self.ignored_queries.get(run):
                notes.append(f"- {run}: {self.ignored_queries[run]} run queries without judgements ignored.")
        return "\n".join(lines + notes) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (p-values that are undefined are ``None``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ComparisonReport":
        """Inverse of :meth:`to_dict` (also accepts a dict loaded from :meth:`to_json` output)."""
        return cls(**data)

    def to_json(self, path: str | os.PathLike | None = None, indent: int = 2) -> dict[str, Any]:
        """Return :meth:`to_dict`; with ``path`` also write it as JSON (atomically; strict JSON, no NaN)."""
        data = self.to_dict()
        if path is not None:
            text = json.dumps(data, indent=indent, allow_nan=False, ensure_ascii=False)
            with atomic_write(path) as handle:
                handle.write(text + "\n")
        return data

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> "ComparisonReport":
        """Load a report written by :meth:`to_json`."""
        with open(path, encoding="utf-8") as handle:
            return cls.from_dict(json.load(handle))

    def plot(self, path_png: str | os.PathLike, *, title: str | None = None, dpi: int = 120) -> Path:
        """Bar chart of the mean scores grouped by metric (one colour per run), written atomically as PNG.

        Uses matplotlib's object API with the Agg canvas, so it never touches pyplot's global backend state and
        works headless.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        n_runs, n_metrics = len(self.run_names), len(self.metrics)
        width = 0.8 / n_runs
        fig = Figure(figsize=(max(6.0, 1.2 + n_metrics * (0.5 + 0.45 * n_runs)), 4.0 + 0.25 * ((n_runs + 3) // 4)))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        for i, run in enumerate(self.run_names):
            xs = [j - 0.4 + width * (i + 0.5) for j in range(n_metrics)]
            ys = [self.mean_scores[run][m] for m in self.metrics]
            bars = ax.bar(xs, ys, width=width * 0.95, label=f"{self.letter(run)}: {run}")
            marks = ["".join(SUPERSCRIPTS[self.letter(o)] for o in self.significant[run][m]) for m in self.metrics]
            ax.bar_label(bars, labels=[f"{y:.3f}{mark}" for y, mark in zip(ys, marks)], fontsize=7, padding=1)
        ax.set_xticks(range(n_metrics), self.metrics)
        top = max((v for scores in self.mean_scores.values() for v in scores.values()), default=1.0)
        ax.set_ylim(0.0, max(1.0, top) * 1.12)
        ax.set_ylabel(f"mean over {self.num_queries} queries")
        ax.set_title(title or f"Run comparison (letters: significantly better than that run, "
                              f"{self.stat_test} p ≤ {self.max_p:g})", fontsize=9)
        # below the axes, so it never hides a bar
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncols=min(n_runs, 4), frameon=False)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
        path_png = Path(path_png)
        with atomic_write(path_png, "wb") as handle:
            handle.write(buffer.getvalue())
        return path_png

    def __str__(self) -> str:
        return self.to_markdown()


def _escape(text: str) -> str:
    """Keep a run name from breaking the markdown table."""
    return text.replace("|", "\\|")
