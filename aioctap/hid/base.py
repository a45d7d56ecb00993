"""python-fido2's ``fido2.hid.base`` names: the FIDO usage and :func:`parse_report_descriptor`."""

from __future__ import annotations

__all__ = ["FIDO_USAGE", "FIDO_USAGE_PAGE", "parse_report_descriptor"]

#: the FIDO Alliance HID usage page (CTAP 2.1 §11.2.8.1)
FIDO_USAGE_PAGE = 0xF1D0
#: the CTAPHID usage on that page
FIDO_USAGE = 0x01

# HID 1.11 §6.2.2: an item's prefix byte is tag (4 bits), type (2 bits), size (2 bits: 0, 1, 2 or 4 bytes)
_LONG_ITEM = 0xFE
_INPUT, _OUTPUT = 0x80, 0x90  # main items
_USAGE_PAGE, _REPORT_SIZE, _REPORT_COUNT = 0x04, 0x74, 0x94  # global items
_USAGE = 0x08  # local item
#: the largest report a host takes (Windows' HIDP_CAPS report lengths are 16-bit); a descriptor declaring more is
#: refused rather than have a caller allocate it (4-byte report size and count items multiply to 2**64 bits)
_MAX_REPORT = 0xFFFF


def parse_report_descriptor(data: bytes) -> tuple[int, int]:
    """``(max input report size, max output report size)`` in bytes of a FIDO HID device's report descriptor.

    The sizes are the first Input and Output items' report count times report size; a descriptor that does not
    declare the FIDO usage page and usage (or no Input or Output report), an item cut short by the descriptor's
    end, or a report over 65535 bytes raises ``ValueError``.
    """
    usage_page = usage = report_size = report_count = None
    sizes: dict[int, int] = {}
    i = 0
    while i < len(data) and len(sizes) < 2:
        prefix = data[i]
        if prefix == _LONG_ITEM:  # long item: data size, tag, data (none are defined; skip it)
            if i + 2 >= len(data) or i + 3 + data[i + 1] > len(data):
                raise ValueError(f"the report descriptor's long item at offset {i} is truncated")
            i += 3 + data[i + 1]
            continue
        size = (0, 1, 2, 4)[prefix & 0x03]
        if i + 1 + size > len(data):
            raise ValueError(f"the report descriptor's item at offset {i} is truncated ({size} data bytes expected)")
        value = int.from_bytes(data[i + 1 : i + 1 + size], "little")
        i += 1 + size
        item = prefix & 0xFC
        if item == _USAGE_PAGE and usage_page is None:
            usage_page = value
        elif item == _USAGE and usage is None:
            usage = value
        elif item == _REPORT_SIZE:
            report_size = value
        elif item == _REPORT_COUNT:
            report_count = value
        elif item in (_INPUT, _OUTPUT) and item not in sizes and report_size is not None and report_count is not None:
            sizes[item] = report_size * report_count // 8
            if sizes[item] > _MAX_REPORT:
                raise ValueError(f"the report descriptor declares a {sizes[item]}-byte report (at most {_MAX_REPORT})")
    if usage_page != FIDO_USAGE_PAGE or usage != FIDO_USAGE:
        raise ValueError("not a FIDO HID report descriptor (usage page 0xF1D0, usage 1)")
    if len(sizes) < 2:
        raise ValueError("the report descriptor declares no input or no output report")
    return sizes[_INPUT], sizes[_OUTPUT]
