# The tests import tests/docs/docs_support.py by its bare name (pytest puts its
# folder on sys.path); mypy checks that file as tests.docs.docs_support.
# This gives mypy the bare name too.
from tests.docs.docs_support import *  # noqa: F403
