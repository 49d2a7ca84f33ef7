"""The dialogue loop: runs the backend's tool calls against the store and bookings and emits events that
every front end (and the conversation evaluation) consumes."""
