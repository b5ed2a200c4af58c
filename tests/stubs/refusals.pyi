# The tests import tests/notifier/refusals.py by its bare name (pytest puts its
# folder on sys.path); mypy checks that file as tests.notifier.refusals.
# This gives mypy the bare name too.
from tests.notifier.refusals import *  # noqa: F403
