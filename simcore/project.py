"""The public entry point: a :class:`Project` is a customer book with its configuration.

One path through the steps, whoever calls it (the CLI, a notebook, a sweep)::

    load and validate the book -> segment -> economics (from config and data)
        -> revenue dynamics (MRR history) -> check every scenario's levers
        -> fit retention -> simulate the baseline and the scenarios

Every config, data and lever problem is found before any fitting starts, all at once.
Each step runs once per project and is cached: ``simulate`` after ``fit`` reuses the
fits. Results are immutable (:mod:`simcore.results`).

Example
-------
>>> import simcore
>>> project = simcore.Project.from_config("scenarios/demo/config.yaml")  # doctest: +SKIP
>>> run = project.simulate(replications=200, seed=7)                     # doctest: +SKIP
>>> run.segment_summary[["segment", "population", "ltv_mean", "status"]]   # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import hashlib
import json
import platform
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from simcore._version import __version__
from simcore.config import BASELINE, Config, config_hash, load_config, validate_config_data
from simcore.progress import Progress, Steps
from simcore.errors import ConfigError, FitError, Problem
from simcore.results import FitResult, RunResult, SegmentedBook, SegmentsResult, ValidationResult, run_tables
from simcore.yamlio import LocatedYaml

#: Name given to an in-memory table in messages and manifests.
IN_MEMORY = "<DataFrame>"



class Project:
    """A customer book and its configuration, with the steps a user runs.

    Build one with :meth:`from_config` (a YAML file) or :meth:`from_frame` (a pandas
    DataFrame already in memory). The steps — :meth:`segments`, :meth:`economics`,
    :meth:`validate`, :meth:`fit`, :meth:`simulate` — each run once and are cached;
    :meth:`accounts` and :meth:`plan_cs` value single accounts and plan customer success.

    Parameters
    ----------
    config
        A validated :class:`~simcore.config.Config`.
    customers, history
        In-memory tables standing in for ``data.customers`` / ``data.history`` (what
        :meth:`from_frame` passes); ``None`` reads the files or queries the config names.
    """

    def __init__(self, config: Config, *, customers: pd.DataFrame | None = None,
                 history: pd.DataFrame | None = None):
        self._config = config
        self._frames = (customers, history)
        self._cache: dict[str, Any] = {}

    # ------------------------------------------------------------------ building
    @classmethod
    def from_config(cls, path: str | Path) -> "Project":
        """A project from a YAML config file (and the files it includes)."""
        return cls(load_config(path))

    @classmethod
    def from_frame(cls, customers: pd.DataFrame, *, columns: Mapping[str, str], as_of=None,
                   history: pd.DataFrame | None = None, history_columns: Mapping[str, str] | None = None,
                   **settings: Any) -> "Project":
        """A project from a customer table in memory.

        Parameters
        ----------
        customers
            One row per customer, your own headers.
        columns
            Which header holds each field, as ``data.columns`` of a config: ``id``, and
            either ``signup`` (+ ``churn``) or ``tenure`` + ``churned``; optional ``mrr``,
            ``cac``, ``onboarding_cost``, ``support_cost_per_month``.
        as_of
            Valuation date (date shape), ``"YYYY-MM-DD"`` or a date.
        history, history_columns
            Optional MRR history table and its column map (``id``, ``month``, ``mrr``).
        **settings
            Any other top-level config section, as the YAML would give it: ``segments``
            (a list of columns or the full mapping), ``economics``, ``retention``,
            ``acquisition``, ``scenarios``, ``simulation``, ``horizon_months``,
            ``discount_rate_annual``, ``status``, ``name``.

        Raises
        ------
        ConfigError
            Every problem in the settings at once, by dotted path.
        """
        data = {"customers": IN_MEMORY, "columns": dict(columns)}
        if history is not None:
            data["history"] = {"path": IN_MEMORY, "columns": dict(history_columns or {})}
        config = _settings_config(data, as_of, settings, "<Project.from_frame>")
        return cls(config, customers=customers, history=history)

    @classmethod
    def from_file(cls, path: str | Path, *, columns: Mapping[str, str], as_of=None, delimiter: str | None = None,
                  **settings: Any) -> "Project":
        """A project from a customer file (CSV, Parquet, XLSX) without a config file:
        ``columns``, ``as_of`` and ``settings`` as in :meth:`from_frame`; relative paths
        are read from the current folder."""
        data = {"customers": str(path), "columns": dict(columns)}
        if delimiter is not None:
            data["delimiter"] = delimiter
        config = _settings_config(data, as_of, settings, str(path))
        return cls(config)

    @property
    def config(self) -> Config:
        return self._config

    def with_settings(self, **sections: Mapping[str, Any]) -> "Project":
        """A new project with fields of top-level sections replaced, e.g.
        ``with_settings(retention={"family": "weibull"})``; ``None`` values are ignored.
        Loaded data is reused."""
        from simcore.config import with_overrides

        config = with_overrides(self._config, **sections)
        if config is self._config:
            return self
        project = Project(config, customers=self._frames[0], history=self._frames[1])
        if config.data == self._config.data and config.segments == self._config.segments:
            project._cache["book"] = self._cache.get("book")
            project._cache = {k: v for k, v in project._cache.items() if v is not None}
        return project

    def with_book(self, book: SegmentedBook, config: Config | None = None) -> "Project":
        """This project's settings (or ``config``) over another loaded and segmented book,
        e.g. the book as it was known at a backtest's cutoff (:mod:`simcore.backtest`):
        every step runs on ``book`` instead of loading the data."""
        project = Project(self._config if config is None else config)
        project._cache["book"] = book
        return project

    def backtest(self, cutoffs: Sequence, *, replications: int | None = None, seed: int | None = None,
                 progress: Progress | None = None, on_compile: Callable[[], None] | None = None, executor=None):
        """Forecast-accuracy audit: refit and project from each cutoff, compare with what
        happened up to ``as_of`` (:func:`simcore.backtest.run_backtest`).

        Parameters
        ----------
        cutoffs
            Dates (``YYYY-MM-DD`` or ``YYYY-MM``), each taken as its month end.
        replications, seed
            Override ``simulation.replications`` / ``simulation.seed``.
        progress
            Called as ``progress(step, done, total)``.
        on_compile
            Called once before the simulation kernels compile (first run on a machine).
        executor
            Where the simulations run (default: the config's ``executor:`` section; see
            :mod:`simcore.executors`); never changes the results.

        Returns
        -------
        simcore.backtest.BacktestResult
        """
        from simcore.backtest import run_backtest

        return run_backtest(self, cutoffs, replications=replications, seed=seed, progress=progress,
                            on_compile=on_compile, executor=executor)

    def accounts(self, *, replications: int | None = None, seed: int | None = None,
                 on_compile: Callable[[], None] | None = None):
        """Every active account's expected profit (with its 90% interval), expected
        remaining lifetime and class — core, growth or cautionary — and, with a
        ``cs_plan``, its tier (:func:`simcore.cs.account_table`).

        Returns
        -------
        simcore.cs.AccountsResult
        """
        from simcore.cs import account_table

        return account_table(self, replications=replications, seed=seed, on_compile=on_compile)

    def plan_cs(self, *, replications: int | None = None, seed: int | None = None, budget: float | None = None,
                headcount: int | None = None, progress: Progress | None = None,
                on_compile: Callable[[], None] | None = None, executor=None):
        """Customer-success plan of the config's ``cs_plan``: tier assignments, CSMs needed
        by month and quarter (P50, P90), hiring, ROI, and the tier thresholds that maximise
        expected profit net of CS cost under a ``budget`` (per year) or ``headcount`` cap
        (:func:`simcore.cs.plan_cs`). ``executor``: where the covered accounts'
        simulations run (default: the config's ``executor:`` section); never changes
        the results.

        Returns
        -------
        simcore.cs.CSPlanResult
        """
        from simcore.cs import plan_cs

        return plan_cs(self, replications=replications, seed=seed, budget=budget, headcount=headcount,
                       progress=progress, on_compile=on_compile, executor=executor)

    def sensitivity(self, *, only: str | None = None, replications: int | None = None, seed: int | None = None,
                    executor=None, chunk_replications: int | None = None, progress: Progress | None = None,
                    on_compile: Callable[[], None] | None = None):
        """Tornado, grids, solves, Sobol' indices and stress tests of the config's
        ``sensitivity:`` section (:func:`simcore.sensitivity.run_sensitivity`); ``only``
        one of ``tornado``, ``grid``, ``solve``, ``sobol``, ``stress``.

        Returns
        -------
        simcore.sensitivity.SensitivityResult
        """
        from simcore.sensitivity import run_sensitivity

        return run_sensitivity(self, only=only, replications=replications, seed=seed, executor=executor,
                               chunk_replications=chunk_replications, progress=progress, on_compile=on_compile)

    # ------------------------------------------------------------------ steps
    def _cached(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def book(self) -> SegmentedBook:
        """The loaded, validated and segmented customer book."""
        return self._cached("book", self._load)

    def _load(self) -> SegmentedBook:
        from simcore.data import load_book
        from simcore.segments import SEGMENT_COLUMN, assign_segments

        config = self._config
        book = load_book(config.data, config.base_dir, customers_frame=self._frames[0],
                         history_frame=self._frames[1], locate=self._locate)
        assignment = assign_segments(book.customers, config.segments, source=book.source)
        book = replace(book, customers=book.customers.assign(**{SEGMENT_COLUMN: assignment.labels.to_numpy()}))
        return SegmentedBook(book, assignment.merged, tuple(book.warnings) + assignment.warnings)

    def _locate(self, field: str) -> dict:
        """The config file and line of a dotted field (for problems about whole files)."""
        return {"source": self._config.source, "line": self._config.line_of(*field.split("."))}

    def segments(self) -> SegmentsResult:
        """Per segment: customers, active, churned, churned share, median observed tenure
        and, with MRR, the MRR of active customers (total row last)."""
        from simcore.segments import segment_summary

        book = self.book()
        return SegmentsResult(segment_summary(book.customers), book, book.warnings)

    def economics(self):
        """Every economic input per segment with its origin
        (:class:`~simcore.economics.SegmentEconomics`)."""
        def compute():
            from simcore.data.load import relocate_file_problems
            from simcore.economics import resolve_economics
            from simcore.errors import DataError

            book, spec = self.book(), self._config.economics
            try:
                return resolve_economics(self._config, book.customers, book.segments, book.book.as_of,
                                         history=book.book.history)
            except DataError as error:  # a cost table that is missing or empty: say which config line
                tables = {table.path: f"economics.{name}.path" for name, table in
                          (("cac_from_spend", spec.cac_from_spend), ("support_cost_from", spec.support_cost_from))
                          if table is not None}
                raise relocate_file_problems(error, self._locate, tables) from None
        return self._cached("economics", compute)

    def revenue(self):
        """Revenue retention and dynamics per segment from the MRR history
        (:class:`~simcore.revenue.RevenueRetention`), or ``None`` without a history."""
        def compute():
            from simcore.revenue import revenue_retention

            book = self.book().book
            if book.history is None or not len(book.history):
                return None
            return revenue_retention(book.customers, book.history, shape=book.shape, as_of=book.as_of,
                                     position=book.history_customer)
        return self._cached("revenue", compute)

    def validate(self, scenarios: Sequence[str] | None = None) -> ValidationResult:
        """Check everything that can be checked without fitting: the book, segments,
        economics, and every scenario's names, segments and levers (all at once).

        Parameters
        ----------
        scenarios
            Scenario names the caller wants to run (default: all); unknown names are
            reported on the field ``scenarios``.
        """
        from simcore.scenarios import check_scenario_levers, check_scenario_segments
        from simcore.segments import segment_summary

        names = self._scenario_names(scenarios)
        book = self.book()
        check_scenario_segments(self._config, book.segments)
        economics = self.economics()
        revenue = self.revenue()
        check_scenario_levers(self._config, book.segments, economics.economics,
                              None if revenue is None else revenue.dynamics)
        if self._config.sensitivity is not None:
            from simcore.sensitivity.checks import check_sensitivity

            check_sensitivity(self._config, book.segments, economics.economics,
                              None if revenue is None else revenue.dynamics)
        self._preflight(names, self._config.simulation.replications)
        return ValidationResult(segment_summary(book.customers), book, economics, tuple(names),
                                book.warnings + tuple(economics.warnings))

    def _preflight(self, names: Sequence[str], replications: int) -> None:
        """Refuse segments with no churn event and runs too large to finish (see
        :mod:`simcore.preflight`), before any work."""
        from simcore.preflight import check_fittable, check_run_size, estimate_run

        config, customers = self._config, self.book().customers
        check_fittable(config, customers, saved_fits=config.retention.saved_fits is not None)
        check_run_size(config, estimate_run(config, customers, self.economics().acquisition_per_month, names,
                                            replications))

    def _scenario_names(self, scenarios: Sequence[str] | None) -> list[str]:
        known = [s.name for s in self._config.scenarios]
        names = list(known if scenarios is None else scenarios)
        problems = []
        for name in names:
            if name not in known and name != BASELINE:
                close = difflib.get_close_matches(name, known, n=1)
                problems.append(Problem(
                    f"no scenario named '{name}'",
                    f"did you mean '{close[0]}'?" if close else f"scenarios are: {', '.join(known) or 'none'}",
                    field="scenarios"))
        if problems:
            raise ConfigError(problems)
        return [n for n in dict.fromkeys(names) if n != BASELINE]

    def fit(self, *, saved_fits: str | Path | None = None) -> FitResult:
        """Retention per segment (every family ranked, or the configured one) and revenue
        retention from the MRR history.

        Parameters
        ----------
        saved_fits
            A ``saved_fits.json`` written by an earlier fit or run (default:
            ``retention.saved_fits``); reused after checking it was made from the same
            data with the same settings.
        """
        if saved_fits is None and self._config.retention.saved_fits is not None:
            saved_fits = self._config.resolve(self._config.retention.saved_fits)
        return self._cached(f"fit:{saved_fits}", lambda: self._fit(saved_fits))

    def _fit(self, saved_fits) -> FitResult:
        from simcore.preflight import check_fittable

        book = self.book()
        if saved_fits is None:
            check_fittable(self._config, book.customers)
        metadata = self._fit_metadata()
        from simcore.periods import monthly_fits

        fits = _reuse_fits(saved_fits, metadata) if saved_fits is not None else self._fit_segments()
        fits = monthly_fits(fits, book.book.period)
        return FitResult(fits, self.revenue(), metadata, book.warnings + tuple(fits.warnings),
                         horizon_months=self._config.horizon_months)

    def _fit_metadata(self) -> dict:
        config = self._config
        settings = {"segments": config.segments.model_dump(mode="json"),
                    "retention": config.retention.model_dump(mode="json", exclude={"saved_fits"})}
        if config.data.period != "month":  # a monthly book keeps the hash it always had
            settings["period"] = config.data.period
        return {
            "simcore_version": __version__,
            "data_sha256": self.book().book.data_hash,
            "settings_sha256": hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest(),
            "segments": self.book().segments,
        }

    def _fit_segments(self):
        from simcore.book_fits import fit_book_segments

        return fit_book_segments(self._config, self.book())

    def simulate(self, scenarios: Sequence[str] | None = None, *, replications: int | None = None,
                 seed: int | None = None, saved_fits: str | Path | None = None,
                 progress: Progress | None = None, on_compile: Callable[[], None] | None = None,
                 executor=None, chunk_replications: int | None = None) -> RunResult:
        """Fit (once), then simulate the baseline and every scenario with common random
        numbers.

        Parameters
        ----------
        scenarios
            Scenario names to run (default: all); the baseline always runs.
        replications, seed
            Override ``simulation.replications`` / ``simulation.seed``.
        saved_fits
            Reuse saved fits (see :meth:`fit`).
        progress
            Called as ``progress(step, done, total)`` as the steps advance.
        on_compile
            Called once before the simulation kernels compile (first run on a machine).
        executor, chunk_replications
            Where the scenarios' work units run (default: as the config's ``executor:``
            section says, here unless it names a Dask cluster; see
            :mod:`simcore.executors`) and how many replications each holds (default:
            ``executor.chunk_replications``); neither changes the results.
        """
        from simcore.economics.status import StatusRule
        from simcore.engine import warm_up
        from simcore.engine.compile import compile_book
        from simcore.executors import (chunk_replications_of, describe, executor_for, simulate_books, summaries,
                                       work_units)
        from simcore.scenarios import scenario_levers

        config = self._config
        chunk_replications = chunk_replications_of(config, chunk_replications)
        seed = config.simulation.seed if seed is None else seed
        replications = config.simulation.replications if replications is None else replications
        names = self._scenario_names(scenarios)
        steps = Steps(progress, total=4 + len(names))
        timings: dict[str, float] = {}
        started = time.perf_counter()
        book = self.book()
        timings["load_s"] = time.perf_counter() - started
        steps.advance("loaded customers")
        validation = self.validate(names)
        if replications != config.simulation.replications:
            self._preflight(names, replications)
        steps.advance("checked economics and scenarios")
        mark = time.perf_counter()
        fit = self.fit(saved_fits=saved_fits)
        timings["fit_s"] = time.perf_counter() - mark
        steps.advance("reused saved fits" if (saved_fits or config.retention.saved_fits) else "fitted retention")

        economics = validation.economics
        rule = StatusRule(loss_probability_above=config.status.marginal_loss_probability)
        warm_up(on_compile=on_compile)
        # What the engine draws survival curves from: the chosen fit, or the mixture of the
        # weighted families when model averaging is on, with the configured uncertainty.
        fits = {name: result.survival_model() for name, result in fit.fits.results.items()}
        mark = time.perf_counter()
        runs = [BASELINE, *names]
        books = [compile_book(fits, book.customers, economics.economics, dynamics=fit.dynamics,
                              levers=scenario_levers(config, name, book.segments, economics),
                              replications=int(replications), seed=int(seed),
                              horizon_months=config.horizon_months, as_of=book.book.as_of, draw_method=None)
                 for name in runs]
        units = work_units([b.replications for b in books], chunk_replications)
        last_unit = {unit.book: i + 1 for i, unit in enumerate(units)}

        def unit_done(done: int, total: int) -> None:
            # Work units run scenario by scenario; a scenario is done with its last unit.
            for index, last in last_unit.items():
                if done == last:
                    steps.advance(f"simulated {runs[index]}")

        with executor_for(config, executor) as used:
            accumulators = simulate_books(books, executor=used, chunk_replications=chunk_replications,
                                          progress=unit_done)
            where = describe(used)
        results = summaries(books, accumulators, thresholds=rule,
                            acquisition_cost_given=economics.acquisition_cost_given)
        simulations = dict(zip(runs, results))
        timings["simulate_s"] = time.perf_counter() - mark

        manifest = {
            "simcore_version": __version__,
            "name": config.name,
            "config_file": config.source,
            "config_sha256": config_hash(config),
            "data_sha256": book.book.data_hash,
            "as_of": None if book.book.as_of is None else pd.Timestamp(book.book.as_of).date().isoformat(),
            "seed": int(seed),
            "replications": int(replications),
            "horizon_months": config.horizon_months,
            "scenarios": [BASELINE, *names],
            "segments": book.segments,
            "customers": int(len(book.customers)),
            "timings_s": {k: round(v, 3) for k, v in timings.items()},
            "executor": where,
            "python": platform.python_version(),
        }
        if saved_fits is not None or config.retention.saved_fits is not None:
            manifest["saved_fits"] = str(saved_fits or config.retention.saved_fits)
        warnings = tuple(fit.warnings) + tuple(economics.warnings)
        return RunResult(config, (BASELINE, *names), run_tables(fit, economics, simulations, BASELINE),
                         manifest, warnings, fit, simulations)


# ---------------------------------------------------------------------- helpers


def _settings_config(data: dict, as_of, settings: dict, source: str) -> Config:
    """A validated config from Python values laid out as the YAML would be (``data`` is
    the ``data:`` section; ``settings`` the other top-level sections)."""
    settings = dict(settings)
    if as_of is not None:
        data = {**data, "as_of": as_of if isinstance(as_of, str) else str(pd.Timestamp(as_of).date())}
    segments = settings.pop("segments", None)
    if isinstance(segments, (list, tuple, str)):
        segments = {"by": [segments] if isinstance(segments, str) else list(segments)}
    document = {"data": data, **({"segments": segments} if segments is not None else {}), **settings}
    return validate_config_data(LocatedYaml(document, {}, source), Path("."))



def _reuse_fits(path, expected: dict):
    """Load saved fits and check they were made from this data with these settings."""
    from simcore.retention import load_fits

    fits, metadata = load_fits(path)
    problems = []
    hint = "refit (drop the saved fit), or point to the fit made from this data and these settings"
    if metadata.get("data_sha256") != expected["data_sha256"]:
        problems.append(Problem("the saved fit was made from different customer data", hint, source=str(path)))
    if metadata.get("segments") != expected["segments"] or set(fits.results) != set(expected["segments"]):
        problems.append(Problem(
            f"the saved fit has segments {metadata.get('segments')}, the data {expected['segments']}", hint,
            source=str(path)))
    if metadata.get("settings_sha256") != expected["settings_sha256"]:
        problems.append(Problem("the saved fit was made with other segments or retention settings", hint,
                                source=str(path)))
    if problems:
        raise FitError(problems)
    return fits
