# The tests import tests/oidc/oidc_testkit.py by its bare name (pytest puts its
# folder on sys.path); mypy checks that file as tests.oidc.oidc_testkit.
# This gives mypy the bare name too.
from tests.oidc.oidc_testkit import *  # noqa: F403
