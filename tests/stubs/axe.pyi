# The browser tests import tests/browser/axe.py by its bare name (pytest puts its folder on
# sys.path); mypy checks that file as tests.browser.axe. This gives mypy the bare name too.
from tests.browser.axe import *  # noqa: F403
