"""The knowledge base loads, is complete, and rejects invalid files with a precise message."""

from __future__ import annotations

import importlib.util
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from outcomes._dev.paraphrase import copied_phrases, fingerprints, shingles
from outcomes.knowledge import KNOWLEDGE_DIR, KnowledgeError, load_knowledge, provenance

REQUIRED_CONDITIONS = {
    "disc_herniation",
    "spinal_stenosis",
    "piriformis_syndrome",
    "hamstring_tightness",
    "upper_limb_nerve",
    "serious_pathology",
}
REQUIRED_FINDINGS = {
    "pain_below_knee", "agg_cough_sneeze", "agg_sitting", "agg_bending_forward", "agg_stairs",
    "agg_crossing_legs", "agg_lying_on_side", "agg_hip_rotation", "agg_walking_standing",
    "exam_straight_leg_raise", "exam_fair_test", "exam_weakness", "exam_reflex_change",
    "exam_sensory_loss", "exam_foot_drop", "exam_hamstring_tightness",
    "exam_anterior_pelvic_tilt", "exam_posterior_pelvic_tilt", "exam_glute_inhibition",
    "exam_hip_shift", "rf_bowel_bladder", "rf_saddle_numbness", "rf_progressive_weakness",
    "rf_history_of_fracture", "rf_unexplained_weight_change",
}  # fmt: skip


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the packaged knowledge base."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


def edit(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_packaged_knowledge_covers_the_clinical_picture():
    kb = load_knowledge()
    assert REQUIRED_CONDITIONS <= set(kb.condition_names)
    assert REQUIRED_FINDINGS <= set(kb.finding_names)
    assert {"primary_care", "spine_clinic", "sports_clinic"} <= set(kb.setting_names)
    assert {"runner", "cyclist", "desk_based"} <= set(kb.occupations)
    assert kb.pathway_of()["piriformis_syndrome"] == "hip"
    assert kb.pathway_of()["serious_pathology"] == "emergency"


def test_every_setting_case_mix_sums_to_one_and_missingness_covers_exam_findings():
    kb = load_knowledge()
    missable = {f.name for f in kb.findings if f.can_be_missing}
    for setting in kb.settings.values():
        assert sum(setting.case_mix.values()) == pytest.approx(1.0, abs=1e-12)
        assert set(setting.missing) == missable


def test_every_number_has_a_valid_source():
    table = load_knowledge().provenance()
    assert len(table) > 600
    pattern = re.compile(r"^(seed:\d{3} §.+|study:[a-z0-9]+|assumption.*)$")
    bad = table[~table["source"].str.match(pattern)]
    assert bad.empty, bad.head()
    # A value fitted to a published figure cites that study and says how it was derived.
    calibrated = table[table["calibrated"] != ""]
    assert len(calibrated) >= 10
    assert calibrated["source"].str.match(r"^study:[a-z0-9]+$").all()
    # The seeds and the literature are both used, not only assumptions: cited directly, or as
    # what informed an assumption when the study does not report the number itself.
    assert table["source"].str.startswith("seed:").sum() > 50
    assert table["source"].str.startswith("study:").sum() >= 3
    assert table["source"].str.contains("study:").sum() > 20


FINGERPRINTS = Path(__file__).parent / "data" / "seed_fingerprints.txt"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def _seed_fingerprints() -> set[str]:
    lines = FINGERPRINTS.read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def _project_prose() -> list[Path]:
    root = Path(__file__).resolve().parents[1]
    return [
        *KNOWLEDGE_DIR.glob("*.toml"),
        *(root / "notebooks").glob("*.ipynb"),
        *root.glob("*.md"),
        *(root / "data" / "synthetic").glob("*.md"),
    ]


def test_project_text_paraphrases_rather_than_copies_the_seed_texts():
    known = _seed_fingerprints()
    assert len(known) > 3000  # the fingerprints of all four seed texts are there
    files = _project_prose()
    assert any(f.suffix == ".toml" for f in files) and any(f.suffix == ".ipynb" for f in files)
    for path in files:
        copied = copied_phrases(path.read_text(encoding="utf-8"), known)
        assert not copied, f"{path.name} copies a seed text: {copied[0]!r}"


def test_the_check_catches_a_copied_sentence():
    # Proof the check is alive: a run of words taken from a seed text is flagged.
    if SEEDS.is_dir():  # where the seeds are present, also prove the stored file is current
        tool = Path(__file__).resolve().parents[1] / "tools" / "seed_fingerprints.py"
        spec = importlib.util.spec_from_file_location("seed_fingerprints", tool)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert FINGERPRINTS.read_text(encoding="utf-8") == module.render(SEEDS)
        seed = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
        sample = " ".join(shingles(seed)[40].split())
        assert copied_phrases(f'note = "{sample}"', _seed_fingerprints())
    known = fingerprints(["alpha beta gamma delta epsilon zeta eta theta iota kappa lambda"])
    assert copied_phrases("x: Alpha, beta gamma delta epsilon zeta eta theta iota kappa.", known)
    assert not copied_phrases('source = "seed:001 §Alpha Beta Gamma Delta Epsilon Zeta Eta '
                              'Theta Iota Kappa"', known)  # fmt: skip


SECTIONS = Path(__file__).parent / "data" / "seed_sections.txt"
#: Files whose numbers feed the generator, the oracle and the published targets: a number in
#: them cited to a seed section needs text under that heading (a bare heading cannot give it).
GENERATOR_FILES = ("findings", "conditions", "likelihoods", "settings", "targets")
_SEED_REFERENCE = re.compile(r"seed:(\d{3}) §")
_STUDY_REFERENCE = re.compile(r"study:([a-z0-9]+)")


def _seed_sections() -> dict[tuple[str, str], int]:
    """(seed number, heading) -> words of text under it, from tests/data/seed_sections.txt."""
    lines = SECTIONS.read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return {(seed, heading): int(words) for seed, words, heading in rows}


def _sources() -> list[tuple[str, str, str]]:
    """(file stem, key, text) of every source in every knowledge file, however nested."""
    found = []

    def walk(node, stem, key):
        if isinstance(node, dict):
            for name, value in node.items():
                walk(value, stem, f"{key}.{name}" if key else name)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, stem, f"{key}[{i}]")
        elif isinstance(node, str) and ("seed:" in node or "study:" in node):
            found.append((stem, key, node))

    for path in sorted(KNOWLEDGE_DIR.glob("*.toml")):
        if path.stem != "references":
            walk(tomllib.loads(path.read_text(encoding="utf-8")), path.stem, "")
    return found


def _seed_citations() -> list[tuple[str, str, str, str, bool]]:
    """(file, key, seed, heading, direct) for every seed section a source names.

    A direct citation is a source that is the reference itself; otherwise the heading is named
    inside an assumption ("... (informed by seed:001 §Heading)").
    """
    cited = []
    for stem, key, text in _sources():
        for match in _SEED_REFERENCE.finditer(text):
            heading = text[match.end() :].strip()
            direct = match.start() == 0
            if not direct and heading.endswith(")"):
                heading = heading[:-1]
            cited.append((stem, key, match.group(1), heading, direct))
    return cited


def test_every_cited_seed_section_exists_in_its_seed_text():
    sections = _seed_sections()
    cited = _seed_citations()
    assert len(cited) > 100
    missing = [c for c in cited if (c[2], c[3]) not in sections]
    assert not missing, f"no such section in the seed text: {missing[:5]}"


def test_numbers_cited_to_a_seed_section_have_text_under_that_heading():
    sections = _seed_sections()
    empty = [
        c for c in _seed_citations() if c[4] and c[0] in GENERATOR_FILES and not sections[c[2:4]]
    ]
    assert not empty, f"cited section has no text under its heading: {empty[:5]}"


SUBJECTS = Path(__file__).parent / "data" / "seed_section_subjects.txt"
TERMS = Path(__file__).parent / "data" / "seed_terms.toml"


def _section_subjects() -> dict[tuple[str, str], set[str]]:
    """(seed number, heading) -> subjects the section mentions (seed_section_subjects.txt)."""
    lines = SUBJECTS.read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return {(seed, heading): set(filter(None, found.split(","))) for seed, heading, found in rows}


def subjects_of(stem: str, key: str) -> list[str]:
    """What a number is about, from its file and key: the subjects its cited section must
    mention (names defined in tests/data/seed_terms.toml). ``key`` may end in ``.source``."""
    parts = key.removesuffix(".source").split(".")
    if stem == "likelihoods":  # finding.condition
        return parts
    if stem == "findings":  # finding.severity_slope / finding.chronic_shift
        return parts
    if stem == "settings":  # settings.<setting>.case_mix.<condition> / .missing.<finding>
        _, setting, table, name = parts
        return [f"setting.{setting}", name] if table == "case_mix" else ["missing", name]
    if stem == "conditions":
        if parts[0] == "shared":
            return [parts[1]]
        condition, rest = parts[1], parts[2:]
        if rest[0] == "secondary":
            return [condition, "secondary", rest[1]]
        return [condition, ".".join(rest)]
    return [key]


def unsupported(citations, sections: dict[tuple[str, str], set[str]]) -> list[tuple]:
    """Direct seed citations whose section does not mention every subject of the number."""
    return [
        (stem, key, seed, heading, sorted(set(subjects_of(stem, key)) - sections[seed, heading]))
        for stem, key, seed, heading, direct in citations
        if direct and stem in GENERATOR_FILES and stem != "targets"
        if not set(subjects_of(stem, key)) <= sections[seed, heading]
    ]


def test_numbers_cited_to_a_seed_section_are_about_what_the_section_mentions():
    # A section that does not mention the finding, condition or field a number is about
    # cannot back it; such a number is an assumption "informed by" the section instead.
    terms = tomllib.loads(TERMS.read_text(encoding="utf-8"))
    known = {name for table in terms.values() for name in table}
    cited = [c for c in _seed_citations() if c[4] and c[0] in GENERATOR_FILES]
    assert len(cited) > 50
    undefined = sorted({s for c in cited for s in subjects_of(c[0], c[1])} - known)
    assert not undefined, f"subjects with no words in seed_terms.toml: {undefined}"
    bad = unsupported(cited, _section_subjects())
    assert not bad, f"cited section does not mention what the number is about: {bad[:5]}"


def test_the_subject_check_catches_citations_that_do_not_back_their_number():
    # Proof the check is alive, on citations an audit found unsupported: a chronic share, a
    # trigger and a both-legs share cited to sections that say nothing about them.
    wrong = [
        ("conditions", "conditions.upper_limb_nerve.chronic_fraction.source", "001",
         "What Causes a Pinched Nerve?", True),
        ("conditions", "conditions.upper_limb_nerve.trigger.prolonged_sitting", "001",
         "What Causes a Pinched Nerve?", True),
        ("conditions", "conditions.serious_pathology.bilateral", "002",
         "True Sciatica (Radiculopathy)", True),
    ]  # fmt: skip
    assert [b[4] for b in unsupported(wrong, _section_subjects())] == [
        ["chronic_fraction"], ["trigger.prolonged_sitting"], ["bilateral"]
    ]  # fmt: skip
    right = [("conditions", "conditions.upper_limb_nerve.chronic_fraction", "001",
              "Serious Symptoms of a Pinched Nerve or Sciatica Include", True)]  # fmt: skip
    assert not unsupported(right, _section_subjects())


def test_the_section_check_catches_a_heading_that_is_not_there():
    # Proof the check is alive: a made-up heading and a bare heading are both caught.
    sections = _seed_sections()
    assert ("001", "What Causes a Pinched Nerve?") in sections
    assert ("001", "What Causes Sciatica?") not in sections
    assert sections[("001", "Stenosis Information")] == 0  # a heading with nothing under it


def test_every_cited_study_is_listed_in_the_references():
    studies = tomllib.loads((KNOWLEDGE_DIR / "references.toml").read_text("utf-8"))["studies"]
    cited = {
        (stem, key, m) for stem, key, text in _sources() for m in _STUDY_REFERENCE.findall(text)
    }
    unknown = sorted(c for c in cited if c[2] not in studies)
    assert not unknown, f"studies not in references.toml: {unknown[:5]}"


def test_the_stored_section_list_matches_the_seed_texts():
    references = tomllib.loads((KNOWLEDGE_DIR / "references.toml").read_text("utf-8"))["seeds"]
    # Seed "NNN" is the text whose file name starts with "NNN_" (named in references.toml).
    for number, title in references.items():
        assert re.search(rf"\({number}_[0-9a-f]+\.txt\)", title), (number, title)
    assert {seed for seed, _ in _seed_sections()} == set(references)
    if not SEEDS.is_dir():
        pytest.skip("the seed texts are not on this machine; the stored list is used as is")
    tool = Path(__file__).resolve().parents[1] / "tools" / "seed_sections.py"
    spec = importlib.util.spec_from_file_location("seed_sections", tool)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert SECTIONS.read_text(encoding="utf-8") == module.render(SEEDS), (
        "regenerate with python tools/seed_sections.py"
    )
    assert SUBJECTS.read_text(encoding="utf-8") == module.render_subjects(SEEDS, TERMS), (
        "regenerate with python tools/seed_sections.py"
    )
    assert set(_section_subjects()) == set(_seed_sections())


def _numeric_leaves(node, key=""):
    """(key, value) of every number in a parsed TOML document, found independently of
    outcomes.knowledge: ``[name]`` for an array-of-tables element with a name."""
    if isinstance(node, dict):
        if "value" in node and "source" in node:
            yield key, node["value"]
            return
        for name, child in node.items():
            yield from _numeric_leaves(child, f"{key}.{name}" if key else name)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            label = child.get("name", i) if isinstance(child, dict) else i
            yield from _numeric_leaves(child, f"{key}[{label}]")
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield key, node


def test_provenance_lists_every_number_of_every_knowledge_file():
    # Including the files other modules load: recovery, costs, triage rules and targets.
    table = provenance()
    listed = {(f, k): v for f, k, v in table[["file", "key", "value"]].itertuples(index=False)}
    files = sorted(p for p in KNOWLEDGE_DIR.glob("*.toml"))
    assert {p.name for p in files} >= {"recovery.toml", "costs.toml", "triage_rules.toml",
                                       "targets.toml", "likelihoods.toml"}  # fmt: skip
    expected = {
        (path.name, key): value
        for path in files
        for key, value in _numeric_leaves(tomllib.loads(path.read_text(encoding="utf-8")))
    }
    assert len(expected) > 600
    assert listed == expected
    assert len(table) == len(expected)  # no key listed twice
    assert set(table["file"]) == {p.name for p in files if p.name != "references.toml"}
    assert (table["source"] != "").all()
    assert table.equals(load_knowledge().provenance())


def test_provenance_shows_a_number_written_without_a_source(kb_copy):
    # Proof the listing cannot hide a bare number in a file another module reads.
    with (kb_copy / "costs.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[extra]\nweeks = 3\n")
    table = provenance(kb_copy).set_index(["file", "key"])
    assert table.loc[("costs.toml", "extra.weeks"), "source"] == ""
    assert table.loc[("costs.toml", "extra.weeks"), "value"] == 3


def test_knowledge_objects_are_frozen():
    kb = load_knowledge()
    with pytest.raises(AttributeError):
        kb.conditions[0].female = 0.9  # type: ignore[misc]
    with pytest.raises(TypeError):
        kb.settings["primary_care"].case_mix["disc_herniation"] = 0.9  # type: ignore[index]


def test_a_copy_loads_like_the_packaged_knowledge(kb_copy):
    copy = load_knowledge(kb_copy)
    assert copy.condition_names == load_knowledge().condition_names
    assert copy.sources == load_knowledge().sources


DISC_AGE_SD = (
    'age_sd = { value = 10, source = "assumption: about ten years either side of the mean" }'
)


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "likelihoods.toml",
            "exam_fair_test]\ndisc_herniation = { value = 0.15",
            "exam_fair_test]\ndisc_herniation = { value = 1.3",
            r"likelihoods.toml: \[exam_fair_test.disc_herniation\] value 1.3 is not a probability",
        ),
        (
            "settings.toml",
            "disc_herniation = { value = 0.5,",
            "disc_herniation = { value = 0.6,",
            r"settings.toml: \[settings.primary_care.case_mix\] probabilities sum to 1.1",
        ),
        (
            "conditions.toml",
            DISC_AGE_SD,
            'age_sd = { value = 10, source = "study:nobody1999" }',
            r"conditions.toml: \[conditions.disc_herniation.age_sd\] source 'study:nobody1999'",
        ),
        (
            "conditions.toml",
            DISC_AGE_SD,
            "age_sd = 10",
            r"\[conditions.disc_herniation.age_sd\] must be \{ value",
        ),
        (
            "conditions.toml",
            DISC_AGE_SD,
            'age_sd = { value = 10, source = "assumption", note = "x" }',
            r"\[conditions.disc_herniation.age_sd\] has unknown field 'note'",
        ),
        (
            "settings.toml",
            'disc_herniation = { value = 0.5, source = "study:konstantinou2015"',
            'disc_herniation = { value = 0.5, source = "assumption: a guess"',
            r"\[settings.primary_care.case_mix.disc_herniation\] is calibrated, so its source",
        ),
        (
            "settings.toml",
            'serious_pathology = { value = 0.01, source = "study:henschke2009" }',
            'serious_pathology = { value = 0.01, source = "study:henschke2009", calibrated = "" }',
            r"\[settings.primary_care.case_mix.serious_pathology\] calibrated must say how",
        ),
        (
            "conditions.toml",
            'pathway = "hip"',
            'pathway = "knee"',
            r"\[conditions.piriformis_syndrome.pathway\] 'knee' is not a pathway",
        ),
        (
            "settings.toml",
            "exam_hip_shift = { value = 0.85",
            "exam_hips_shift = { value = 0.85",
            r"\[settings.primary_care.missing.exam_hips_shift\] is not an exam finding",
        ),
        (
            "conditions.toml",
            "none = { value = 0.78",
            "none = { value = 0.68",
            r"\[conditions.disc_herniation.secondary\] probabilities sum to 0.9",
        ),
        (
            "findings.toml",
            'kind = "exam"\nlabel = "Positive FAIR test"',
            'kind = "sign"\nlabel = "Positive FAIR test"',
            r"findings.toml: \[exam_fair_test.kind\] 'sign' is not one of",
        ),
        (
            "conditions.toml",
            "severity_beta_a = { value = 2.5,",
            "severity_beta_a = { value = 0.5,",
            r"\[conditions.disc_herniation.severity_beta_a\] value 0.5 is not a Beta shape",
        ),
        (
            "settings.toml",
            'default = "primary_care"',
            'default = "hospital"',
            r"settings.toml: \[default\] 'hospital' is not a setting",
        ),
        (
            "likelihoods.toml",
            "[pain_neck]",
            "[pain_knee]",
            r"likelihoods.toml: \[pain_knee\] is not a finding",
        ),
    ],
)
def test_invalid_files_fail_naming_file_key_and_value(kb_copy, file, old, new, message):
    edit(kb_copy, file, old, new)
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(kb_copy)


def test_a_missing_likelihood_row_is_rejected(kb_copy):
    text = (kb_copy / "likelihoods.toml").read_text(encoding="utf-8")
    start = text.index("[pain_neck]")
    end = text.index("[", start + 1)
    (kb_copy / "likelihoods.toml").write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"\[pain_neck\] is missing"):
        load_knowledge(kb_copy)


def test_broken_toml_names_the_file(kb_copy):
    (kb_copy / "settings.toml").write_text("default = [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="settings.toml: not valid TOML"):
        load_knowledge(kb_copy)
    with pytest.raises(KnowledgeError, match="settings.toml: not valid TOML"):
        provenance(kb_copy)


def test_an_edited_prevalence_changes_the_generator_without_code_changes(kb_copy):
    from outcomes.engine.cohort import generate

    edit(
        kb_copy,
        "settings.toml",
        "disc_herniation = { value = 0.5,",
        "disc_herniation = { value = 0.35,",
    )
    edit(
        kb_copy,
        "settings.toml",
        "hamstring_tightness = { value = 0.035,",
        "hamstring_tightness = { value = 0.185,",
    )
    kb = load_knowledge(kb_copy)
    df = generate(20_000, seed=0, knowledge=kb)
    share = (df["condition"] == "hamstring_tightness").mean()
    # 5 binomial standard errors at p = 0.185, n = 20,000: 5 * sqrt(.185 * .815 / 20000) = 0.014
    assert abs(share - 0.185) < 0.014
    assert np.isclose(sum(kb.setting("primary_care").case_mix.values()), 1.0)
