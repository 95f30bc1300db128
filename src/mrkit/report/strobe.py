# ruff: noqa: E501  (the checklist's wording, one item per line)
"""The STROBE-MR checklist (Skrivankova et al., BMJ 2021;375:n2233, table 3), filled from a run.

Items, numbering and wording are the checklist's own (BMJ 2021;375:n2233,
doi:10.1136/bmj.n2233, table 3; published under CC BY 4.0; also JAMA
2021;326(16):1614-1621). One row per item and lettered sub-item; item 10d's
two parts are rows ``10d i`` and ``10d ii``. :func:`checklist` answers each row
from the run with a link to the report section that holds the answer, or marks
it for the authors to complete (with what the study file did not provide).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import escape

CITATION = (
    "Skrivankova VW, Richmond RC, Woolf BAR, et al. Strengthening the reporting of "
    "observational studies in epidemiology using mendelian randomisation (STROBE-MR): "
    "explanation and elaboration. BMJ 2021;375:n2233. doi:10.1136/bmj.n2233 (CC BY 4.0)"
)

#: ``(number, section, checklist item)`` in the checklist's order.
ITEMS: tuple[tuple[str, str, str], ...] = (
    ("1", "Title and abstract", "Indicate mendelian randomisation (MR) as the study’s design in the title and/or the abstract if that is a main purpose of the study"),
    ("2", "Introduction: Background", "Explain the scientific background and rationale for the reported study. What is the exposure? Is a potential causal association between exposure and outcome plausible? Justify why MR is a helpful method to address the study question"),
    ("3", "Introduction: Objectives", "State specific objectives clearly, including prespecified causal hypotheses (if any). State that MR is a method that, under specific assumptions, intends to estimate causal effects"),
    ("4", "Methods: Study design and data sources", "Present key elements of the study design early in the article. Consider including a table listing sources of data for all phases of the study. For each data source contributing to the analysis, describe the following:"),
    ("4a", "Methods: Study design and data sources", "Setting: Describe the study design and the underlying population, if possible. Describe the setting, locations, and relevant dates, including periods of recruitment, exposure, follow-up, and data collection, when available."),
    ("4b", "Methods: Study design and data sources", "Participants: Give the eligibility criteria, and the sources and methods of selection of participants. Report the sample size, and whether any power or sample size calculations were carried out prior to the main analysis"),
    ("4c", "Methods: Study design and data sources", "Describe measurement, quality control, and selection of genetic variants"),
    ("4d", "Methods: Study design and data sources", "For each exposure, outcome, and other relevant variables, describe methods of assessment and diagnostic criteria for diseases"),
    ("4e", "Methods: Study design and data sources", "Provide details of ethics committee approval and participant informed consent, if relevant"),
    ("5", "Methods: Assumptions", "Explicitly state the three core instrumental variable assumptions for the main analysis (relevance, independence, and exclusion restriction), as well assumptions for any additional or sensitivity analysis"),
    ("6", "Methods: Statistical methods: main analysis", "Describe statistical methods and statistics used"),
    ("6a", "Methods: Statistical methods: main analysis", "Describe how quantitative variables were handled in the analyses (that is, scale, units, model)"),
    ("6b", "Methods: Statistical methods: main analysis", "Describe how genetic variants were handled in the analyses and, if applicable, how their weights were selected"),
    ("6c", "Methods: Statistical methods: main analysis", "Describe the MR estimator (eg, two stage least squares, Wald ratio) and related statistics. Detail the included covariates and, in the case of two sample MR, whether the same covariate set was used for adjustment in the two samples"),
    ("6d", "Methods: Statistical methods: main analysis", "Explain how missing data were addressed"),
    ("6e", "Methods: Statistical methods: main analysis", "If applicable, indicate how multiple testing was addressed"),
    ("7", "Methods: Assessment of assumptions", "Describe any methods or prior knowledge used to assess the assumptions or justify their validity"),
    ("8", "Methods: Sensitivity analyses and additional analyses", "Describe any sensitivity analyses or additional analyses performed (eg, comparison of effect estimates from different approaches, independent replication, bias analytic techniques, validation of instruments, simulations)"),
    ("9a", "Methods: Software and pre-registration", "Name statistical software and package(s), including version and settings used"),
    ("9b", "Methods: Software and pre-registration", "State whether the study protocol and details were pre-registered (as well as when and where)"),
    ("10a", "Results: Descriptive data", "Report the numbers of individuals at each stage of included studies and reasons for exclusion. Consider use of a flow diagram"),
    ("10b", "Results: Descriptive data", "Report summary statistics for phenotypic exposure(s), outcome(s), and other relevant variables (eg, means, SDs, proportions)"),
    ("10c", "Results: Descriptive data", "If the data sources include meta-analyses of previous studies, provide the assessments of heterogeneity across these studies"),
    ("10d i", "Results: Descriptive data", "For two sample MR: i. Provide justification of the similarity of the genetic variant-exposure associations between the exposure and outcome samples"),
    ("10d ii", "Results: Descriptive data", "For two sample MR: ii. Provide information on the number of individuals who overlap between the exposure and outcome studies"),
    ("11a", "Results: Main results", "Report the associations between genetic variant and exposure, and between genetic variant and outcome, preferably on an interpretable scale"),
    ("11b", "Results: Main results", "Report MR estimates of the association between exposure and outcome, and the measures of uncertainty from the MR analysis, on an interpretable scale, such as odds ratio or relative risk per SD difference"),
    ("11c", "Results: Main results", "If relevant, consider translating estimates of relative risk into absolute risk for a meaningful time period"),
    ("11d", "Results: Main results", "Consider plots to visualise results (eg, forest plot, scatterplot of associations between genetic variants and outcome v between genetic variants and exposure)"),
    ("12a", "Results: Assessment of assumptions", "Report the assessment of the validity of the assumptions"),
    ("12b", "Results: Assessment of assumptions", "Report any additional statistics (eg, assessments of heterogeneity across genetic variants, such as I², Q statistic, or E value)"),
    ("13a", "Results: Sensitivity analyses and additional analyses", "Report any sensitivity analyses to assess the robustness of the main results to violations of the assumptions"),
    ("13b", "Results: Sensitivity analyses and additional analyses", "Report results from other sensitivity analyses or additional analyses"),
    ("13c", "Results: Sensitivity analyses and additional analyses", "Report any assessment of direction of causal association (eg, bidirectional MR)"),
    ("13d", "Results: Sensitivity analyses and additional analyses", "When relevant, report and compare with estimates from non-MR analyses"),
    ("13e", "Results: Sensitivity analyses and additional analyses", "Consider additional plots to visualise results (eg, leave-one-out analyses)"),
    ("14", "Discussion: Key results", "Summarise key results with reference to study objectives"),
    ("15", "Discussion: Limitations", "Discuss limitations of the study, taking into account the validity of the instrumental variable assumptions, other sources of potential bias, and imprecision. Discuss both direction and magnitude of any potential bias and any efforts to address them"),
    ("16a", "Discussion: Interpretation", "Meaning: Give a cautious overall interpretation of results in the context of their limitations and in comparison with other studies"),
    ("16b", "Discussion: Interpretation", "Mechanism: Discuss underlying biological mechanisms that could drive a potential causal association between the investigated exposure and the outcome, and whether the gene-environment equivalence assumption is reasonable. Use causal language carefully, clarifying that instrumental variable estimates may provide causal effects only under certain assumptions"),
    ("16c", "Discussion: Interpretation", "Clinical relevance: Discuss whether the results have clinical or public policy relevance, and to what extent they inform effect sizes of possible interventions"),
    ("17", "Discussion: Generalisability", "Discuss the generalisability of the study results (a) to other populations, (b) across other exposure periods/timings, and (c) across other levels of exposure"),
    ("18", "Other information: Funding", "Describe sources of funding and the role of funders in the present study and, if applicable, sources of funding for the databases and original study or studies on which the present study is based"),
    ("19", "Other information: Data and data sharing", "Provide the data used to perform all analyses or report where and how the data can be accessed, and reference these sources in the article. Provide the statistical code needed to reproduce the results in the article, or report whether the code is publicly accessible and if so, where"),
    ("20", "Other information: Conflicts of interest", "All authors should declare all potential conflicts of interest"),
)  # fmt: skip

AUTHORS = "for the authors to complete"


@dataclass(frozen=True)
class Row:
    """One checklist row: ``status`` is ``"run"`` (answered from the run), ``"partly"`` or
    ``"authors"``; ``link`` is the anchor of the report section holding the answer."""

    number: str
    section: str
    item: str
    status: str
    answer: str
    link: str | None = None

    @property
    def anchor(self) -> str:
        return "strobe-" + self.number.replace(" ", "-")


_FIELDS = ("population", "overlap", "preregistration", "funding", "data_availability")


@dataclass(frozen=True)
class _Escaped:
    """The study's free-text fields, HTML-escaped (answers are rendered as HTML)."""

    population: Any
    overlap: Any
    preregistration: Any
    funding: Any
    data_availability: Any


def _missing_field(key: str) -> str:
    return f"not provided: <code>[study] {key}</code> in the study file"


def checklist(facts: dict[str, Any]) -> list[Row]:
    """Every row of :data:`ITEMS`, answered from ``facts`` (built by the report).

    ``facts`` keys: ``study`` (the validated study), ``methods`` (labels),
    ``sensitivity``, ``n_pairs``, ``bidirectional``, ``correction`` (text),
    ``versions`` (text), ``has_loo``, ``has_presso``, ``has_steiger``.
    """
    st = facts["study"].study
    s = _Escaped(**{k: escape(v) if isinstance(v := getattr(st, k), str) else v for k in _FIELDS})
    facts = {**facts, "overlap": escape(facts.get("overlap") or "")}
    answers: dict[str, tuple[str, str, str | None]] = {
        "4": ("run", "Data sources: trait, units, sample size, cases and controls, ancestry, genome build, file and SHA-256 of every GWAS.", "sources"),
        "4a": (
            ("partly", f"Population: {s.population}. Setting, locations and dates: {AUTHORS}.", "sources")
            if s.population
            else ("authors", f"{AUTHORS}; population {_missing_field('population')}.", "sources")
        ),
        "4b": ("partly", f"Sample sizes (N, cases, controls) per GWAS in Data sources; power and minimum detectable effects computed after the analysis (Power). Eligibility and selection of participants: {AUTHORS}.", "power"),
        "4c": ("run", facts["selection"], "methods"),
        "4d": ("partly", f"Traits and units are listed under Data sources; methods of assessment and diagnostic criteria: {AUTHORS}.", "sources"),
        "6": ("run", "Methods: estimators, diagnostics and sensitivity analyses as run.", "methods"),
        "6a": ("run", facts["scale"], "methods"),
        "6b": ("run", facts["variants"], "methods"),
        "6c": ("partly", f"Estimators: {facts['methods']} (Wald ratio for single-variant pairs). Covariates of the GWAS: {AUTHORS}.", "methods"),
        "6d": ("run", "Instruments missing from the outcome GWAS were replaced by LD proxies where enabled, otherwise dropped; every variant's fate is in the SNP flow and per-instrument table of each pair.", "pairs"),
        "6e": ("run", facts["correction"], "multiple-testing"),
        "7": ("run", "Relevance: F statistics, R² and I²GX; exclusion restriction: MR-Egger intercept, Cochran's Q and Rücker's Q′" + (", MR-PRESSO global and outlier tests" if facts["has_presso"] else "") + (", Steiger directionality" if facts["has_steiger"] else "") + f". Independence and prior knowledge: {AUTHORS}.", "pairs"),
        "8": ("run", f"Sensitivity analyses: {facts['sensitivity']}; other estimators: {facts['methods']}.", "methods"),
        "9a": ("run", facts["versions"], "software"),
        "9b": (
            ("run", f"Pre-registration: {s.preregistration}.", "study-info")
            if s.preregistration
            else ("authors", f"{AUTHORS}; {_missing_field('preregistration')}.", "study-info")
        ),
        "10a": ("partly", f"Variants at each stage and the reason for each exclusion: SNP flow and per-instrument table of each pair. Numbers of individuals: N, cases and controls per GWAS (Data sources); stages of the original studies: {AUTHORS}.", "pairs"),
        "10d i": ("authors", f"{AUTHORS}" + (f" (population: {s.population})" if s.population else f"; population {_missing_field('population')}") + ".", "sources"),
        "10d ii": (
            ("run", f"Overlap of participants: {facts['overlap']}.", "study-info")
            if s.overlap is not None
            else ("authors", f"{AUTHORS}; {_missing_field('overlap')}.", "study-info")
        ),
        "11a": ("run", "Per-instrument table of each pair: alleles, EAF, β, SE and p for the exposure and the outcome, F and R².", "pairs"),
        "11b": ("run", "Estimates with 95% confidence intervals (odds ratios for binary outcomes) per pair and method.", "summary"),
        "11d": ("run", "Scatter, single-SNP forest, funnel and radial plots per pair; summary forest per direction.", "pairs"),
        "12a": ("partly", f"Diagnostics per pair (instrument strength, heterogeneity, pleiotropy, direction); their interpretation: {AUTHORS}.", "pairs"),
        "12b": ("run", "Cochran's Q and Rücker's Q′ with p-values, I²GX and the IVW model per pair.", "pairs"),
        "13a": ("run", f"Estimates of {facts['methods']} per pair.", "pairs"),
        "13b": ("run", f"{facts['sensitivity']}.", "pairs"),
        "13c": ("run", ("Bidirectional MR (reverse direction analysed)" if facts["bidirectional"] else "One direction analysed") + ("; Steiger directionality test per pair" if facts["has_steiger"] else "") + ".", "pairs"),
        "13e": (
            ("run", "Leave-one-out plots and single-SNP forests per pair.", "pairs")
            if facts["has_loo"]
            else ("authors", f"{AUTHORS}; leave-one-out not in <code>analysis.sensitivity</code>.", None)
        ),
        "18": (
            ("run", f"Funding: {s.funding}.", "study-info")
            if s.funding
            else ("authors", f"{AUTHORS}; {_missing_field('funding')}.", "study-info")
        ),
        "19": (
            ("partly", f"Data: {s.data_availability}. The study file, data checksums and every parameter are in manifest.json; tables in supplement/.", "study-info")
            if s.data_availability
            else ("partly", f"Data sources and checksums are listed; the study file and every parameter are in manifest.json. Where the data can be accessed: {_missing_field('data_availability')}.", "study-info")
        ),
    }  # fmt: skip
    rows = []
    for number, section, item in ITEMS:
        status, answer, link = answers.get(number, ("authors", AUTHORS, None))
        rows.append(Row(number, section, item, status, answer, link))
    return rows


__all__ = ["AUTHORS", "CITATION", "ITEMS", "Row", "checklist"]
