"""The `served` backend: a model behind an OpenAI-compatible server (client, chat mode, template mode)."""
