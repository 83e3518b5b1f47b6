pytest_plugins = ["tests.stack", "tests.iam_guard"]
