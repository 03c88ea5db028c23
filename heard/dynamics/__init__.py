"""Dynamics: the loop within conversations (turns, sequential tests, the Gottman–Murray model,
what-if simulation) and the long arc over months (crises, promises, relapse, trends).

Part of the turn-level API is re-exported from modules written alongside this one; see each
module's docstring.
"""

from heard.dynamics._aggregate import LONG_ARC_FAMILIES, DynamicsResult, fit_dynamics
from heard.dynamics._gm_core import (
    MODEL_NAMES,
    FixedPoint,
    Influence,
    PersonFit,
    fit_person,
    fixed_points,
)
from heard.dynamics._gm_original import OriginalResult, fit_original
from heard.dynamics._gottman import (
    GMAnalysis,
    GMResult,
    GMWindow,
    GottmanMurray,
    code_weights,
    fit_gottman_murray,
    score_turn,
)
from heard.dynamics._longarc import HYPOTHESES, LongArcModel, LongArcResult
from heard.dynamics._nbglm import NBFit, TrendResult, fit_nb, trend_test
from heard.dynamics._sequential import (
    SequentialResult,
    SequentialTable,
    SequentialTest,
    sequential_analysis,
    sequential_classes,
    yules_q,
)
from heard.dynamics._series import Event, WeeklySeries, build_series, find_events
from heard.dynamics._simulate import (
    HARD_END_ROUNDS,
    AddRepair,
    Basins,
    LastingChange,
    ShiftSetPoint,
    SimulationResult,
    SmallestChange,
    SoftenResponse,
    basins,
    simulate,
    simulate_months,
    smallest_change,
)
from heard.dynamics._synth import LOOP, CoupleParams, generate_couple
from heard.dynamics._turns import Turn, build_turns, partners, turns_by_conversation
from heard.dynamics._whatif import (
    KNOBS,
    Suggestion,
    WhatIfResult,
    describe_change,
    knob_help,
    suggest_changes,
    typical_opening,
    what_if_model,
)

__all__ = [
    "HARD_END_ROUNDS",
    "HYPOTHESES",
    "KNOBS",
    "LONG_ARC_FAMILIES",
    "LOOP",
    "MODEL_NAMES",
    "AddRepair",
    "Basins",
    "CoupleParams",
    "DynamicsResult",
    "Event",
    "FixedPoint",
    "GMAnalysis",
    "GMResult",
    "GMWindow",
    "GottmanMurray",
    "Influence",
    "LastingChange",
    "LongArcModel",
    "LongArcResult",
    "NBFit",
    "OriginalResult",
    "PersonFit",
    "SequentialResult",
    "SequentialTable",
    "SequentialTest",
    "ShiftSetPoint",
    "SimulationResult",
    "SmallestChange",
    "SoftenResponse",
    "Suggestion",
    "TrendResult",
    "Turn",
    "WeeklySeries",
    "WhatIfResult",
    "basins",
    "build_series",
    "build_turns",
    "code_weights",
    "describe_change",
    "find_events",
    "fit_dynamics",
    "fit_gottman_murray",
    "fit_nb",
    "fit_original",
    "fit_person",
    "fixed_points",
    "generate_couple",
    "knob_help",
    "partners",
    "score_turn",
    "sequential_analysis",
    "sequential_classes",
    "simulate",
    "simulate_months",
    "smallest_change",
    "suggest_changes",
    "trend_test",
    "turns_by_conversation",
    "typical_opening",
    "what_if_model",
    "yules_q",
]
