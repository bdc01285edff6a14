"""Intent router distillation (issue 24): intents + data, teacher ensemble, losses, training,
evaluation and the stage (`python -m mighty.distill.intent.train`)."""
