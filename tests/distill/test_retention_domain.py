"""KD's language-retention domain (data.retention) among the device domains."""
import numpy as np

from mighty.data.retention import GENERIC_DOMAIN
from mighty.distill.batching import BucketedSampler, Example, split_examples
from mighty.distill.train import retention_out_of_eval


def example(uid: str, device: str) -> Example:
    return Example(uid=uid, device_type=device, prompt_ids=np.ones(3, np.int32), completion_ids=np.ones(5, np.int32),
                   topk_ids=np.zeros((5, 2), np.int32), topk_logprobs=np.zeros((5, 2), np.float32))


def test_generic_rows_train_or_probe_but_never_enter_the_answer_eval():
    examples = ([example(f"hp/{i}", "headphones") for i in range(40)]
                + [example(f"{GENERIC_DOMAIN}/{i}", GENERIC_DOMAIN) for i in range(40)])
    train, probe, evals = split_examples(examples, 0.3, probe_per_domain=2)
    assert any(e.device_type == GENERIC_DOMAIN for e in evals)  # the case being fixed
    train2, evals2 = retention_out_of_eval(train, evals)
    assert {e.device_type for e in evals2} == {"headphones"}
    assert sorted(e.uid for e in train2 + evals2) == sorted(e.uid for e in train + evals)
    assert sum(e.device_type == GENERIC_DOMAIN for e in probe) == 2  # its KL gap is still measured


def test_the_generic_domain_gets_the_share_its_weight_gives():
    import jax

    examples = ([example(f"hp/{i}", "headphones") for i in range(30)]
                + [example(f"{GENERIC_DOMAIN}/{i}", GENERIC_DOMAIN) for i in range(10)])
    sampler = BucketedSampler(examples, [8], [8], batch_size=4)
    drawn = [examples[i].device_type for s in range(200)
             for i in sampler.draw(jax.random.key(s), {"headphones": 0.75, GENERIC_DOMAIN: 0.25})[0]]
    assert abs(drawn.count(GENERIC_DOMAIN) / len(drawn) - 0.25) < 0.05
