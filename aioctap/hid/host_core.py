"""The host side of CTAPHID (CTAP 2.1 §11.2) as a sans-IO state machine: :class:`HostCore`.

The shape is aioquic's ``QuicConnection``: requests and received reports go in with ``now`` as a
parameter; reports to send and events come out; :attr:`HostCore.next_deadline` says when
:meth:`HostCore.handle_timer` has work. No sockets, threads, clock reads or ``await`` here: the
shell (:class:`~aioctap.hid.router.HidConnection`) moves the reports and turns the events into
futures and callbacks.

Every host-side CTAPHID rule lives here:

* channel allocation (§11.2.9.1.3): INIT on the broadcast channel, the answer matched by its
  8-byte nonce, a channel id of 0 or ``0xFFFFFFFF`` refused;
* one transaction per channel; the answer must be of the request's command (or KEEPALIVE or
  ERROR), its continuation packets in sequence (§11.2.4); stray continuations are dropped;
* ERROR packets (§11.2.9.1.6) fail the transaction with the device's code; one without a code is
  a protocol violation; ``ERR_CHANNEL_BUSY`` is retried when the request asked for it;
* KEEPALIVE (§11.2.9.1.7) extends the transaction's deadline (for at most :data:`MAX_KEEPALIVE_TIME` from the
  first) and is reported once per change of status;
* cancellation (§11.2.9.1.5): CTAPHID_CANCEL, then the cancelled request's answer is awaited
  (at most ``cancel_wait`` seconds) and discarded;
* resynchronization: after a timeout, a protocol violation or a cancellation the device did not
  answer, INIT on the channel itself (§11.2.9.1.3) with a fresh nonce; until its answer arrives
  every other report of the channel is discarded and a new request on it waits. No late or stale
  answer can reach a later transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..ctap import CtapError
from .protocol import (
    _INIT_HEADER,
    BROADCAST_CID,
    CTAPHID,
    CtapHidProtocolError,
    InitResponse,
    Reassembler,
    frame,
    max_message_size,
    parse_init_response,
    parse_packet,
    whole_message,
)

__all__ = [
    "BUSY_RETRY_DELAY",
    "CANCEL_WAIT",
    "Allocated",
    "AllocationFailed",
    "Answer",
    "Cleaned",
    "CtapHidTimeout",
    "Dropped",
    "Failed",
    "HostCore",
    "HostEvent",
    "KeepAlive",
]

CANCEL_WAIT = 1.0  # seconds a cancelled request's answer is awaited before the channel is resynchronized
BUSY_RETRY_DELAY = 0.02  # seconds between retries of a request the device answered ERR_CHANNEL_BUSY
# seconds that KEEPALIVEs may extend one call, from the first: then CtapHidTimeout, as for silence. An authenticator
# gives up waiting for the user long before (CTAP2_ERR_USER_ACTION_TIMEOUT, about 30 s); without a limit, a device
# that keeps alive for ever would hold the call, and every later call on its channel, for ever.
MAX_KEEPALIVE_TIME = 600.0

_KEEPALIVE, _ERROR, _INIT, _CANCEL = int(CTAPHID.KEEPALIVE), int(CTAPHID.ERROR), int(CTAPHID.INIT), int(CTAPHID.CANCEL)
_CHANNEL_BUSY = int(CtapError.ERR.CHANNEL_BUSY)
_NO_REPORTS: tuple[bytes, ...] = ()
_NOT_REQUESTS = frozenset((_KEEPALIVE, _ERROR, _CANCEL))
_REQUESTS = frozenset(range(0x80)) - _NOT_REQUESTS

T = TypeVar("T")  # the shell's token of a transaction (what :meth:`HostCore.receive_answer` hands back)


class CtapHidTimeout(TimeoutError):
    """The device did not answer (nor send a keepalive) within the timeout."""


# -- events -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Answer:
    """The answer to the transaction on ``cid``: its payload."""

    cid: int
    data: bytes


@dataclass(slots=True)
class KeepAlive:
    """A KEEPALIVE of the transaction on ``cid`` whose status differs from the last one (§11.2.9.1.7)."""

    cid: int
    status: int


@dataclass(slots=True)
class Failed:
    """The transaction on ``cid`` failed: :class:`~aioctap.ctap.CtapError` (an ERROR packet),
    :class:`~aioctap.hid.protocol.CtapHidProtocolError` (a malformed answer) or :class:`CtapHidTimeout`."""

    cid: int
    error: Exception


@dataclass(slots=True)
class Allocated:
    """The broadcast INIT sent with ``nonce`` was answered: a new channel (§11.2.9.1.3)."""

    nonce: bytes
    init: InitResponse


@dataclass(slots=True)
class AllocationFailed:
    """The broadcast INIT sent with ``nonce`` failed (malformed answer, ERROR packet, timeout)."""

    nonce: bytes
    error: Exception


@dataclass(slots=True)
class Cleaned:
    """Channel ``cid`` is clean again after a cancellation or a resynchronization."""

    cid: int


@dataclass(slots=True)
class Dropped:
    """A report nobody waited for, or a stale one, was discarded."""

    reason: str


HostEvent = Answer | KeepAlive | Failed | Allocated | AllocationFailed | Cleaned | Dropped

# -- state --------------------------------------------------------------------------------------

# channel states
_CLEAN = 0  # nothing in flight
_BUSY = 1  # the transaction's request is out, its answer awaited
_RETRY = 2  # the device answered ERR_CHANNEL_BUSY: the request goes out again at ``resend_at``
_CANCELLING = 3  # CTAPHID_CANCEL sent: the cancelled request's answer is awaited and discarded
_RESYNCING = 4  # INIT sent on the channel: everything but its answer is discarded
_DIRTY = 5  # must be resynchronized before its next use


class _Transaction(Generic[T]):
    """A request and what is known of its answer. Each channel reuses one: :meth:`HostCore.send`
    sets every field (an object and a Python call fewer per call)."""

    __slots__ = (
        "busy_until",
        "cmd",
        "deadline",
        "last_status",
        "limit",
        "reassembler",
        "reports",
        "resend_at",
        "retry_busy",
        "timeout",
        "token",
    )

    def __init__(self) -> None:
        self.cmd = 0
        self.token: T | None = None
        self.reports: Sequence[bytes] = ()
        self.deadline = 0.0
        self.timeout = 0.0
        self.retry_busy = False
        self.busy_until: float | None = None
        self.resend_at = 0.0
        self.last_status: int | None = None
        self.limit = 0.0  # when keepalives stop extending the deadline (set at the first keepalive)
        self.reassembler: Reassembler | None = None  # made when an answer spans several reports


class _Channel(Generic[T]):
    __slots__ = ("cid", "drain", "drain_cmd", "nonce", "slot", "state", "sync_deadline", "transaction")

    def __init__(self, cid: int) -> None:
        self.cid = cid
        self.state = _CLEAN
        self.transaction: _Transaction[T] | None = None  # the caller's current request (in flight or queued)
        self.slot: _Transaction[T] = _Transaction()  # what send() fills in and makes the transaction
        self.nonce = b""  # of the resynchronizing INIT
        self.sync_deadline = 0.0  # when cancelling or resynchronizing gives up
        self.drain: Reassembler | None = None  # a cancelled request's long answer, being discarded
        self.drain_cmd = 0


class HostCore(Generic[T]):
    """Host-side CTAPHID state machine for one transport (all its channels).

    * :meth:`allocate_channel` and :meth:`send` start work and return the reports to send now;
    * :meth:`cancel` gives up the transaction of a channel;
    * :meth:`receive` / :meth:`receive_many` take reports from the device; :meth:`receive_answer`
      is their fast path for a one-report answer;
    * :meth:`handle_timer` handles deadlines; call it at or after :attr:`next_deadline`.

    Each returns the reports to send (in order, before anything returned later) and, except the
    first three, a list of :data:`HostEvent`.
    """

    def __init__(
        self,
        packet_size: int = 64,
        *,
        cancel_wait: float = CANCEL_WAIT,
        busy_retry_delay: float = BUSY_RETRY_DELAY,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if packet_size < 24:  # an INIT answer (17 bytes) must fit in one report
            raise ValueError(f"packet size {packet_size} is too small for CTAPHID")
        self.packet_size = packet_size
        self.cancel_wait = cancel_wait
        self.busy_retry_delay = busy_retry_delay
        self._random = random
        self._max = max_message_size(packet_size)
        self._channels: dict[int, _Channel[T]] = {}
        self._allocations: dict[bytes, float] = {}  # nonce -> deadline
        self._broadcast = Reassembler(packet_size)
        #: when :meth:`handle_timer` may have work (None: nothing pending); read-only for callers. Never
        #: later than the earliest deadline; it may be earlier (a deadline that moved on or was met), in
        #: which case :meth:`handle_timer` does nothing but compute the next one.
        self.next_deadline: float | None = None

    # -- timers ---------------------------------------------------------------------------------

    def _at(self, when: float) -> None:
        timer = self.next_deadline
        if timer is None or when < timer:
            self.next_deadline = when

    def channel_state(self, cid: int) -> str:
        """The state of channel ``cid``: clean, busy, retry, cancelling, resyncing, dirty or unknown."""
        channel = self._channels.get(cid)
        if channel is None:
            return "unknown"
        return ("clean", "busy", "retry", "cancelling", "resyncing", "dirty")[channel.state]

    # -- requests -------------------------------------------------------------------------------

    def allocate_channel(self, now: float, timeout: float) -> tuple[bytes, Sequence[bytes]]:
        """Start a CTAPHID_INIT on the broadcast channel: ``(nonce, reports to send)``.

        Its outcome is an :class:`Allocated` or :class:`AllocationFailed` event with this nonce.
        """
        nonce = self._random(8)
        while nonce in self._allocations:
            nonce = self._random(8)
        self._allocations[nonce] = now + timeout
        self._at(now + timeout)
        return nonce, frame(BROADCAST_CID, _INIT, nonce, self.packet_size)

    def abandon_allocation(self, nonce: bytes) -> None:
        """Forget the allocation started with ``nonce`` (its caller left); a later answer is dropped."""
        self._allocations.pop(nonce, None)

    def send(
        self,
        cid: int,
        cmd: int,
        data: bytes,
        now: float,
        timeout: float,
        retry_busy: bool = False,
        token: T | None = None,
    ) -> Sequence[bytes]:
        """Start a transaction on ``cid``; return the reports to send now.

        Nothing goes out while the channel is being cleaned (a cancelled request's answer awaited,
        a resynchronization): the request then goes out once the channel is clean, among the
        reports some later call returns. Its outcome is an :class:`Answer` or :class:`Failed` event
        within ``timeout`` seconds (keepalives extend it). With ``retry_busy``, ERR_CHANNEL_BUSY is
        retried every ``busy_retry_delay`` s for up to ``timeout`` s. One transaction per channel:
        another before the outcome of this one is a :class:`RuntimeError`. ``token`` is the
        caller's, handed back by :meth:`receive_answer` with the answer.
        """
        channel = self._channels.get(cid)
        if channel is None or channel.transaction is not None or cmd not in _REQUESTS:
            channel = self._request_channel(cid, cmd, channel)
        size = self.packet_size
        if len(data) <= size - 7:  # one report (the common case)
            reports: Sequence[bytes] = ((_INIT_HEADER.pack(cid, 0x80 | cmd, len(data)) + data).ljust(size, b"\0"),)
        else:
            reports = frame(cid, cmd, data, size)
        deadline = now + timeout
        transaction = channel.slot
        transaction.cmd = cmd
        transaction.token = token
        transaction.reports = reports
        transaction.deadline = deadline
        transaction.timeout = timeout
        transaction.retry_busy = retry_busy
        transaction.busy_until = None
        transaction.last_status = None
        transaction.reassembler = None  # (resend_at is set before it is read, on an ERR_CHANNEL_BUSY)
        channel.transaction = transaction
        timer = self.next_deadline
        if timer is None or deadline < timer:
            self.next_deadline = deadline
        state = channel.state
        if state == _CLEAN:
            channel.state = _BUSY
            return reports
        if state == _DIRTY:
            return self._resync(channel, now, timeout)
        return _NO_REPORTS  # cancelling or resynchronizing: it goes out once the channel is clean

    def _request_channel(self, cid: int, cmd: int, channel: _Channel[T] | None) -> _Channel[T]:
        """The channel for a request of ``cmd`` on ``cid`` (made if new), or why there is none."""
        if cmd in _NOT_REQUESTS:
            raise CtapHidProtocolError(f"command 0x{cmd:02x} is not a request")
        if not 0 <= cmd <= 0x7F:
            raise CtapHidProtocolError(f"command 0x{cmd:x} out of range 0..0x7f")
        if channel is None:
            if not 0 < cid < BROADCAST_CID:  # (a known channel's id is valid)
                raise CtapHidProtocolError(f"channel id 0x{cid:x} cannot carry a transaction")
            channel = self._channels[cid] = _Channel(cid)
        elif channel.transaction is not None:
            raise RuntimeError(f"a transaction is already pending on channel 0x{cid:08x}")
        return channel

    def cancel(self, cid: int, now: float) -> Sequence[bytes]:
        """Give up the transaction on ``cid`` (no event follows for it); return the reports to send.

        A request in flight is cancelled on the device (CTAPHID_CANCEL, §11.2.9.1.5); its answer is
        awaited for ``cancel_wait`` seconds and discarded, then the channel is resynchronized if it
        did not come. A request not sent yet is simply dropped.
        """
        channel = self._channels.get(cid)
        if channel is None or channel.transaction is None:
            return _NO_REPORTS
        transaction = channel.transaction
        channel.transaction = None
        if channel.state == _BUSY:
            channel.state = _CANCELLING
            channel.drain = transaction.reassembler
            channel.drain_cmd = transaction.cmd
            channel.sync_deadline = now + self.cancel_wait
            self._at(channel.sync_deadline)
            return frame(cid, _CANCEL, b"", self.packet_size)
        if channel.state == _RETRY:  # the device runs nothing of ours on this channel
            channel.state = _CLEAN
        return _NO_REPORTS

    def forget(self, cid: int) -> None:
        """Forget channel ``cid`` (its device object closed); later reports on it are dropped."""
        self._channels.pop(cid, None)

    # -- received reports -----------------------------------------------------------------------

    def receive_answer(self, raw: bytes) -> tuple[T | None, bytes] | None:
        """The fast path of :meth:`receive`: a whole one-report answer to the transaction on its channel.

        For such a report (of ``packet_size`` bytes), end the transaction and return ``(its token,
        the answer)``, what :meth:`receive` would give as an :class:`Answer` event (property-tested),
        without the event, the clock read or the lists. For any other report return None and change
        nothing: then call :meth:`receive`.
        """
        channel = self._channels.get(int.from_bytes(raw[:4], "big"))
        if channel is None or channel.state != _BUSY or len(raw) != self.packet_size:
            return None
        transaction = channel.transaction
        assert transaction is not None
        if raw[4] != 0x80 | transaction.cmd or transaction.reassembler is not None:
            return None
        length = (raw[5] << 8) | raw[6]
        if length > len(raw) - 7:
            return None
        channel.state = _CLEAN
        channel.transaction = None
        return transaction.token, raw[7 : 7 + length]

    def receive(self, raw: bytes, now: float) -> tuple[Sequence[bytes], list[HostEvent]]:
        """Process one report from the device."""
        if len(raw) < 5:
            return _NO_REPORTS, [Dropped(f"report of {len(raw)} bytes is shorter than a header")]
        cid = int.from_bytes(raw[:4], "big")
        channel = self._channels.get(cid)
        if channel is None:
            if cid == BROADCAST_CID:
                return self._receive_broadcast(raw)
            return _NO_REPORTS, [Dropped(f"no transaction on channel 0x{cid:08x}")]
        kind = raw[4]
        if channel.state == _BUSY:
            transaction = channel.transaction
            assert transaction is not None
            if kind & 0x80:
                if len(raw) < 7:
                    return self._violation(channel, now, "init report shorter than 7 bytes")
                cmd = kind & 0x7F
                length = (raw[5] << 8) | raw[6]
                if cmd == transaction.cmd:
                    if transaction.reassembler is not None:
                        return self._violation(channel, now, "a new answer began before the last one ended")
                    if length <= len(raw) - 7:  # a one-report answer (the common case)
                        channel.state = _CLEAN
                        channel.transaction = None
                        return _NO_REPORTS, [Answer(cid, raw[7 : 7 + length])]
                    if length > self._max:
                        return self._violation(channel, now, f"answer length {length} exceeds the maximum")
                    assembly = transaction.reassembler = Reassembler(self.packet_size)
                    assembly.begin(cid, cmd, length, raw[7:])
                    transaction.deadline = now + transaction.timeout
                    return _NO_REPORTS, []
                if cmd == _KEEPALIVE:
                    if length < 1 or len(raw) < 8:
                        return _NO_REPORTS, [Dropped("KEEPALIVE without a status")]
                    if transaction.last_status is None:  # the first keepalive of this call
                        transaction.limit = now + MAX_KEEPALIVE_TIME
                    transaction.deadline = min(now + transaction.timeout, transaction.limit)
                    status = raw[7]
                    if status == transaction.last_status:
                        return _NO_REPORTS, []
                    transaction.last_status = status
                    return _NO_REPORTS, [KeepAlive(cid, status)]
                if cmd == _ERROR:
                    if length < 1 or len(raw) < 8:
                        return self._violation(channel, now, "ERROR packet without an error code")
                    code = raw[7]
                    if code == _CHANNEL_BUSY and transaction.retry_busy:
                        if transaction.busy_until is None:
                            transaction.busy_until = now + transaction.timeout
                        if now < transaction.busy_until:
                            channel.state = _RETRY
                            transaction.reassembler = None
                            transaction.resend_at = now + self.busy_retry_delay
                            transaction.deadline = transaction.busy_until + transaction.timeout
                            self._at(transaction.resend_at)
                            return _NO_REPORTS, []
                    channel.state = _CLEAN
                    channel.transaction = None
                    return _NO_REPORTS, [Failed(cid, CtapError(code))]
                return self._violation(
                    channel, now, f"answer of command 0x{cmd:02x} to a request of command 0x{transaction.cmd:02x}"
                )
            reassembler = transaction.reassembler
            if reassembler is None or not reassembler.in_progress:
                return _NO_REPORTS, [Dropped(f"continuation without an init report on channel 0x{cid:08x}")]
            try:
                message = reassembler.feed_continuation(raw)
            except CtapHidProtocolError as e:
                return self._violation(channel, now, str(e))
            if message is None:
                transaction.deadline = now + transaction.timeout
                return _NO_REPORTS, []
            channel.state = _CLEAN
            channel.transaction = None
            return _NO_REPORTS, [Answer(cid, message.data)]
        if channel.state == _CANCELLING:
            return self._receive_cancelling(channel, raw, now)
        if channel.state == _RESYNCING:
            if kind == 0x80 | _INIT and len(raw) >= 24 and (raw[5] << 8) | raw[6] >= 17 and raw[7:15] == channel.nonce:
                return self._clean(channel)
            return _NO_REPORTS, [Dropped(f"stale report on channel 0x{cid:08x} while it is resynchronized")]
        return _NO_REPORTS, [Dropped(f"no transaction on channel 0x{cid:08x}")]

    def receive_many(self, packets: Sequence[bytes], now: float) -> tuple[Sequence[bytes], list[HostEvent]]:
        """:meth:`receive` for a batch of reports, in order.

        A whole multi-report answer in the batch is taken in one join (:func:`whole_message`) and a
        run of continuation reports of one channel in one step: what one report at a time would
        give (property-tested), without a step per report.
        """
        if len(packets) == 1:
            return self.receive(packets[0], now)
        out: list[bytes] = []
        events: list[HostEvent] = []
        i, n = 0, len(packets)
        while i < n:
            raw = packets[i]
            if i + 1 < n and len(raw) >= 7:
                channel = self._channels.get(int.from_bytes(raw[:4], "big"))
                if channel is not None and channel.state == _BUSY:
                    transaction = channel.transaction
                    assert transaction is not None
                    reassembler = transaction.reassembler
                    if raw[4] & 0x80:
                        if raw[4] == 0x80 | transaction.cmd and reassembler is None:
                            whole = whole_message(packets, i)
                            if whole is not None:
                                data, i = whole
                                channel.state = _CLEAN
                                channel.transaction = None
                                if i == n and not events and not out:  # the batch was this answer
                                    return _NO_REPORTS, [Answer(channel.cid, data)]
                                events.append(Answer(channel.cid, data))
                                continue
                    elif reassembler is not None and reassembler.in_progress:
                        try:
                            message, i = reassembler.feed_continuations(packets, i)
                        except CtapHidProtocolError as e:
                            more, new = self._violation(channel, now, str(e))
                            out += more
                            events += new
                            i += 1
                            continue
                        if message is None:
                            transaction.deadline = now + transaction.timeout
                        else:
                            channel.state = _CLEAN
                            channel.transaction = None
                            events.append(Answer(channel.cid, message.data))
                        continue
            more, new = self.receive(raw, now)
            out += more
            events += new
            i += 1
        return out, events

    def _receive_broadcast(self, raw: bytes) -> tuple[Sequence[bytes], list[HostEvent]]:
        try:
            message = self._broadcast.feed(parse_packet(raw))
        except CtapHidProtocolError as e:
            return _NO_REPORTS, [Dropped(f"broadcast channel: {e}")]
        if message is None:
            return _NO_REPORTS, []
        if message.cmd == _ERROR and message.data and self._allocations:
            # an INIT was refused; the ERROR names no nonce, so every pending allocation failed
            failed: list[HostEvent] = [AllocationFailed(n, CtapError(message.data[0])) for n in self._allocations]
            self._allocations.clear()
            return _NO_REPORTS, failed
        if message.cmd != _INIT or len(message.data) < 8 or message.data[:8] not in self._allocations:
            return _NO_REPORTS, [Dropped("broadcast message nobody waits for")]
        nonce = message.data[:8]
        del self._allocations[nonce]
        try:
            init = parse_init_response(message.data)
        except CtapHidProtocolError as e:
            return _NO_REPORTS, [AllocationFailed(nonce, e)]
        if init.channel_id in (0, BROADCAST_CID):
            error = CtapHidProtocolError(f"the device assigned the reserved channel id 0x{init.channel_id:08x}")
            return _NO_REPORTS, [AllocationFailed(nonce, error)]
        channel = self._channels.get(init.channel_id)
        if channel is None:
            self._channels[init.channel_id] = _Channel(init.channel_id)
        elif channel.transaction is None:  # a channel id handed out again (after a power cycle)
            channel.state = _CLEAN
        return _NO_REPORTS, [Allocated(nonce, init)]

    def _receive_cancelling(
        self, channel: _Channel[T], raw: bytes, now: float
    ) -> tuple[Sequence[bytes], list[HostEvent]]:
        """Discard the cancelled request's answer; the channel is clean once it has ended."""
        kind = raw[4]
        drain = channel.drain
        if kind & 0x80:
            if len(raw) < 7:
                return self._resync(channel, now, self.cancel_wait), [Dropped("short report while cancelling")]
            cmd = kind & 0x7F
            length = (raw[5] << 8) | raw[6]
            if cmd == _KEEPALIVE:
                return _NO_REPORTS, []  # still working on it: wait for the answer
            if cmd == _ERROR and (length < 1 or len(raw) < 8):
                return self._resync(channel, now, self.cancel_wait), [Dropped("ERROR without a code while cancelling")]
            if cmd == _ERROR or (cmd == channel.drain_cmd and (drain is None or not drain.in_progress)):
                if cmd == _ERROR or length <= len(raw) - 7:
                    return self._clean(channel)
                if length > self._max:
                    return self._resync(channel, now, self.cancel_wait), [Dropped("overlong answer while cancelling")]
                drain = channel.drain = Reassembler(self.packet_size)
                drain.begin(channel.cid, cmd, length, raw[7:])
                return _NO_REPORTS, []
            return self._resync(channel, now, self.cancel_wait), [Dropped("unexpected answer while cancelling")]
        if drain is None or not drain.in_progress:
            return _NO_REPORTS, [Dropped("continuation without an init report while cancelling")]
        try:
            message = drain.feed_continuation(raw)
        except CtapHidProtocolError:
            return self._resync(channel, now, self.cancel_wait), [Dropped("bad sequence while cancelling")]
        if message is None:
            return _NO_REPORTS, []
        return self._clean(channel)

    # -- deadlines ------------------------------------------------------------------------------

    def handle_timer(self, now: float) -> tuple[Sequence[bytes], list[HostEvent]]:
        """Fail what passed its deadline, resend what waited, resynchronize what timed out."""
        out: list[bytes] = []
        events: list[HostEvent] = []
        for nonce, deadline in list(self._allocations.items()):
            if now >= deadline:
                del self._allocations[nonce]
                events.append(AllocationFailed(nonce, CtapHidTimeout("no answer to CTAPHID_INIT from the device")))
        for channel in list(self._channels.values()):
            transaction = channel.transaction
            state = channel.state
            if transaction is not None and now >= transaction.deadline:
                channel.transaction = None
                if transaction.last_status is not None and now >= transaction.limit:
                    why = f"the device sent keepalives for {MAX_KEEPALIVE_TIME:g} s without answering"
                else:
                    why = f"no answer from the device within {transaction.timeout:g} s"
                events.append(Failed(channel.cid, CtapHidTimeout(why)))
                if state == _BUSY:  # stop it on the device, and make sure its late answer never reaches anyone
                    out += frame(channel.cid, _CANCEL, b"", self.packet_size)
                    out += self._resync(channel, now, transaction.timeout)
                elif state == _RETRY:
                    channel.state = _CLEAN
                continue
            if state == _RETRY and transaction is not None and now >= transaction.resend_at:
                channel.state = _BUSY
                out += transaction.reports
            elif state == _CANCELLING and now >= channel.sync_deadline:
                out += self._resync(channel, now, self.cancel_wait)
            elif state == _RESYNCING and now >= channel.sync_deadline:
                if transaction is not None:  # someone waits for the channel: try again
                    out += self._resync(channel, now, transaction.deadline - now)
                else:
                    channel.state = _DIRTY
        self.next_deadline = None
        for deadline in self._allocations.values():
            self._at(deadline)
        for channel in self._channels.values():
            if channel.transaction is not None:
                self._at(channel.transaction.resend_at if channel.state == _RETRY else channel.transaction.deadline)
            if channel.state in (_CANCELLING, _RESYNCING):
                self._at(channel.sync_deadline)
        return out, events

    # -- cleaning a channel ---------------------------------------------------------------------

    def _violation(self, channel: _Channel[T], now: float, message: str) -> tuple[Sequence[bytes], list[HostEvent]]:
        """A malformed answer: fail the transaction, resynchronize the channel."""
        transaction = channel.transaction
        channel.transaction = None
        timeout = transaction.timeout if transaction is not None else self.cancel_wait
        reports = self._resync(channel, now, timeout)
        return reports, [Failed(channel.cid, CtapHidProtocolError(message))]

    def _resync(self, channel: _Channel[T], now: float, timeout: float) -> Sequence[bytes]:
        """INIT on the channel itself (§11.2.9.1.3): the device aborts what it ran there and answers."""
        channel.state = _RESYNCING
        channel.drain = None
        channel.nonce = self._random(8)
        channel.sync_deadline = now + max(timeout, self.cancel_wait)
        self._at(channel.sync_deadline)
        return frame(channel.cid, _INIT, channel.nonce, self.packet_size)

    def _clean(self, channel: _Channel[T]) -> tuple[Sequence[bytes], list[HostEvent]]:
        """The channel is clean: a request that waited for it goes out now."""
        channel.drain = None
        transaction = channel.transaction
        if transaction is None:
            channel.state = _CLEAN
            return _NO_REPORTS, [Cleaned(channel.cid)]
        channel.state = _BUSY
        return transaction.reports, [Cleaned(channel.cid)]
