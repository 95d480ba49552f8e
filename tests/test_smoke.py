import clipdesk


def test_version_is_pep440():
    parts = clipdesk.__version__.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)
