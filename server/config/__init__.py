"""The settings: every one read once from the environment at start-up, checked, and passed
down from there."""
