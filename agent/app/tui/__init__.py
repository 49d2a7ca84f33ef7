"""The full-screen chat (Textual): it renders the dialogue loop's events and never decides anything itself.

`agent.app.tui.app.run_tui` is the entry point; everything here imports Textual, nothing here imports torch."""
