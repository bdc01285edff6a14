"""Entry points (Hydra apps), reproduction scripts and report generation."""
