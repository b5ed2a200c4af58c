# The browser tests import tests/browser/browserkit.py by its bare name (pytest puts its
# folder on sys.path); mypy checks that file as tests.browser.browserkit.
from tests.browser.browserkit import *  # noqa: F403
