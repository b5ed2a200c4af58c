# The tests import tests/wechat/wechat_testkit.py by its bare name (pytest puts its
# folder on sys.path); mypy checks that file as tests.wechat.wechat_testkit.
# This gives mypy the bare name too.
from tests.wechat.wechat_testkit import *  # noqa: F403
