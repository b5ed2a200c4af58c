# The tests import tests/geoip_testkit.py by its bare name (pytest puts its
# folder on sys.path); mypy checks that file as tests.geoip_testkit.
# This gives mypy the bare name too.
from tests.geoip_testkit import *  # noqa: F403
