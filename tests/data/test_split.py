import pytest

from mighty.data.split import assert_disjoint, split_by_issue


def _prompts(n_issues=20, per=3):
    return [{"prompt_id": f"{i}.{j}", "issue_id": f"i{i:02d}"} for i in range(n_issues) for j in range(per)]


def test_no_issue_overlap_and_heldout_honoured():
    res = split_by_issue(_prompts(), eval_issues=["i03", "i07"], val_frac=0.2, seed=0)
    tr = {p["issue_id"] for p in res.train}
    va = {p["issue_id"] for p in res.val}
    he = {p["issue_id"] for p in res.heldout}
    assert he == {"i03", "i07"} and not (tr & va) and not (tr & he) and not (va & he)
    assert len(va) == 4 and len(res.train) + len(res.val) + len(res.heldout) == 60


def test_seeded():
    a = split_by_issue(_prompts(), eval_issues=[], val_frac=0.2, seed=1).val_issues
    b = split_by_issue(_prompts(), eval_issues=[], val_frac=0.2, seed=1).val_issues
    c = split_by_issue(_prompts(), eval_issues=[], val_frac=0.2, seed=2).val_issues
    assert a == b and a != c


def test_assert_disjoint_names_groups():
    with pytest.raises(ValueError, match=r"in both train and val, e\.g\. \['x'\]"):
        assert_disjoint({"train": ["x", "y"], "val": ["x"]})
