"""The demo account `make run` seeds can be signed in to with the password it prints, over
the embedded and the real stack, through the same sign-in the binding page uses; a wrong
password cannot."""

from __future__ import annotations

import pytest
from minilogin_testkit import Stack

from account.context import ACCOUNT
from account.signin import InvalidCredentials, sign_in
from devstack.seed import BINDING_CONNECTION, seed_try_outs
from shared.registry import Association, Registry


async def test_the_demo_account_signs_in_with_the_printed_password(stack: Stack) -> None:
    account = await seed_try_outs(Registry(stack.db), stack.public, stack.clock.now())
    again = await seed_try_outs(Registry(stack.db), stack.public, stack.clock.now())
    assert again == account  # a restart keeps it, and prints the same
    assert await stack.db.users.count_documents({"email": account.email}) == 1
    acct = stack.apps["account"][ACCOUNT]

    user_id = await sign_in(acct, account.email, account.password, "127.0.0.1")

    user = await stack.db.users.find_one({"_id": user_id})
    assert user["email"] == account.email
    with pytest.raises(InvalidCredentials):
        await sign_in(acct, account.email, account.password + "!", "127.0.0.1")
    binding = await stack.db.connections.find_one({"_id": BINDING_CONNECTION})
    assert binding["association"] == Association.ASK_BINDING.value
    assert binding["apps"] == ["demo"]
