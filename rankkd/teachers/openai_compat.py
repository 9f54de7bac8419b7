"""An OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, llama.cpp server, TGI, ...) as a listwise teacher.

Stdlib HTTP only (``urllib``). The API key is read from an environment variable at request time and sent only in the
``Authorization`` header; it is never stored on the object, logged, or put in an error message.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Sequence

from rankkd.listwise.inference import Window
from rankkd.listwise.prompts import PromptConfig, build_messages

logger = logging.getLogger(__name__)

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class WhitespaceTokenizer:
    """Word-level stand-in for a tokenizer when the teacher's own one is not available (remote models):
    ``max_passage_tokens`` then counts whitespace-separated words. Only what
    :func:`~rankkd.listwise.prompts.truncate_by_tokens` calls is implemented."""

    chat_template = None

    def __call__(self, texts: Sequence[str], add_special_tokens: bool = False,
                 return_offsets_mapping: bool = True) -> dict[str, list[list[tuple[int, int]]]]:
        import re

        return {"offset_mapping": [[m.span() for m in re.finditer(r"\S+", text)] for text in texts]}


class EndpointError(RuntimeError):
    """The endpoint answered with an error (status and a snippet of the body; never the key)."""


@dataclass
class OpenAIChatBackend:
    """Rank windows by POSTing the listwise chat messages to ``{base_url}/chat/completions``.

    ``base_url`` is e.g. ``http://localhost:8000/v1`` (a URL already ending in ``/chat/completions`` is used as is).
    Requests of a batch run ``concurrency`` at a time; 408/429/5xx and connection errors are retried
    ``max_retries`` times with exponential backoff. ``temperature=0`` (and ``seed``) for reproducible answers.
    """

    base_url: str
    model: str
    prompt_config: PromptConfig = field(default_factory=PromptConfig)
    tokenizer: Any = None
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    max_tokens: int | None = None
    seed: int | None = 0
    timeout: float = 120.0
    max_retries: int = 4
    backoff: float = 1.0
    concurrency: int = 4
    batch_size: int = 8
    model_id: str | None = None
    requests_made: int = 0

    def __post_init__(self) -> None:
        if self.tokenizer is None:
            self.tokenizer = WhitespaceTokenizer()
        if self.model_id is None:
            # answers depend on the served model, not on where it is served
            self.model_id = self.model
        url = self.base_url.rstrip("/")
        self.url = url if url.endswith("/chat/completions") else url + "/chat/completions"

    def prompt(self, query: str, passages: Sequence[str]) -> list[dict[str, str]]:
        return build_messages(self.tokenizer, query, passages, self.prompt_config)

    def _max_tokens(self, n: int) -> int:
        per = 6 if self.prompt_config.identifiers == "number" else 5
        return self.max_tokens or per * n + (512 if self.prompt_config.reasoning else 16)

    def settings(self) -> dict[str, Any]:
        return {"backend": "openai-chat", "temperature": self.temperature, "max_tokens": self.max_tokens,
                "seed": self.seed}

    def template_hash(self) -> str:
        from rankkd.teachers.listwise import prompt_template_hash

        return prompt_template_hash(self.prompt_config, None)

    def _request(self, messages: list[dict[str, str]], n_passages: int) -> str:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature,
                                "max_tokens": self._max_tokens(n_passages)}
        if self.seed is not None:
            body["seed"] = self.seed
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = json.dumps(body).encode("utf-8")
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    payload = json.loads(response.read().decode("utf-8"))
                self.requests_made += 1
                return _content(payload, self.url)
            except urllib.error.HTTPError as err:
                snippet = err.read()[:300].decode("utf-8", "replace")
                if err.code not in _RETRY_STATUS or attempt == self.max_retries:
                    raise EndpointError(f"{self.url} answered HTTP {err.code}: {snippet}") from None
                reason = f"HTTP {err.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                if attempt == self.max_retries:
                    raise EndpointError(f"{self.url} unreachable after {attempt + 1} attempts: {err}") from None
                reason = type(err).__name__
            delay = self.backoff * 2 ** attempt
            logger.warning("%s: %s, retrying in %.1fs", self.url, reason, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def generate(self, windows: Sequence[Window]) -> list[str]:
        jobs = [(self.prompt(q, p), len(p)) for q, p in windows]
        if self.concurrency <= 1 or len(jobs) <= 1:
            return [self._request(m, n) for m, n in jobs]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda job: self._request(*job), jobs))


def _content(payload: Any, url: str) -> str:
    """``choices[0].message.content`` of a chat-completions answer (``""`` for a null content)."""
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise EndpointError(f"{url} returned no choices[0].message.content: {str(payload)[:300]}") from None
    return content or ""
