"""The only module that reaches into singer-sdk's private names.

Each function below wraps one private SDK name the tap cannot do without, says why no public
extension point serves, and is pinned by `tests/test_sdk_private.py`, so an SDK upgrade that
changes the behaviour relied on fails there, by name, rather than somewhere in a sync.
"""

from __future__ import annotations
