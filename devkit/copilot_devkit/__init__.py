"""The test bench of tap-copilot-metrics: GitHub API simulator, demo and benchmark.

A distribution of its own (`devkit/pyproject.toml`), so the tap's wheel holds the tap only.
"""
