from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from guarantor.errors import ExitCode, ModelError
from guarantor.settings import Settings
from guarantor.tasks import catalogue, store
from guarantor.tasks.catalogue import EXPOSURE_LEVELS
from guarantor.tasks.evaluation import cross_validate, occupation_r, scores
from guarantor.tasks.features import terms
from guarantor.tasks.model import EVIDENCE_FLOOR, ExposureModel, Role, fold_of
from tests.conftest import DATA_DIR


@pytest.fixture(scope="module")
def labelled() -> list[catalogue.LabelledTask]:
    return catalogue.read_labelled(DATA_DIR)


def test_training_is_deterministic(labelled) -> None:
    rows = labelled[:3000]
    a, b = ExposureModel.train(rows, {}, {}), ExposureModel.train(rows, {}, {})
    assert np.array_equal(a.exposure_w, b.exposure_w) and np.array_equal(a.automation_w, b.automation_w)
    assert np.array_equal(a.role_stage.w, b.role_stage.w)


def test_save_and_load_round_trip(model: ExposureModel, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    model.save(path)
    again = ExposureModel.load(path)
    texts = ["Prepare financial statements and reports.", "Repair leaking pipes in residential buildings."]
    p, q = model.predict(texts), again.predict(texts)
    assert np.allclose(p.exposure, q.exposure) and np.array_equal(p.evidence, q.evidence)
    assert again.meta["data_hash"] == model.meta["data_hash"]


def test_predictions_follow_the_rubric(model: ExposureModel) -> None:
    p = model.predict(
        [
            "Lift heavy boxes and load them onto delivery trucks.",
            "Write summaries of meeting notes and draft routine correspondence.",
        ]
    )
    assert p.exposure_label(0) == "E0"
    assert p.exposure_label(1) in ("E1", "E2")
    assert np.allclose(p.exposure.sum(1), 1) and np.allclose(p.automation.sum(1), 1)


def test_evidence_of_a_labelled_task_is_itself(model: ExposureModel, labelled) -> None:
    row = labelled[123]
    p = model.predict([row.task.text])
    first = p.evidence[0, 0]
    assert model.evidence.texts[first] == row.task.text
    assert model.evidence.labels[first] == row.human_exposure
    assert p.similarity[0, 0] == pytest.approx(1.0, abs=1e-4)
    assert list(p.similarity[0]) == sorted(p.similarity[0], reverse=True)


ODD_TEXTS = [
    "Prepare financial statements and reports.",
    "",
    "   ",
    "Review review review code, code and CODE!",
    "Überprüfen der Rechnungen und Belege",
    "a\x00b prepare\x00reports",
    "zzqx qwv-vvb xqj prepare",
    "Repair leaking pipes in residential buildings.",
    "it's a well-known co-worker's e-mail",
]


def test_features_are_tf_idf_of_each_text_alone(model: ExposureModel) -> None:
    """Texts are read a chunk at a time in one pass: each one's features must be what its own words
    give, whatever is read beside it (an empty text, a NUL, another language)."""
    f = model.featurizer
    index = {t: i for i, t in enumerate(f.vocabulary)}
    together, familiarity = f.encode(ODD_TEXTS)
    dense = together.csr().toarray()
    for row, text in enumerate(ODD_TEXTS):
        expected = np.zeros(f.width, dtype=np.float32)
        for term in terms(text.replace("\x00", " ")):
            if term in index:
                expected[index[term]] += 1
        seen = expected > 0
        expected[seen] = (1 + np.log(expected[seen])) * f.idf[seen]
        if seen.any():
            expected /= np.linalg.norm(expected)
        assert np.allclose(dense[row], expected, atol=1e-6), text
        alone, alone_familiarity = f.encode([text])
        assert np.allclose(alone.csr().toarray()[0], dense[row]) and alone_familiarity[0] == familiarity[row]
    assert familiarity[1] == familiarity[2] == 0 and familiarity[0] == 1
    assert familiarity[6] == 0.25  # one word of four is known


def test_evidence_similarities_are_exact_cosines_above_the_floor(model: ExposureModel) -> None:
    texts = [*ODD_TEXTS, "Review pull requests", "Schedule appointments for patients and answer phone calls."]
    p = model.predict(texts)
    corpus = model.featurizer.encode(model.evidence.texts)[0].csr()
    cosines = (model.featurizer.encode(texts)[0].csr() @ corpus.T).toarray()
    for row in range(len(texts)):
        found = p.evidence[row] >= 0
        assert np.allclose(p.similarity[row][found], cosines[row, p.evidence[row][found]], atol=1e-5)
        assert (p.similarity[row][found] >= EVIDENCE_FLOOR).all() and (p.similarity[row][~found] == 0).all()
        assert list(p.similarity[row]) == sorted(p.similarity[row], reverse=True)
    assert (p.evidence[texts.index("Review pull requests")] == -1).all()  # its best match is 0.23
    assert (p.evidence[1] == -1).all()


def test_model_is_rebuilt_when_the_data_changes(tmp_path: Path, model_home: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    shutil.copytree(DATA_DIR.parent / "observed", tmp_path / "observed")
    settings = Settings(data_dir=data, home=model_home)
    before = store.model_path(settings, store.data_hash(settings))
    assert before.is_file(), "the session's model is the cached one for unchanged data"
    lines = (data / "exposure_labels.tsv").read_text().splitlines(keepends=True)
    (data / "exposure_labels.tsv").write_text("".join(lines[:-1]))
    after = store.model_path(settings, store.data_hash(settings))
    assert after != before and not after.is_file()
    rebuilt = store.load_or_build(settings)
    assert after.is_file() and rebuilt.meta["rows"] == len(lines) - 2


def test_folds_never_split_an_occupation(labelled) -> None:
    folds: dict[str, set[int]] = {}
    for r in labelled:
        folds.setdefault(r.task.onet_soc_code, set()).add(fold_of(r.task.onet_soc_code, 5))
    assert all(len(f) == 1 for f in folds.values())
    sizes = np.bincount([fold_of(c, 5) for c in folds], minlength=5)
    assert sizes.min() > len(folds) / 5 * 0.7


def test_scores_match_textbook_definitions() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 3, 500), rng.integers(0, 3, 500)
    p[:200] = y[:200]
    s = scores(y, p, 3)
    assert s.accuracy == pytest.approx(sklearn_metrics.accuracy_score(y, p))
    assert s.kappa == pytest.approx(sklearn_metrics.cohen_kappa_score(y, p))
    assert s.macro_f1 == pytest.approx(sklearn_metrics.f1_score(y, p, average="macro"))
    assert s.confusion == sklearn_metrics.confusion_matrix(y, p).tolist()


def test_cross_validation_reports_model_and_gpt4_on_the_same_rows(labelled) -> None:
    codes = sorted({r.task.onet_soc_code for r in labelled})[:120]
    rows = [r for r in labelled if r.task.onet_soc_code in set(codes)]
    result = cross_validate(rows, folds=3)
    assert result.rows == len(rows) and result.occupations == 120
    assert sum(map(sum, result.model.confusion)) == len(rows)
    agree = sum(r.human_exposure == r.gpt4_exposure for r in rows) / len(rows)
    assert result.gpt4.accuracy == pytest.approx(agree)
    assert 0.55 < result.model.accuracy < 0.95 and 0.55 < result.text_only.accuracy < 0.95
    assert 0.5 < result.model_r.expected <= 1 and 0.3 < result.gpt4_r <= 1
    codes_r = np.unique([r.task.onet_soc_code for r in rows], return_inverse=True)[1]
    human = np.array([EXPOSURE_LEVELS.index(r.human_exposure) for r in rows])
    assert occupation_r(codes_r, human, np.eye(3)[human]) == pytest.approx(1.0), "the labels agree with themselves"


def test_the_role_stage_reads_a_task_among_its_role(model: ExposureModel) -> None:
    """The same statement leans towards exposure among desk work, away from it among manual work."""
    task = "Keep records of work completed and inspect the results."
    desk = ["Draft routine correspondence and reports.", "Enter data into spreadsheets.", "Answer customer emails."]
    manual = ["Lift heavy boxes onto trucks.", "Weld steel beams on site.", "Operate forklifts in the warehouse."]
    among_desk = model.predict([task, *desk], role=Role(0.4)).exposure[0]
    among_manual = model.predict([task, *manual], role=Role(0.05)).exposure[0]
    alone = model.predict([task]).exposure[0]
    assert among_desk[0] < alone[0] < among_manual[0], (among_desk, alone, among_manual)
    unknown = model.predict([task, *desk], role=Role(None)).exposure[0]
    assert np.isclose(unknown.sum(), 1) and not np.allclose(unknown, among_desk)


def test_statements_the_model_cannot_read_are_flagged(model: ExposureModel) -> None:
    p = model.predict(
        [
            "Revisar las solicitudes de cambio del código fuente",
            "Überprüfen Sie die Änderungsanfragen im Quellcode",
            "asdf qwer zxcv uiop",
            "",
            "Review pull requests and write unit tests.",
        ]
    )
    assert [p.familiar(i) for i in range(5)] == [False, False, False, False, True]


def test_every_home_of_the_user_shares_one_built_model(model_home: Path, tmp_path: Path) -> None:
    steps: list[str] = []
    first = store.load_or_build(Settings(data_dir=DATA_DIR, home=tmp_path / "one"), steps.append)
    second = store.load_or_build(Settings(data_dir=DATA_DIR, home=tmp_path / "two"), steps.append)
    assert steps == [], "the session's model was built already, into the cache every home shares"
    assert first.meta == second.meta and not (tmp_path / "one").exists()


def test_a_build_says_each_step(tmp_path: Path) -> None:
    steps: list[str] = []
    settings = Settings(data_dir=DATA_DIR, home=tmp_path, cache_dir=tmp_path / "cache")
    store.load_or_build(settings, steps.append)
    assert steps[0].startswith("text stage") and sum("role stage" in s for s in steps) == 5, steps
    assert [p.name for p in (tmp_path / "cache" / "models").iterdir()] == [
        store.model_path(settings, store.data_hash(settings)).name
    ]


def test_a_cache_folder_that_cannot_be_written_fails_before_the_build(tmp_path: Path) -> None:
    """At once, exit 9 naming the folder, instead of a minute's build then an error about a path."""
    (tmp_path / "cache").write_text("a file, not a folder")
    steps: list[str] = []
    with pytest.raises(ModelError) as raised:
        store.load_or_build(Settings(data_dir=DATA_DIR, home=tmp_path, cache_dir=tmp_path / "cache"), steps.append)
    assert steps == [], "nothing was built"
    assert raised.value.exit_code == ExitCode.MODEL
    assert raised.value.message.startswith(f"The exposure model cannot be kept in {tmp_path / 'cache' / 'models'}: ")
    assert raised.value.hint == "Set GUARANTOR_CACHE_DIR to a folder this user can write."
