def pytest_terminal_summary(terminalreporter):
    from tests.e2e.test_fuzz import REQUESTS_SENT

    if REQUESTS_SENT:
        terminalreporter.write_sep("-", f"schemathesis: {sum(REQUESTS_SENT.values())} generated requests")
        for label, sent in sorted(REQUESTS_SENT.items()):
            terminalreporter.write_line(f"{sent:6d}  {label}")
