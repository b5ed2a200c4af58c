# tests/browser/test_binding_page_in_chromium.py drives the login page with the helpers of
# tests/browser/test_login_page_in_chromium.py, imported by its bare name (pytest puts its
# folder on sys.path); mypy checks that file as tests.browser.test_login_page_in_chromium.
from tests.browser.test_login_page_in_chromium import Opener as Opener
from tests.browser.test_login_page_in_chromium import Site as Site
from tests.browser.test_login_page_in_chromium import _confirm as _confirm
from tests.browser.test_login_page_in_chromium import _open as _open
from tests.browser.test_login_page_in_chromium import _popup as _popup
from tests.browser.test_login_page_in_chromium import _scan as _scan
