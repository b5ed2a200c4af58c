# tests/miniprogram/test_miniprogram_outcomes.py runs the mini program the way
# tests/miniprogram/test_miniprogram_e2e.py does, importing it by its bare name (pytest puts
# its folder on sys.path); mypy checks that file as tests.miniprogram.test_miniprogram_e2e.
from tests.miniprogram.test_miniprogram_e2e import (
    _assert_refused_on_the_phone as _assert_refused_on_the_phone,
)
from tests.miniprogram.test_miniprogram_e2e import _run_login as _run_login
