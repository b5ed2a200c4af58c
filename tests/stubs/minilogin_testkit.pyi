# The tests import tests/minilogin_testkit.py by its bare name (pytest puts its
# folder on sys.path); mypy checks that file as tests.minilogin_testkit.
# This gives mypy the bare name too.
from tests.minilogin_testkit import *  # noqa: F403
