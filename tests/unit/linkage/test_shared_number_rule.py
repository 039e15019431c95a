"""Whether clustering holds a cluster to one shared number: decided by the model's own m."""

from linkage import model
from linkage.pipeline import shared_number_rule


def _model(m_different):
    comparison = model.shared_number_comparison()
    comparison["comparison_levels"][-1]["m_probability"] = m_different
    return {"comparisons": [model.sex_comparison(), comparison]}


def test_reliable_numbers_constrain_clusters():
    rule = shared_number_rule(_model(0.004))
    assert rule["applied"] is True
    assert rule["limit"] == model.DIFFERENT_NUMBER_M


def test_noisy_numbers_are_evidence_only():
    # One true pair in ten with numbers two or more characters apart: no hard constraint.
    assert shared_number_rule(_model(0.1))["applied"] is False


def test_limit_is_inclusive_and_untrained_is_not_applied():
    assert shared_number_rule(_model(model.DIFFERENT_NUMBER_M))["applied"] is True
    assert shared_number_rule(_model(None))["applied"] is False


def test_no_shared_number_no_rule():
    assert shared_number_rule({"comparisons": [model.sex_comparison()]}) == {}
