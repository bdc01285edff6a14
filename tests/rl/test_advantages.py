"""Group-relative advantages against hand-worked numbers and NumPy loops."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mighty.rl.advantages import group_advantages, rloo_advantages, zero_std_group_fraction

REWARDS = jnp.array([1.0, 2.0, 3.0, 5.0, 5.0, 5.0])  # two groups of G = 3


def test_group_scale_hand_worked():
    # group 0: mean 2, unbiased std 1 → (−1, 0, 1); group 1 is flat → 0
    got = group_advantages(REWARDS, 3, scale="group", eps=0.0)
    np.testing.assert_allclose(got, [-1.0, 0.0, 1.0, 0.0, 0.0, 0.0], atol=1e-7)
    got = group_advantages(REWARDS, 3, scale="group", eps=1.0)
    np.testing.assert_allclose(got, [-0.5, 0.0, 0.5, 0.0, 0.0, 0.0], atol=1e-7)
    got = group_advantages(REWARDS, 3, scale="group", eps=0.0, ddof=0)  # std √(2/3)
    np.testing.assert_allclose(got[:3], np.array([-1, 0, 1]) / np.sqrt(2 / 3), rtol=1e-6)


def test_batch_and_none_scales_hand_worked():
    # batch std (ddof=1) of all six: squared deviations from 3.5 sum to 15.5 → √(15.5/5)
    got = group_advantages(REWARDS, 3, scale="batch", eps=0.0)
    np.testing.assert_allclose(got, np.array([-1, 0, 1, 0, 0, 0]) / np.sqrt(3.1), rtol=1e-6)
    got = group_advantages(REWARDS, 3, scale="none")
    np.testing.assert_allclose(got, [-1.0, 0.0, 1.0, 0.0, 0.0, 0.0], atol=1e-7)


def test_rloo_hand_worked():
    # leave-one-out means (2.5, 2, 1.5) → (−1.5, 0, 1.5) = G/(G−1) · centred
    np.testing.assert_allclose(rloo_advantages(REWARDS, 3), [-1.5, 0, 1.5, 0, 0, 0],
                               atol=1e-6)


def _np_reference(rewards, g, scale, eps, ddof):
    out = np.zeros_like(rewards)
    batch_std = np.std(rewards, ddof=ddof)
    for start in range(0, len(rewards), g):
        grp = rewards[start:start + g]
        for i in range(g):
            a = grp[i] - sum(grp) / g
            if scale == "group":
                a /= np.sqrt(sum((x - grp.mean()) ** 2 for x in grp) / (g - ddof)) + eps
            elif scale == "batch":
                a /= batch_std + eps
            out[start + i] = 0.0 if grp.max() == grp.min() else a
    return out


def _np_rloo(rewards, g):
    out = np.zeros_like(rewards)
    for start in range(0, len(rewards), g):
        grp = rewards[start:start + g]
        for i in range(g):
            others = [grp[j] for j in range(g) if j != i]
            out[start + i] = grp[i] - sum(others) / (g - 1)
    return out


@pytest.mark.parametrize("g", [2, 4])
@pytest.mark.parametrize("scale", ["group", "batch", "none"])
def test_match_numpy_loops_on_random_rewards(scale, g):
    rng = np.random.default_rng(g)
    rewards = rng.normal(size=8 * g).astype(np.float32)
    rewards[:g] = 0.7  # one flat group
    for ddof in (0, 1):
        got = jax.jit(group_advantages, static_argnums=(1, 2, 4))(rewards, g, scale, 1e-6, ddof)
        want = _np_reference(rewards.astype(np.float64), g, scale, 1e-6, ddof)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rloo_advantages(rewards, g), _np_rloo(rewards, g), atol=1e-5)


@pytest.mark.parametrize("value", [0.1, 1 / 3, 1e8 + 0.5, -7.0])
def test_flat_groups_are_exactly_zero(value):
    # the float mean of G copies of 0.1 is not 0.1; dividing the residue by ε would not be 0
    rewards = jnp.concatenate([jnp.full(5, value, jnp.float32), jnp.arange(5.0)])
    for scale in ("group", "batch", "none"):
        assert np.all(np.asarray(group_advantages(rewards, 5, scale=scale))[:5] == 0.0)
    assert np.all(np.asarray(rloo_advantages(rewards, 5))[:5] == 0.0)
    assert np.count_nonzero(np.asarray(group_advantages(rewards, 5))[5:]) == 4  # 0..4: mid 0


def test_advantages_sum_to_zero_per_group():
    rewards = jax.random.normal(jax.random.PRNGKey(0), (24,))
    for adv in (group_advantages(rewards, 6), rloo_advantages(rewards, 6),
                group_advantages(rewards, 6, scale="batch")):
        np.testing.assert_allclose(adv.reshape(4, 6).sum(-1), 0.0, atol=1e-5)


def test_zero_std_group_fraction():
    rewards = jnp.array([1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 2.0, 2.0])
    np.testing.assert_allclose(zero_std_group_fraction(rewards, 2), 0.75)
    np.testing.assert_allclose(zero_std_group_fraction(rewards, 4), 0.0)


def test_bad_layout_and_scale_raise():
    with pytest.raises(ValueError, match="group_size"):
        group_advantages(jnp.ones(5), 2)
    with pytest.raises(ValueError, match="group_size"):
        rloo_advantages(jnp.ones(4), 1)
    with pytest.raises(ValueError, match="unknown scale"):
        group_advantages(jnp.ones(4), 2, scale="global")
