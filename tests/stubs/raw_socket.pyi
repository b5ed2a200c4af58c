# The tests import tests/notifier/raw_socket.py by its bare name (pytest puts its
# folder on sys.path); mypy checks that file as tests.notifier.raw_socket.
# This gives mypy the bare name too.
from tests.notifier.raw_socket import *  # noqa: F403
