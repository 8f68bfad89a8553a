"""Agent environments: a Search-R1-style search environment and a calculator environment."""
