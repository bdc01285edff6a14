"""Reranker distillation: a slow cross-encoder teacher (the LLM's p("Yes") that a KB entry
fixes a question) distilled into a small Flax scorer over BM25's top-k candidates.
`distill.rerank.stage.run(cfg, out, teacher_source=..., seed=...)` is the stage; `python -m
distill.rerank.train` its Hydra entry point."""
