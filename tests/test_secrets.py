"""Secret hygiene (issue 9): a signer's private key and a recipient's HMAC secret never appear in
``repr``/``str``, pickles, copies or exceptions (message, repr, attributes, pickle, formatted
traceback), nothing pm logs contains them, and comparisons of secret-derived values go through
``hmac.compare_digest``.

"Contain" is checked in every form a secret could leak in: lowercase and uppercase hex (with and
without 0x), the ``bytes`` repr, the raw bytes, base64 and the decimal integer, plus the first 8
bytes in hex (a partial leak is still a leak).
"""

from __future__ import annotations

import base64
import copy
import hmac
import logging
import pickle
import traceback
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import pytest

from pm.chain import InMemoryChain, SenderInfo
from pm.crypto import PrivateKeySigner
from pm.errors import PMError
from pm.ticket import TicketBatch

KEY = bytes.fromhex("5ec2e7ab" * 8)  # a valid secp256k1 key with a recognisable pattern
SECRET = bytes.fromhex("0badc0de" + "c0ffee11" * 7)
RECIPIENT_ADDR = bytes.fromhex("73aed7b5deb30222fa896f399d46cc99c7bee57f")


def leak_forms(secret: bytes) -> list[str | bytes]:
    n = int.from_bytes(secret, "big")
    h = secret.hex()
    return [
        h,
        h.upper(),
        h[:16],
        h[:16].upper(),
        repr(secret),
        repr(secret)[2:18],
        str(n),
        str(n)[:20],
        base64.b64encode(secret).decode(),
        ", ".join(str(b) for b in secret[:8]),  # a list/tuple/array of the byte values
        secret,
        secret[:8],
    ]


def assert_no_leak(blob: str | bytes, secret: bytes, what: str) -> None:
    for form in leak_forms(secret):
        if isinstance(blob, str) and isinstance(form, str):
            assert form not in blob, f"{what} contains the secret as {form!r}"
        elif isinstance(blob, bytes):
            needle = form if isinstance(form, bytes) else form.encode("latin-1")
            assert needle not in blob, f"{what} contains the secret as {form!r}"


def exception_texts(exc: BaseException) -> Iterator[tuple[str, str | bytes]]:
    """Every rendering of an exception an application might log or ship elsewhere."""
    yield "str", str(exc)
    yield "repr", repr(exc)
    yield "traceback", "".join(traceback.format_exception(exc))
    yield "attributes", repr(getattr(exc, "__dict__", {}))
    yield "args", repr(exc.args)
    try:
        yield "pickle", pickle.dumps(exc)
    except Exception as pexc:  # an unpicklable exception cannot leak through a pickle
        yield "pickle error", str(pexc)


def check_raises_clean(fn: Callable[[], object], secret: bytes, what: str) -> BaseException:
    with pytest.raises(Exception) as info:
        fn()
    assert isinstance(info.value, PMError), f"{what} raised {type(info.value).__name__}"
    for kind, text in exception_texts(info.value):
        assert_no_leak(text, secret, f"{what}: exception {kind}")
    return info.value


# -- PrivateKeySigner ---------------------------------------------------------------------------


def test_signer_repr_str_format_do_not_contain_key() -> None:
    s = PrivateKeySigner(KEY)
    for text in (repr(s), str(s), f"{s}", f"{s!r}", format(s), repr([s]), repr({"k": s})):
        assert_no_leak(text, KEY, "signer rendering")
    assert s.checksum_address in repr(s)  # it says which key it is, by address


def test_signer_cannot_be_pickled_or_copied_and_says_why() -> None:
    s = PrivateKeySigner(KEY)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        exc = check_raises_clean(lambda p=protocol: pickle.dumps(s, p), KEY, "pickle.dumps")
        assert "private key" in str(exc)
    check_raises_clean(lambda: copy.copy(s), KEY, "copy.copy")
    check_raises_clean(lambda: copy.deepcopy(s), KEY, "copy.deepcopy")
    check_raises_clean(lambda: pickle.dumps([1, {"signer": s}]), KEY, "pickle of a container")


def test_signer_has_no_instance_dict_to_dump() -> None:
    s = PrivateKeySigner(KEY)
    assert not hasattr(s, "__dict__")  # vars(s) / s.__dict__ cannot show the key
    with pytest.raises(TypeError):
        vars(s)


@pytest.mark.parametrize(
    "make_bad",
    [
        lambda k: k.hex(),  # hex string instead of bytes
        lambda k: "0x" + k.hex(),
        lambda k: int.from_bytes(k, "big"),  # the key as an int
        lambda k: k + b"\x00",  # 33 bytes
        lambda k: k[:31],  # 31 bytes
        lambda k: list(k),
    ],
    ids=["hex", "0xhex", "int", "33-bytes", "31-bytes", "list"],
)
def test_signer_constructor_errors_do_not_contain_key(make_bad: Callable[[bytes], Any]) -> None:
    check_raises_clean(lambda: PrivateKeySigner(make_bad(KEY)), KEY, "PrivateKeySigner(bad)")


def test_out_of_range_key_errors_do_not_contain_key() -> None:
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    for bad in (n.to_bytes(32, "big"), (n + 5).to_bytes(32, "big"), b"\xff" * 32):
        check_raises_clean(lambda b=bad: PrivateKeySigner(b), bad, "PrivateKeySigner(>= N)")


def test_signing_errors_do_not_contain_key() -> None:
    s = PrivateKeySigner(KEY)
    for call in (
        lambda: s.sign(b"short"),
        lambda: s.sign("0x" + "00" * 32),  # type: ignore[arg-type]
        lambda: s.sign_digest(b""),
        lambda: s.sign_batch([b"\x00" * 32, b"x"]),
        lambda: s.sign_tickets(_template(s), [2**32]),
        lambda: s.sign_message(5),  # type: ignore[arg-type]
    ):
        check_raises_clean(call, KEY, "signer method with bad input")


def test_signer_equality_uses_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert PrivateKeySigner(KEY) == PrivateKeySigner(KEY)
    assert PrivateKeySigner(KEY) != PrivateKeySigner(bytes(31) + b"\x01")
    assert len(calls) == 2


def _template(s: PrivateKeySigner) -> Any:
    from pm.ticket import TicketParams

    return TicketParams(RECIPIENT_ADDR, 1, 1, bytes(32), 0, 10).ticket(s.address, 0)


# -- Recipient ----------------------------------------------------------------------------------

recipient_mod = pytest.importorskip("pm.recipient")
sender_mod = pytest.importorskip("pm.sender")


def _pair() -> tuple[Any, Any, InMemoryChain]:
    signer = PrivateKeySigner(KEY)
    chain = InMemoryChain(
        l1_block=100,
        round_=10,
        round_block_hashes={10: b"\x0a" * 32, 9: b"\x09" * 32},
        gas_price=10**9,
    )
    chain.set_sender_info(signer.address, SenderInfo(10**19, 0, 10**19, 0))
    cfg = recipient_mod.RecipientConfig(redeem_gas=100_000, ticket_ev=10**6)
    r = recipient_mod.Recipient(RECIPIENT_ADDR, SECRET, chain, cfg)
    policy = sender_mod.SpendingPolicy(Fraction(10**18), Fraction(10**20), 1)
    return r, sender_mod.Sender(signer, policy, chain), chain


def test_recipient_repr_str_do_not_contain_secret() -> None:
    r, snd, _ = _pair()
    for text in (repr(r), str(r), f"{r!r}", repr([r])):
        assert_no_leak(text, SECRET, "recipient rendering")
    for text in (repr(snd), str(snd)):
        assert_no_leak(text, KEY, "sender rendering")


def test_recipient_and_sender_pickles_do_not_contain_secrets() -> None:
    r, snd, _ = _pair()
    for obj, secret in ((r, SECRET), (snd, KEY)):
        try:
            blob = pickle.dumps(obj)
        except Exception as exc:  # refusing to pickle is fine, as long as it says nothing
            for kind, text in exception_texts(exc):
                assert_no_leak(text, secret, f"pickle error {kind}")
        else:
            assert_no_leak(blob, secret, f"pickle of {type(obj).__name__}")


def test_receive_errors_results_and_logs_do_not_contain_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    r, snd, chain = _pair()
    p = r.ticket_params(snd.address, Fraction(1))
    sid = snd.start_session(p)
    batch = snd.create_batch(sid, 4)
    res = r.receive(batch, p.seed, Fraction(1))
    assert res.error is None
    replay = r.receive(batch, p.seed, Fraction(1))  # nonces already seen: non-fatal errors
    assert replay.error is not None
    wrong_seed = r.receive(batch, p.seed + 1, Fraction(1))  # invalid recipientRand: fatal
    assert wrong_seed.fatal is not None
    forged = TicketBatch(
        batch.params, batch.sender, batch.expiration_params, batch.nonces, bytes(65 * len(batch))
    )
    bad_sig = r.receive(forged, p.seed, Fraction(1))
    assert bad_sig.error is not None
    chain.l1_block = 10**6  # expired params
    expired = r.receive(batch, p.seed, Fraction(1))
    assert expired.error is not None
    for results in (res, replay, wrong_seed, bad_sig, expired):
        assert_no_leak(repr(results), SECRET, "ReceiveResults repr")
        for item in results:
            if item.error is not None:
                for kind, text in exception_texts(item.error):
                    assert_no_leak(text, SECRET, f"receive error {kind}")
    assert_no_leak(repr(p), SECRET, "TicketParams repr")
    assert_no_leak(caplog.text, SECRET, "log output")
    assert_no_leak(caplog.text, KEY, "log output")


def test_recipient_rand_check_uses_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    r, snd, _ = _pair()
    p = r.ticket_params(snd.address, Fraction(1))
    batch = snd.create_batch(snd.start_session(p), 2)
    calls: list[bytes] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append(bytes(a))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert r.receive(batch, p.seed, Fraction(1)).error is None
    assert any(len(c) == 32 for c in calls)  # keccak(recipientRand) vs recipientRandHash
    calls.clear()
    assert r.receive(batch, p.seed + 1, Fraction(1)).fatal is not None
    assert calls, "the recipientRandHash comparison must go through hmac.compare_digest"


@pytest.mark.parametrize(
    "bad",
    [SECRET.hex(), int.from_bytes(SECRET, "big"), list(SECRET)],
    ids=["hex", "int", "list"],
)
def test_recipient_constructor_errors_do_not_contain_secret(bad: Any) -> None:
    chain = InMemoryChain()
    check_raises_clean(
        lambda: recipient_mod.Recipient(RECIPIENT_ADDR, bad, chain), SECRET, "Recipient(bad)"
    )


def test_recipient_wrong_length_secret_error_is_clean() -> None:
    chain = InMemoryChain()
    for bad in (SECRET[:31], SECRET + b"\x00", b""):
        check_raises_clean(
            lambda b=bad: recipient_mod.Recipient(RECIPIENT_ADDR, b, chain),
            SECRET,
            "Recipient(short secret)",
        )


# -- the remote signer (pm signer serve) ---------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [KEY.hex() + "00", KEY.hex()[:-1] + "g", "0x" + KEY.hex()[:40], KEY.hex() + "\nextra"],
    ids=["33-bytes", "bad-hex", "short", "trailing-garbage"],
)
def test_signer_command_key_file_errors_do_not_echo_the_key(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    pytest.importorskip("aiohttp")
    from pm import cli

    key_file = tmp_path / "key"
    key_file.write_text(content)
    key_file.chmod(0o600)
    rc = cli.main(
        ["signer", "serve", "--key-file", str(key_file), "--chain-file", str(tmp_path / "c")]
    )
    out, err = capsys.readouterr()
    assert rc != 0
    assert "key file" in err
    for text in (out, err):
        assert_no_leak(text, KEY, "pm signer output")
        assert content.strip()[:16] not in text


def test_remote_signer_does_not_expose_the_key() -> None:
    signer_pkg = pytest.importorskip("pm.signer")
    remote = signer_pkg.RemoteSigner(PrivateKeySigner(KEY), InMemoryChain())
    assert_no_leak(repr(remote), KEY, "RemoteSigner repr")
    assert_no_leak(repr(vars(remote)), KEY, "RemoteSigner attributes")
    try:
        blob = pickle.dumps(remote)
    except Exception as exc:
        for kind, text in exception_texts(exc):
            assert_no_leak(text, KEY, f"RemoteSigner pickle error {kind}")
    else:
        assert_no_leak(blob, KEY, "RemoteSigner pickle")
