"""The event-driven version of the suite: expectations instead of sleeps."""
