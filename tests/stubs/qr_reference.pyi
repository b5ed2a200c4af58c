# The tests import tests/qr_issuer/qr_reference.py by its bare name (pytest puts its
# folder on sys.path); mypy checks that file as tests.qr_issuer.qr_reference.
# This gives mypy the bare name too.
from tests.qr_issuer.qr_reference import *  # noqa: F403
