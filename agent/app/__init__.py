"""The application: the `hotel-agent` CLI, line-mode chat, the Textual TUI, history and feedback."""
