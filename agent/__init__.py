"""hotel-agent, the product, in three layers (lower never imports higher; see the import-linter contract in
pyproject.toml): `agent.core` (turns, tool schemas, store, bookings, data files), `agent.dialogue` (the loop
that runs tool calls), `agent.app` (CLI, line-mode chat, TUI). Backends and prompts sit between core and
dialogue."""
