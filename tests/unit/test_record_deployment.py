from chalice.config import DeployedResources

from infra.app_functions import app_functions
from infra.record_deployment import deployed_values


def test_chalice_invoke_can_find_every_function_of_a_deployed_stack():
    deployed = DeployedResources(deployed_values("prod", "eu-west-1", "123456789012"))
    for function in app_functions():
        arn = deployed.resource_values(function.name)["lambda_arn"]
        assert arn == f"arn:aws:lambda:eu-west-1:123456789012:function:pledge-prod-{function.name}"
    assert "ops_customer_record" in deployed.resource_names()
