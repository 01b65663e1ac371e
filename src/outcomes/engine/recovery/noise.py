"""The random draws of the recovery simulation, made before any pathway is looked at.

Common random numbers: every draw follows from ``(seed, row position)`` alone, so simulating
the same patients under two policies differs only where the care differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from outcomes.engine.cohort import BLOCK_SIZE
from outcomes.engine.recovery.params import RecoveryParams, load_recovery

#: First element of the random streams' spawn key: keeps them apart from the generator's.
STREAM = 0x5EC0


@dataclass(frozen=True)
class Noise:
    """Every random draw the simulation needs; none depends on the pathway.

    Arrays are per patient (``n``), per patient and part (``class_u``: ``n x 2``, the
    condition then the secondary contributor) or per patient and follow-up week (``n x
    weeks``, weeks 1..W). Build it with :func:`draw_noise`.

    Parameters
    ----------
    adherence, rate_z, dropout_u, class_u, surgery_u, wait_u, relapse_u, relapse_length_u, \
detection_u, deficit_u, pain_z, odi_z, flare_u
        The draws, named for what they decide (``_u``: uniform, ``_z``: standard normal).

    Examples
    --------
    >>> noise = draw_noise(3, seed=0)
    >>> noise.class_u.shape, noise.take(np.array([2])).pain_z.shape
    ((3, 2), (1, 52))
    """

    adherence: np.ndarray
    rate_z: np.ndarray
    dropout_u: np.ndarray
    class_u: np.ndarray
    surgery_u: np.ndarray
    wait_u: np.ndarray
    relapse_u: np.ndarray
    relapse_length_u: np.ndarray
    detection_u: np.ndarray
    deficit_u: np.ndarray
    pain_z: np.ndarray
    odi_z: np.ndarray
    flare_u: np.ndarray

    def take(self, rows: np.ndarray) -> Noise:
        """The draws of some patients only, as a new :class:`Noise`.

        Parameters
        ----------
        rows : numpy.ndarray
            The patients' row positions (or a boolean mask over the rows).

        Returns
        -------
        Noise
            Every draw of those rows, in their order.

        Examples
        --------
        >>> noise = draw_noise(4, seed=0)
        >>> bool((noise.take(np.array([3, 1])).rate_z == noise.rate_z[[3, 1]]).all())
        True
        """
        return Noise(**{name: getattr(self, name)[rows] for name in Noise.__dataclass_fields__})


_PER_PATIENT = (
    "dropout_u",
    "surgery_u",
    "wait_u",
    "relapse_u",
    "relapse_length_u",
    "detection_u",
    "deficit_u",
)


def draw_noise(n: int, seed: int, params: RecoveryParams | None = None) -> Noise:
    """Draw the random numbers for ``n`` patients (row positions 0..n-1) and ``seed``.

    Patients are drawn in blocks of :data:`outcomes.engine.cohort.BLOCK_SIZE`, each from its own
    stream, so row ``i`` gets the same draws whatever ``n``. The draws belong to the row
    position, not to a ``patient_id``: the patient in row ``i`` gets row ``i``'s draws, so a
    reordered or filtered patients table gives its patients other draws (simulate every policy
    on the same table, in the same order). Only the adherence draw and the number of weeks
    depend on the parameters.

    Parameters
    ----------
    n
        Number of patients (rows).
    seed
        Seed (an integer >= 0).
    params
        Recovery parameters (default: :func:`load_recovery`).

    Returns
    -------
    Noise

    Examples
    --------
    >>> a, b = draw_noise(10, seed=3), draw_noise(20_000, seed=3)
    >>> bool(np.array_equal(a.pain_z, b.pain_z[:10]))
    True
    """
    params = params if params is not None else load_recovery()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    weeks = params.follow_up_weeks
    mods = params.modifiers
    parts: dict[str, list[np.ndarray]] = {f: [] for f in Noise.__dataclass_fields__}
    for block in range(-(-n // BLOCK_SIZE)):
        rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(STREAM, block)))
        m = min(BLOCK_SIZE, n - block * BLOCK_SIZE)
        # Always draw a full block, then keep the first m rows: patient i's draws never
        # depend on n.
        draws: dict[str, np.ndarray] = {
            "adherence": rng.beta(mods["adherence_beta_a"], mods["adherence_beta_b"], BLOCK_SIZE),
            "rate_z": rng.standard_normal(BLOCK_SIZE),
            "class_u": rng.random((BLOCK_SIZE, 2)),
            **{name: rng.random(BLOCK_SIZE) for name in _PER_PATIENT},
            "pain_z": rng.standard_normal((BLOCK_SIZE, weeks), dtype=np.float32),
            "odi_z": rng.standard_normal((BLOCK_SIZE, weeks), dtype=np.float32),
            "flare_u": rng.random((BLOCK_SIZE, weeks), dtype=np.float32),
        }
        for name, values in draws.items():
            parts[name].append(values[:m])
    if n == 0:
        return Noise(
            **{
                name: np.empty((0, weeks), np.float32)
                if name in ("pain_z", "odi_z", "flare_u")
                else np.empty((0, 2))
                if name == "class_u"
                else np.empty(0)
                for name in Noise.__dataclass_fields__
            }
        )
    return Noise(**{name: np.concatenate(chunks) for name, chunks in parts.items()})
