"""Teachers (cache, listwise, OpenAI-compatible endpoint, pointwise), query augmentation, retrieval, dataset cards."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from rankkd.listwise.prompts import PromptConfig
from rankkd.teachers import (CrossEncoderTeacher, EndpointError, HFListwiseBackend, ListwiseTeacher,
                             OpenAIChatBackend, TeacherCache, YesNoTeacher, annotate_run, cache_key, cached_map,
                             score_run)


# ------------------------------------------------------------------------------------------------------ cache
def test_cache_key_depends_on_model_prompt_and_settings():
    base = cache_key("m", "prompt", {"t": 0})
    assert base == cache_key("m", "prompt", {"t": 0})
    assert len({base, cache_key("m2", "prompt", {"t": 0}), cache_key("m", "prompt2", {"t": 0}),
                cache_key("m", "prompt", {"t": 1})}) == 4
    # settings are canonicalised: key order does not matter
    assert cache_key("m", "p", {"a": 1, "b": 2}) == cache_key("m", "p", {"b": 2, "a": 1})


def test_cache_persists_and_counts_recomputation(tmp_path):
    path = tmp_path / "c.sqlite"
    with TeacherCache(path) as cache:
        cache.put_many([("k1", "m", "a"), ("k2", "m", [1, 2])])
        assert cache.stats.computed == 2 and len(cache) == 2
    with TeacherCache(path) as cache:
        assert cache.get_many(["k1", "k2", "k3"]) == {"k1": "a", "k2": [1, 2]}
        assert cache.stats.hits == 2
        assert cache.max_recomputations() == 0
        cache.put("k1", "m", "b")  # a finished call computed again is recorded
        assert cache.max_recomputations() == 1 and cache.total_computed() == 3 and cache.get("k1") == "b"


def test_cached_map_computes_only_missing_keys_once(tmp_path):
    cache = TeacherCache(None)
    cache.put("b", "m", "B-cached")
    calls = []

    def compute(indices):
        calls.append(list(indices))
        return [keys[i].upper() for i in indices]

    keys = ["a", "b", "c", "a", "d"]
    assert cached_map(cache, keys, "m", compute, batch_size=2) == ["A", "B-cached", "C", "A", "D"]
    assert calls == [[0, 2], [4]]  # "b" cached, the repeated "a" computed once, batches of 2
    assert cached_map(cache, keys, "m", compute, batch_size=2) == ["A", "B-cached", "C", "A", "D"]
    assert len(calls) == 2


# ------------------------------------------------------------------------------------------------------ listwise
@dataclass
class ReverseBackend:
    """Answers every window with the reversed presented order."""

    model_id: str = "reverse"
    prompt_config: PromptConfig = field(default_factory=PromptConfig)
    batch_size: int = 2
    calls: int = 0

    def prompt(self, query, passages):
        return [str(query), *map(str, passages)]

    def settings(self):
        return {"kind": "reverse"}

    def template_hash(self):
        return "reverse-template"

    def generate(self, windows):
        self.calls += len(windows)
        return [" > ".join(f"[{i}]" for i in range(len(p), 0, -1)) for _, p in windows]


def _toy():
    corpus = {d: f"text of {d}" for d in "abcdefg"}
    queries = {"q1": "first", "q2": "second"}
    run = {"q1": {"a": 5.0, "b": 4.0, "c": 3.0, "d": 2.0, "e": 1.0}, "q2": {"f": 2.0, "g": 1.0}}
    return queries, corpus, run


def test_annotate_run_sliding_window_and_cache(tmp_path):
    queries, corpus, run = _toy()
    backend = ReverseBackend()
    teacher = ListwiseTeacher(backend, TeacherCache(tmp_path / "c.sqlite"))
    result = annotate_run(run, queries, corpus, teacher, depth=5, window=3, stride=2, run_name="bm25",
                          progress=False)
    # q1: windows (2,5) then (0,3): [a,b,c,d,e] -> [a,b,e,d,c] -> [e,b,a,d,c]; q2: one window reversed
    assert [r.docids for r in result.records] == [list("ebadc"), ["g", "f"]]
    assert [r.candidates for r in result.records] == [list("abcde"), ["f", "g"]]
    assert backend.calls == 3
    assert [(w.qid, w.window, w.candidates, w.docids) for w in result.windows] == [
        ("q1", 0, list("cde"), list("edc")), ("q2", 0, ["f", "g"], ["g", "f"]), ("q1", 1, list("abe"), list("eba"))]
    prov = result.provenance
    assert (prov["teacher"], prov["template_hash"], prov["first_stage_run"]) == ("reverse", "reverse-template", "bm25")
    assert (prov["window"], prov["stride"], prov["passes"], prov["windows"], prov["parse_failures"]) == (3, 2, 1, 3, 0)
    assert prov["cache"] == {"hits": 0, "computed": 3}
    # a second run (e.g. after a crash) replays every window from the cache: same result, no model call
    again = annotate_run(run, queries, corpus, ListwiseTeacher(backend, TeacherCache(tmp_path / "c.sqlite")),
                         depth=5, window=3, stride=2, run_name="bm25", progress=False)
    assert [r.docids for r in again.records] == [list("ebadc"), ["g", "f"]]
    assert backend.calls == 3 and again.provenance["cache"] == {"hits": 3, "computed": 0}


def test_annotate_run_counts_parse_failures_and_keeps_input_order():
    queries, corpus, run = _toy()

    class Garbage(ReverseBackend):
        def generate(self, windows):
            return ["I cannot rank these."] * len(windows)

    result = annotate_run(run, queries, corpus, ListwiseTeacher(Garbage()), depth=5, window=5, stride=5,
                          progress=False)
    assert [r.docids for r in result.records] == [list("abcde"), ["f", "g"]]
    assert result.provenance["parse_failures"] == 2
    assert result.provenance["repairs"]["parse_failed_input_order_kept"] == 2
    assert all(w.extra["parse_failed"] for w in result.windows)


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    from rankkd.models.llm import load_causal_lm, make_tiny_causal_lm

    path = make_tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm"))
    model, tokenizer = load_causal_lm(path, dtype="float32")
    return path, model, tokenizer


@pytest.mark.parametrize("mode", ["generate", "single-token"])
def test_hf_backend_is_cached_per_window(tiny_lm, mode):
    _, model, tokenizer = tiny_lm
    queries, corpus, run = _toy()
    backend = HFListwiseBackend(model, tokenizer, model_id="tiny", mode=mode, max_new_tokens=8, batch_size=4)
    cache = TeacherCache(None)
    first = annotate_run(run, queries, corpus, ListwiseTeacher(backend, cache), depth=5, window=3, stride=2,
                         progress=False)
    again = annotate_run(run, queries, corpus, ListwiseTeacher(backend, cache), depth=5, window=3, stride=2,
                         progress=False)
    assert [r.docids for r in again.records] == [r.docids for r in first.records]
    assert sorted(first.records[0].docids) == list("abcde")
    assert again.provenance["cache"] == {"hits": 3, "computed": 0}
    if mode == "single-token":  # logits give a full permutation, never a parse failure
        assert first.provenance["parse_failures"] == 0
    # the generation settings are part of the key: another mode never reuses these answers
    other = HFListwiseBackend(model, tokenizer, model_id="tiny",
                              mode="generate" if mode == "single-token" else "single-token")
    window = ("q", ["x", "y"])
    assert ListwiseTeacher(other).key(*window) != ListwiseTeacher(backend).key(*window)


# ------------------------------------------------------------------------------------------------------ endpoint
class _Stub(BaseHTTPRequestHandler):
    seen: list = []
    fail_first: list = []

    def do_POST(self):  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, self.headers.get("Authorization"), body))
        if type(self).fail_first:
            status = type(self).fail_first.pop(0)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b'{"error": "bad request"}')
            return
        user = body["messages"][-1]["content"]
        n = sum(1 for line in user.splitlines() if line.startswith("["))
        answer = " > ".join(f"[{i}]" for i in range(n, 0, -1))
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": answer}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture()
def stub_server():
    _Stub.seen, _Stub.fail_first = [], []
    server = HTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_openai_backend_ranks_through_endpoint(stub_server, monkeypatch, tmp_path):
    monkeypatch.setenv("MY_KEY", "s3cret-key")
    queries, corpus, run = _toy()
    backend = OpenAIChatBackend(stub_server, "served-model", api_key_env="MY_KEY", backoff=0.01, concurrency=2)
    _Stub.fail_first = [503]  # one transient failure is retried
    result = annotate_run(run, queries, corpus, ListwiseTeacher(backend, TeacherCache(tmp_path / "c.sqlite")),
                          depth=5, window=3, stride=2, progress=False)
    assert [r.docids for r in result.records] == [list("ebadc"), ["g", "f"]]
    assert backend.requests_made == 3 and len(_Stub.seen) == 4
    path, auth, body = _Stub.seen[-1]
    assert path == "/v1/chat/completions" and auth == "Bearer s3cret-key"
    assert body["model"] == "served-model" and body["temperature"] == 0.0
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "s3cret-key" not in repr(backend)
    # cached: a re-run sends no request
    again = annotate_run(run, queries, corpus, ListwiseTeacher(backend, TeacherCache(tmp_path / "c.sqlite")),
                         depth=5, window=3, stride=2, progress=False)
    assert backend.requests_made == 3 and again.records[0].docids == list("ebadc")


def test_openai_backend_error_names_status_not_key(stub_server, monkeypatch):
    monkeypatch.setenv("MY_KEY", "s3cret-key")
    backend = OpenAIChatBackend(stub_server, "m", api_key_env="MY_KEY", backoff=0.01)
    _Stub.fail_first = [400]
    with pytest.raises(EndpointError, match=r"HTTP 400: .*bad request") as info:
        backend.generate([("q", ["a", "b"])])
    assert "s3cret-key" not in str(info.value)


# ------------------------------------------------------------------------------------------------------ pointwise
def test_cross_encoder_teacher_matches_reranker_and_caches(tiny_bert_dir):
    from rankkd.inference.pointwise import PointwiseReranker

    reranker = PointwiseReranker.from_pretrained(tiny_bert_dir, dtype="float32", show_progress=False)
    teacher = CrossEncoderTeacher(reranker, "tiny-bert", cache=TeacherCache(None))
    queries, corpus, run = _toy()
    scored = score_run(run, queries, corpus, teacher, depth=3, progress=False)
    assert list(scored.scores["q1"]) == ["a", "b", "c"] and list(scored.scores["q2"]) == ["f", "g"]
    expected = reranker.score_pairs(["first"] * 3, [corpus[d] for d in "abc"])
    np.testing.assert_allclose([scored.scores["q1"][d] for d in "abc"], expected, rtol=1e-5)
    assert scored.provenance["cache"] == {"hits": 0, "computed": 5}
    again = score_run(run, queries, corpus, teacher, depth=3, progress=False)
    assert again.scores == scored.scores and again.provenance["cache"] == {"hits": 5, "computed": 0}


def test_yes_no_teacher_is_logit_difference(tiny_lm):
    import torch

    _, model, tokenizer = tiny_lm
    # the tiny BPE has few whole words; any two single tokens play "yes" and "no"
    teacher = YesNoTeacher(model, tokenizer, model_id="tiny", yes_token=" relevant", no_token=" query")
    scores = teacher.score(["cats", "a much longer query about dogs"], ["cats sleep", "dogs bark"])
    yes = tokenizer(" relevant", add_special_tokens=False)["input_ids"][0]
    no = tokenizer(" query", add_special_tokens=False)["input_ids"][0]
    for i, (q, p) in enumerate([("cats", "cats sleep"), ("a much longer query about dogs", "dogs bark")]):
        enc = tokenizer(f"Query: {q} Document: {p} Relevant:", return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).logits[0, -1]
        assert scores[i] == pytest.approx(float(logits[yes] - logits[no]), abs=1e-4)  # padding does not matter


def test_yes_no_teacher_rejects_multi_token_answers(tiny_lm):
    _, model, tokenizer = tiny_lm
    with pytest.raises(ValueError, match="tokens for this tokenizer"):
        YesNoTeacher(model, tokenizer, model_id="tiny", yes_token="yes", no_token=" query")
    with pytest.raises(ValueError, match="must contain"):
        YesNoTeacher(model, tokenizer, model_id="tiny", template="Query: {query}", yes_token=" relevant",
                     no_token=" query")


# ------------------------------------------------------------------------------------------------------ augment
def test_crop_queries_are_deterministic_spans_of_one_sentence():
    from rankkd.data.augment import crop_queries

    corpus = {"d1": "Short one. The quick brown fox jumps over the lazy dog near the river bank today.",
              "d2": "too short"}
    out = crop_queries(corpus, ["d1", "d2"], per_doc=3, min_words=4, max_words=6, seed=1)
    assert list(out.queries) == ["crop-d1-0", "crop-d1-1", "crop-d1-2"]
    assert out.skipped == {"crop_document_too_short": 3}
    sentence = "The quick brown fox jumps over the lazy dog near the river bank today."
    for text in out.queries.values():
        assert 4 <= len(text.split()) <= 6 and text in sentence
    assert out.qrels == {q: {"d1": 1} for q in out.queries}
    assert crop_queries(corpus, ["d1"], per_doc=3, min_words=4, max_words=6, seed=1).queries == out.queries


def test_doc2query_with_tiny_t5_is_cached(tmp_path):
    import torch
    from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration

    from rankkd.data.augment import doc2query
    from rankkd.models.llm import make_tiny_causal_lm

    folder = make_tiny_causal_lm(tmp_path / "tok")
    tokenizer = PreTrainedTokenizerFast.from_pretrained(folder)
    tokenizer.pad_token = "<|endoftext|>"
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(T5Config(
        vocab_size=len(tokenizer), d_model=16, d_ff=32, d_kv=8, num_layers=1, num_heads=2,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id)).eval()
    corpus = {"d1": "rank the passages", "d2": "search query answers", "d3": "relevant passage"}
    cache = TeacherCache(None)
    out = doc2query(corpus, ["d1", "d2", "d3"], model, tokenizer, model_id="tiny-t5", per_doc=2, max_new_tokens=6,
                    batch_size=2, cache=cache, progress=False)
    assert len(out) + sum(out.skipped.values()) == 6
    assert cache.stats.computed == 3
    again = doc2query(corpus, ["d1", "d2", "d3"], model, tokenizer, model_id="tiny-t5", per_doc=2, max_new_tokens=6,
                      batch_size=2, cache=cache, progress=False)
    assert again.queries == out.queries and cache.stats.computed == 3


# ------------------------------------------------------------------------------------------------------ retrieval
def test_bm25_and_pooling():
    from rankkd.data.retrieval import bm25_retrieve, pool_runs

    corpus = {"d1": "cats sleep on mats", "d2": "dogs bark at night", "d3": "cats and dogs play"}
    run = bm25_retrieve(corpus, {"q": "cats mats", "none": "zebra"}, k=3)
    assert list(run["q"]) == ["d1", "d3"]  # d2 shares no term: not retrieved
    assert run["none"] == {}
    a = {"q": {"x": 3.0, "y": 2.0, "z": 1.0}}
    b = {"q": {"y": 9.0, "w": 8.0}}
    pooled = pool_runs({"a": a, "b": b}, k_per_run=2, depth=3, rrf_k=1)
    # rrf: y = 1/3 + 1/2, x = 1/2, w = 1/3 ; z is below k_per_run
    assert list(pooled["q"]) == ["y", "x", "w"]
    assert pooled["q"]["y"] == pytest.approx(1 / 3 + 1 / 2)


@pytest.mark.slow  # importing sentence-transformers alone takes seconds
def test_dense_retrieve_with_tiny_bert(tiny_bert_dir):
    from rankkd.data.retrieval import dense_retrieve

    corpus = {"d1": "cats sleep", "d2": "dogs bark", "d3": "birds fly"}
    run = dense_retrieve(corpus, {"q": "cats sleep"}, k=2, model=str(tiny_bert_dir))
    assert len(run["q"]) == 2 and next(iter(run["q"])) == "d1"  # identical text has cosine 1


# ------------------------------------------------------------------------------------------------------ hub
def _dd():
    import datasets

    from rankkd.testing import make_toy_examples

    return datasets.DatasetDict({"train": make_toy_examples(3, 4)})


def test_save_dataset_dict_replaces_atomically_with_card(tmp_path):
    import datasets

    from rankkd.hub import save_dataset_dict

    out = tmp_path / "data"
    save_dataset_dict(_dd(), out, {"license": "cc-by-4.0", "teacher": "t", "provenance": {"window": 5}})
    save_dataset_dict(_dd(), out, {"license": "cc-by-4.0", "teacher": "t2", "provenance": {"window": 7}})
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlicense: cc-by-4.0\n")
    assert "| train | 3 |" in card and "| `teacher_ranks` |" in card and "`t2`" in card
    assert json.loads((out / "provenance.json").read_text()) == {"window": 7}
    assert len(datasets.load_from_disk(str(out))["train"]) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # no temp folders left behind


def test_push_dataset_uses_env_token_and_uploads_card(tmp_path, monkeypatch, capsys):
    import datasets
    import huggingface_hub

    from rankkd.hub import push_dataset, save_dataset_dict

    calls = {}
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    monkeypatch.setattr(datasets.DatasetDict, "push_to_hub",
                        lambda self, repo_id, **kw: calls.setdefault("push", (repo_id, kw["token"])))

    class FakeApi:
        def __init__(self, token=None):
            calls["api_token"] = token

        def upload_file(self, **kw):
            calls["card"] = kw

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    out = save_dataset_dict(_dd(), tmp_path / "d", {"pretty_name": "Toy"})
    url = push_dataset(out, "me/toy")
    assert url == "https://huggingface.co/datasets/me/toy"
    assert calls["push"] == ("me/toy", "hf_secret") and calls["api_token"] == "hf_secret"
    assert calls["card"]["path_in_repo"] == "README.md" and b"# Toy" in calls["card"]["path_or_fileobj"]
    assert "hf_secret" not in capsys.readouterr().out


def test_prompt_template_hash_is_stable_across_added_fields():
    """Caches written before ``explain_after`` existed must stay valid: these hashes were computed at commit bb379c9."""
    from rankkd.listwise.prompts import PromptConfig
    from rankkd.teachers import prompt_template_hash

    assert prompt_template_hash(PromptConfig()) == \
        "2c8b9dc28ecc72b62f936144a96b8eabe6edfef0222535d75de4ba4bfff72d58"
    assert prompt_template_hash(PromptConfig(identifiers="letter", reasoning=True), "tmpl") == \
        "0e3fb2747d702fa916ccbbaae2163d9935fbd56e91bdd782466e9cef233be23b"
    explained = PromptConfig(identifiers="letter", reasoning=True, explain_after=True)
    assert prompt_template_hash(explained, "tmpl") != prompt_template_hash(
        PromptConfig(identifiers="letter", reasoning=True), "tmpl")
