"""Singer tap for GitHub Copilot metrics."""
