pytest_plugins = ["tests.stack"]
