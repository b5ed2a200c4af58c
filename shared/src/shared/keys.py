"""Every Redis key MiniLogin writes, in one place."""

from __future__ import annotations

import zlib

# The outbox is this many Redis streams. A ticket's key carries its stream's hash tag, so the
# script that moves a ticket and appends its event touches one Cluster slot.
OUTBOX_SHARDS = 16


class Keys:
    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def ticket(self, ticket_id: str) -> str:
        return f"{self.ns}:ticket:{{{shard_tag(outbox_shard(ticket_id))}}}:{ticket_id}"

    def outbox(self, shard: int) -> str:
        """One stream of the transactional outbox: events waiting to be published."""
        return f"{self.ns}:outbox:{{{shard_tag(shard)}}}"

    def outboxes(self) -> list[str]:
        return [self.outbox(shard) for shard in range(OUTBOX_SHARDS)]

    def outbox_of(self, ticket_id: str) -> str:
        return self.outbox(outbox_shard(ticket_id))

    def scan_session(self, token_hash: str) -> str:
        return f"{self.ns}:mp-session:{token_hash}"

    # A code and its used-marker share a hash tag: one script on one Cluster slot takes both.
    def auth_code(self, code_hash: str) -> str:
        return f"{self.ns}:authcode:{{{code_hash}}}"

    def auth_code_used(self, code_hash: str) -> str:
        return f"{self.ns}:authcode-used:{{{code_hash}}}"

    # A grant (one login's tokens, `sid`): its refresh-token family (a hash), the marker of
    # its revocation, and that of one revoked access token; one hash tag, one Cluster slot.
    def grant(self, sid: str) -> str:
        return f"{self.ns}:grant:{{{sid}}}"

    def grant_revoked(self, sid: str) -> str:
        return f"{self.ns}:grant-revoked:{{{sid}}}"

    def access_revoked(self, sid: str, jti: str) -> str:
        return f"{self.ns}:access-revoked:{{{sid}}}:{jti}"

    def rate(self, bucket: str, subject: str, window: int) -> str:
        return f"{self.ns}:rate:{bucket}:{subject}:{window}"

    def sign_in_throttle(self, kind: str, subject: str) -> str:
        """Failed sign-ins of one account or one IP, and when the last was (a hash)."""
        return f"{self.ns}:signin:{kind}:{subject}"

    # The WeChat access token per appid (a hash), and the lock its one refresher holds.
    def wx_token(self, appid: str) -> str:
        return f"{self.ns}:wx:token:{appid}"

    def wx_token_lock(self, appid: str) -> str:
        return f"{self.ns}:wx:token:{appid}:lock"

    def all(self) -> str:
        """A SCAN pattern for every key in the namespace (clean-up after tests and benches)."""
        return f"{self.ns}:*"


def outbox_shard(ticket_id: str) -> int:
    """The outbox stream a ticket's events go to (stable across processes and versions)."""
    return zlib.crc32(ticket_id.encode()) % OUTBOX_SHARDS


def shard_tag(shard: int) -> str:
    return f"ob{shard}"
