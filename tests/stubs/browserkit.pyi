# The tests import tests/browserkit.py by its bare name (pytest puts its folder on sys.path);
# mypy checks that file as tests.browserkit.
from tests.browserkit import *  # noqa: F403
