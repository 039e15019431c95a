"""The model specification as data, without a database."""

import json

from linkage import model


def test_settings_have_the_expected_comparisons():
    settings = model.settings_dict()
    names = [c["output_column_name"] for c in settings["comparisons"]]
    assert names == [
        "forename",
        "surname",
        "middle_names",
        "date_of_birth",
        "sex",
        "postcode",
        "source",
        "person_number",
    ]
    json.dumps(settings)  # plain data, serialisable


def test_every_comparison_starts_with_a_null_level_and_ends_with_else():
    for comparison in model.settings_dict()["comparisons"]:
        levels = comparison["comparison_levels"]
        assert levels[0].get("is_null_level") is True
        assert levels[-1]["sql_condition"] == "ELSE"


def _labels(name):
    comparison = next(
        c for c in model.settings_dict()["comparisons"] if c["output_column_name"] == name
    )
    return [level["label_for_charts"] for level in comparison["comparison_levels"]]


def test_names_cover_swaps_nicknames_middle_names_double_barrels_and_marriage():
    assert "swapped with surname" in _labels("forename")
    assert "nickname or formal name" in _labels("forename")
    assert "first middle name" in _labels("middle_names")
    assert "part of a double-barrelled surname" in _labels("surname")
    assert "different, both female" in _labels("surname")


def test_postcode_has_previous_address_sector_district_and_area_levels():
    assert _labels("postcode") == [
        "null",
        "exact",
        "the other's latest previous address",
        "an earlier address in common",
        "same sector",
        "same district",
        "same area",
        "all other",
    ]


def test_date_of_birth_has_transposition_level():
    assert "day and month transposed" in _labels("date_of_birth")
    assert "same day and month, year wrong" in _labels("date_of_birth")
    last = next(
        c
        for c in model.settings_dict()["comparisons"]
        if c["output_column_name"] == "date_of_birth"
    )["comparison_levels"][-1]
    assert last["fix_m_probability"] is True
    assert last["m_probability"] == model.DISTANT_BIRTH_DATE_M


def test_unrelated_forenames_have_a_fixed_m_that_em_cannot_inflate():
    # EM would learn household members (one surname and address) as one person with two
    # forenames; the level is fixed, as distant birth dates are.
    last = next(
        c for c in model.settings_dict()["comparisons"] if c["output_column_name"] == "forename"
    )["comparison_levels"][-1]
    assert last["sql_condition"] == "ELSE"
    assert last["fix_m_probability"] is True
    assert last["m_probability"] == model.UNRELATED_FORENAME_M
    assert "forename" not in model.untrainable_comparisons()  # its other levels still train


def _columns(comparison):
    text = " ".join(level["sql_condition"] for level in comparison["comparison_levels"])
    return {c for c in model.RECORD_COLUMNS_USED if f'"{c}_l"' in text}


def test_every_comparison_is_trained_by_some_em_session():
    # Splink does not train a comparison in a session whose rule uses any of its columns.
    for comparison in model.settings_dict()["comparisons"]:
        used = _columns(comparison)
        free = [
            rule
            for rule in model.TRAINING_BLOCKING_RULES
            if not any(f"l.{c} " in rule + " " for c in used)
        ]
        assert free, comparison["output_column_name"]
    assert len(model.TRAINING_BLOCKING_RULES) >= 2


def test_term_frequency_adjustments_on_exact_levels_only():
    for comparison in model.settings_dict()["comparisons"]:
        for level in comparison["comparison_levels"]:
            if "tf_adjustment_column" in level:
                assert level["label_for_charts"] == "exact"
                assert level["tf_adjustment_column"] in model.TF_COLUMNS


def test_every_blocking_rule_excludes_pairs_within_a_one_per_person_source():
    rules = model.blocking_rules() + model.training_rules() + model.prior_rules()
    assert rules
    for rule in rules:
        assert rule.endswith(model.NOT_WITHIN_UNIQUE_SOURCE)


def test_baseline_is_a_different_simpler_model():
    baseline = model.baseline_settings_dict()
    assert len(baseline["comparisons"]) == 5
    assert len(baseline["blocking_rules_to_generate_predictions"]) < len(model.BLOCKING_RULES)


def test_person_numbers_are_compared_only_within_one_source_with_fixed_m_and_u():
    comparison = next(
        c
        for c in model.settings_dict()["comparisons"]
        if c["output_column_name"] == "person_number"
    )
    null, same, different = comparison["comparison_levels"]
    assert 'NOT ("origin_l" = "origin_r")' in null["sql_condition"]
    for level in (same, different):
        assert level["fix_m_probability"] and level["fix_u_probability"]
    # Sharing a number is strong evidence, holding different numbers strong counter-evidence.
    assert same["m_probability"] / same["u_probability"] > 2**20
    assert different["m_probability"] / different["u_probability"] < 2**-6


def test_swap_levels_have_a_fixed_u_in_both_name_comparisons():
    for name in ("forename", "surname"):
        comparison = next(
            c for c in model.settings_dict()["comparisons"] if c["output_column_name"] == name
        )
        swaps = [
            lvl for lvl in comparison["comparison_levels"] if "swapped" in lvl["label_for_charts"]
        ]
        assert [lvl["u_probability"] for lvl in swaps] == [model.SWAPPED_U, model.SWAPPED_CLOSE_U]
        assert all(lvl["fix_u_probability"] for lvl in swaps)


def test_packaged_model_blocks_with_the_current_rules():
    # A saved model carries its own prediction blocking rules, and the packaged model is
    # used on small inputs: a rule changed in linkage/model.py must be changed there too.
    from linkage.pipeline import PACKAGED_MODEL

    saved = json.loads(PACKAGED_MODEL.read_text(encoding="utf-8"))
    rules = [r["blocking_rule"] for r in saved["blocking_rules_to_generate_predictions"]]
    assert rules == model.blocking_rules()


def test_default_roles_give_the_project_model():
    # The model measured on the synthetic worlds is what the project's own roles produce.
    project = model.settings_dict(roles=[*model.PROJECT_ROLES, "household"])
    assert project == model.settings_dict()
    assert model.training_rules() == [
        f"({rule}) AND {model.NOT_WITHIN_UNIQUE_SOURCE}" for rule in model.TRAINING_BLOCKING_RULES
    ]


def test_rules_need_only_the_roles_they_compare():
    assert model.rule_roles("l.name_key = r.name_key AND l.birth_year = r.birth_year") == {
        "forename",
        "surname",
        "date_of_birth",
    }
    # testing for a missing birth date does not need birth dates mapped
    assert model.rule_roles(
        "l.date_of_birth IS NULL AND l.forename = r.forename AND l.surname = r.surname"
    ) == {"forename", "surname"}


def test_names_only_blocks_on_names_and_says_what_it_cannot_train():
    roles = ["forename", "surname"]
    names = [c["output_column_name"] for c in model.settings_dict(roles=roles)["comparisons"]]
    assert names == ["forename", "surname", "source"]
    for rule in model.blocking_rules(roles):
        assert model.rule_roles(rule) <= set(roles)
    assert model.untrainable_comparisons(roles) == ["forename", "surname"]


def test_every_comparison_of_names_and_date_is_trained_by_some_session():
    roles = ["forename", "surname", "date_of_birth"]
    rules = model.training_rules(roles)
    assert model.untrainable_comparisons(roles) == []
    # no rule needs a role that is not mapped (no middle names here)
    assert all("middle_names" not in rule for rule in rules)


def test_new_roles_use_splink_library_levels():
    roles = ["forename", "surname", "address", "locality", "shared_number"]
    comparisons = {
        c["output_column_name"]: c for c in model.settings_dict(roles=roles)["comparisons"]
    }
    address = [lvl["sql_condition"] for lvl in comparisons["address"]["comparison_levels"]]
    assert any("list_intersect" in sql and "address_number" in sql for sql in address)
    assert comparisons["address"]["comparison_levels"][1]["tf_adjustment_column"] == "address"
    number = [lvl["sql_condition"] for lvl in comparisons["shared_number"]["comparison_levels"]]
    assert any("levenshtein" in sql and "<= 1" in sql for sql in number)
    assert "l.shared_number = r.shared_number" in " ".join(model.blocking_rules(roles))
