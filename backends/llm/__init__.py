"""LLM backends: chat templates per family, encoding, loading, batched generation and parsing.

Nothing here imports torch or transformers at module level; the heavy imports happen inside functions."""
