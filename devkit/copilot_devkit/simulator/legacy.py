"""Day objects of the legacy metrics API (`GET .../copilot/metrics`).

Shaped like GitHub's official example (`examples/legacy-copilot-usage-metrics-for-day.json`):
editors > models > languages for completions, chat per editor and model, github.com chat and
pull-request summaries per repository. Engaged-user counts nest consistently: an editor's count
is the sum of its models', a feature's the sum of its editors' (bounded by the day's engaged
users), and `total_engaged_users <= total_active_users`.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

DEFAULT_MODEL = ("default", False, None)
CUSTOM_MODEL = ("a-custom-model", True, "2024-02-01")  # as in the official example
LANGS = ("python", "ruby", "typescript", "go", "javascript", "java")
EDITORS = (
    ("vscode", DEFAULT_MODEL, 1.0),
    ("neovim", CUSTOM_MODEL, 0.5),
    ("jetbrains", DEFAULT_MODEL, 0.5),
)

# A day is published only if five or more members had active licenses (GitHub's rule).
MIN_ACTIVE_USERS = 5


def _split(total: int, n: int, r: Any) -> list[int]:
    """Split `total` into at most `n` positive integers (fewer if total < n)."""
    n = max(1, min(n, total))
    if total <= 0:
        return []
    weights = [0.3 + r() for _ in range(n)]
    scale = (total - n) / sum(weights)
    parts = [1 + int(w * scale) for w in weights]
    parts[0] += total - sum(parts)
    return parts


def _model(spec: tuple[str, bool, str | None]) -> dict[str, Any]:
    name, custom, trained = spec
    return {"name": name, "is_custom_model": custom, "custom_model_training_date": trained}


def legacy_day(
    seed: int, scope_key: str, day: dt.date, active: int, repo_names: list[str]
) -> dict[str, Any] | None:
    """The day object for one scope, or None when the day is not published.

    `active` is the number of the scope's users active that day (the same users the reports
    count). Days with fewer than five are not published (weekends of small teams), and about
    one day in seven is left out as well, so every scope shows gaps.
    """
    rng = random.Random(f"{seed}:legacy:{scope_key}:{day}")
    r = rng.random
    if r() < 1 / 7 or active < MIN_ACTIVE_USERS:
        return None
    engaged = max(1, int(active * (0.65 + 0.35 * r())))

    # IDE code completions: editors > models > languages.
    editors = [e for e in EDITORS if r() < e[2]]
    completion_users = max(1, int(engaged * (0.75 + 0.25 * r())))
    editor_rows = []
    top_languages: dict[str, int] = {}
    for (name, model_spec, _p), editor_users in zip(
        editors, _split(completion_users, len(editors), r), strict=False
    ):
        langs = rng.sample(LANGS, 1 + int(r() * 3))
        lang_rows = []
        for lang, users in zip(langs, _split(editor_users, len(langs), r), strict=False):
            suggestions = users * (8 + int(r() * 40))
            acceptances = int(suggestions * (0.2 + 0.3 * r()))
            lang_rows.append(
                {
                    "name": lang,
                    "total_engaged_users": users,
                    "total_code_suggestions": suggestions,
                    "total_code_acceptances": acceptances,
                    "total_code_lines_suggested": int(suggestions * (0.8 + 0.8 * r())),
                    "total_code_lines_accepted": int(acceptances * (0.8 + 0.6 * r())),
                }
            )
            top_languages[lang] = top_languages.get(lang, 0) + users
        model = _model(model_spec)
        model["total_engaged_users"] = sum(row["total_engaged_users"] for row in lang_rows)
        model["languages"] = lang_rows
        editor_rows.append(
            {"name": name, "total_engaged_users": model["total_engaged_users"], "models": [model]}
        )
    completions_total = min(engaged, sum(e["total_engaged_users"] for e in editor_rows))
    completions = {
        "total_engaged_users": completions_total,
        "languages": [
            {"name": lang, "total_engaged_users": min(n, completions_total)}
            for lang, n in top_languages.items()
        ],
        "editors": editor_rows,
    }

    # IDE chat: one editor (vscode), default model and sometimes the custom model.
    chat_users = int(engaged * (0.3 + 0.5 * r()))
    chat_models = [DEFAULT_MODEL, CUSTOM_MODEL] if r() < 0.5 else [DEFAULT_MODEL]
    chat_rows = []
    for spec, users in zip(chat_models, _split(chat_users, len(chat_models), r), strict=False):
        chats = users * (1 + int(r() * 6))
        chat_rows.append(
            {
                **_model(spec),
                "total_engaged_users": users,
                "total_chats": chats,
                "total_chat_insertion_events": int(chats * (0.1 + 0.3 * r())),
                "total_chat_copy_events": int(chats * (0.1 + 0.4 * r())),
            }
        )
    chat_total = sum(row["total_engaged_users"] for row in chat_rows)
    ide_chat = {
        "total_engaged_users": chat_total,
        "editors": [{"name": "vscode", "total_engaged_users": chat_total, "models": chat_rows}]
        if chat_rows
        else [],
    }

    dotcom_users = int(engaged * (0.2 + 0.4 * r()))
    dotcom_chat = {
        "total_engaged_users": dotcom_users,
        "models": [
            {
                **_model(DEFAULT_MODEL),
                "total_engaged_users": dotcom_users,
                "total_chats": dotcom_users * (1 + int(r() * 5)),
            }
        ]
        if dotcom_users
        else [],
    }

    pr_users = int(engaged * (0.1 + 0.3 * r()))
    repos = rng.sample(repo_names, min(len(repo_names), 1 + int(r() * 3)))
    repo_rows: list[dict[str, Any]] = []
    for repo, users in zip(repos, _split(pr_users, len(repos), r), strict=False):
        spec = CUSTOM_MODEL if r() < 0.3 else DEFAULT_MODEL
        repo_rows.append(
            {
                "name": repo,
                "total_engaged_users": users,
                "models": [
                    {
                        **_model(spec),
                        "total_pr_summaries_created": users * (1 + int(r() * 3)),
                        "total_engaged_users": users,
                    }
                ],
            }
        )
    pull_requests = {
        "total_engaged_users": sum(row["total_engaged_users"] for row in repo_rows),
        "repositories": repo_rows,
    }

    engaged = max(
        engaged, completions_total, chat_total, dotcom_users, pull_requests["total_engaged_users"]
    )
    return {
        "date": day.isoformat(),
        "total_active_users": max(active, engaged),
        "total_engaged_users": engaged,
        "copilot_ide_code_completions": completions,
        "copilot_ide_chat": ide_chat,
        "copilot_dotcom_chat": dotcom_chat,
        "copilot_dotcom_pull_requests": pull_requests,
    }
