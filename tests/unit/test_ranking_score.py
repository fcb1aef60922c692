"""The monthly evaluation's arithmetic on hand-made figures (no database): weighted mean of
the rates, less-is-better measures inverted, missing measures dropped, ties, tiers, lists."""

from __future__ import annotations

from minsheng.ranking.models import RankingPolicy
from minsheng.ranking.queries import UnitScore, rank, score_parts
from minsheng.stats.measures import Figure


def test_the_score_is_the_weighted_mean_of_the_rates():
    figures = {
        "sign": Figure("sign", 9, 10),  # 90 %
        "feedback": Figure("feedback", 3, 4),  # 75 %
        "reopen": Figure("reopen", 1, 5),  # 20 % reopened: counts as 80 %
        "satisfaction": Figure("satisfaction", 0, 0),  # nothing rated: drops out
    }
    score, parts, decided = score_parts(figures, {"sign": 2, "feedback": 1, "reopen": 1, "satisfaction": 5})
    assert score == round((0.9 * 2 + 0.75 * 1 + 0.8 * 1) / 4 * 100, 1)  # 83.75
    assert decided == 19
    by_key = {p.measure: p for p in parts}
    assert by_key["reopen"].points == 80.0 and by_key["satisfaction"].points is None


def test_nothing_decided_is_no_score():
    score, _parts, decided = score_parts({}, {"sign": 1})
    assert score is None and decided == 0


def _unit(name, score):
    return UnitScore(0, name, "department", [], 10, score=score)


def test_ranks_tiers_and_the_red_and_yellow_lists():
    policy = RankingPolicy(red_size=2, red_from=90, yellow_size=2, yellow_under=70)
    units = [_unit("甲", 95.0), _unit("乙", 91.0), _unit("丙", 91.0), _unit("丁", 60.0), _unit("戊", 69.9)]
    units.append(UnitScore(0, "己", "department", [], 1))  # too little to be ranked
    rank(units, policy)
    got = {u.name: (u.rank, u.tier, u.listed) for u in units}
    assert got["甲"] == (1, "A", "red")
    assert got["乙"][:2] == (2, "A") and got["丙"][:2] == (2, "A")  # a tie shares the rank
    assert [got["乙"][2], got["丙"][2]].count("red") == 1  # the red list holds two
    assert got["戊"] == (4, "D", "yellow") and got["丁"] == (5, "D", "yellow")  # 1, 2, 2, 4, 5
    assert got["己"] == (None, "", "")
