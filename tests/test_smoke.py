from tests.factories import OpportunityFactory


def test_it_builds_an_opportunity_with_its_first_stage(team, pipeline, rep):
    opportunity = OpportunityFactory(team=team, pipeline=pipeline, owner=rep)
    assert opportunity.stage.name == "New"
    assert opportunity.probability == 10
