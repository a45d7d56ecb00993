# Copyright (c) 2018 Yubico AB
# All rights reserved.
#
#   Redistribution and use in source and binary forms, with or
#   without modification, are permitted provided that the following
#   conditions are met:
#
#    1. Redistributions of source code must retain the above copyright
#       notice, this list of conditions and the following disclaimer.
#    2. Redistributions in binary form must reproduce the above
#       copyright notice, this list of conditions and the following
#       disclaimer in the documentation and/or other materials provided
#       with the distribution.
#
# THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
# "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
# LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS
# FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE
# COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT,
# INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING,
# BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES;
# LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
# CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT
# LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN
# ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE
# POSSIBILITY OF SUCH DAMAGE.

"""
Connects to each attached FIDO device, and:
    1. If the device supports CBOR commands, perform a getInfo command.
    2. If the device supports WINK, perform the wink command.
"""

from exampleutils import run

from aioctap.ctap2 import Ctap2
from aioctap.hid import CAPABILITY

try:
    from aioctap.pcsc import CtapPcscDevice
except ImportError:
    CtapPcscDevice = None


def enumerate_devices(devices):
    for dev in devices:
        yield dev
    if CtapPcscDevice:
        for dev in CtapPcscDevice.list_devices():
            yield dev


async def main(devices):
    for dev in enumerate_devices(devices):
        print("CONNECT: %s" % dev)
        print("Product name: %s" % dev.product_name)
        print("Serial number: %s" % dev.serial_number)
        print("CTAPHID protocol version: %d" % dev.version)

        if dev.capabilities & CAPABILITY.CBOR:
            ctap2 = Ctap2(dev)
            info = await ctap2.get_info()
            print("DEVICE INFO: %s" % info)
        else:
            print("Device does not support CBOR")

        if dev.capabilities & CAPABILITY.WINK:
            await dev.wink()
            print("WINK sent!")
        else:
            print("Device does not support WINK")

        dev.close()


if __name__ == "__main__":
    run(main)
