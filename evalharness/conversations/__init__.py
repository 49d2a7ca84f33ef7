"""Conversation-level evaluation: scripted suites (`evalharness converse`) and a goal-driven user simulator
(`evalharness simulate`), both judged from the hotel store and the bookings, never from the agent's words.

* `suite`: the YAML suite format, loaded into typed conversations with their per-step expectations;
* `placeholders`: `{shown[1].phone}` / `{today+2}` in expectations, filled from what the user was shown;
* `world`: a fresh store copy and empty bookings per conversation;
* `session`: drives the real DialogueLoop one user line at a time and records what happened (store diff included);
* `judge`: checks a step's or a conversation's expectations against that record;
* `converse`: runs suites and writes their report; `simulator` / `goals` / `simulate`: the simulated user."""
