# tests/shared/test_binding_transition.py imports tests/shared/test_ticket_store.py's helpers
# by its bare name (pytest puts its folder on sys.path); mypy checks that file as
# tests.shared.test_ticket_store. This gives mypy the bare name too.
from tests.shared.test_ticket_store import created as created
