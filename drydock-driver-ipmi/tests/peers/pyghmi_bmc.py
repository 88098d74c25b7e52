"""A BMC for the IPMI tests, built on pyghmi's BMC server (pyghmi.ipmi.bmc.Bmc).

Usage: pyghmi_bmc.py PORT STATE_DIR USER PASSWORD

Listens on 127.0.0.1:PORT. The chassis is a pair of files in STATE_DIR, as with the ipmi_sim
tests: `power` ("0" or "1") and `boot` (pyghmi's device name, e.g. "network", "hd"); every
command that changes them appends a line to STATE_DIR/log. A power cycle turns the chassis off
and back on 0.3 s later. Prints "ready PORT" on stdout once the socket is bound.
"""

import os
import sys
import threading
import time

import pyghmi.ipmi.bmc as bmc


class FileChassisBmc(bmc.Bmc):
    """pyghmi's Bmc whose power state and boot device live in files of a directory."""

    def __init__(self, authdata, port, state_dir):
        super().__init__(authdata, port=port, address="127.0.0.1")
        self.state_dir = state_dir

    def _path(self, key):
        return os.path.join(self.state_dir, key)

    def _read(self, key, default):
        try:
            with open(self._path(key)) as f:
                return f.read().strip() or default
        except FileNotFoundError:
            return default

    def _write(self, key, value):
        with open(self._path(key), "w") as f:
            f.write(value + "\n")

    def _log(self, line):
        with open(self._path("log"), "a") as f:
            f.write("%.6f %s\n" % (time.time(), line))

    def get_power_state(self):
        return "on" if self._read("power", "0") == "1" else "off"

    def power_on(self):
        self._log("set power 1")
        self._write("power", "1")

    def power_off(self):
        self._log("set power 0")
        self._write("power", "0")

    def power_shutdown(self):
        self._log("soft off")
        self._write("power", "0")

    def power_reset(self):
        self._log("reset")

    def power_cycle(self):
        if self.get_power_state() == "off":
            # IPMI: "command not supported in present state".
            return 0xD5
        self._log("cycle")
        self._write("power", "0")
        threading.Timer(0.3, self._write, ("power", "1")).start()
        return 0

    def get_boot_device(self):
        return self._read("boot", "default")

    def set_boot_device(self, bootdevice):
        self._log("set boot %s" % bootdevice)
        self._write("boot", bootdevice)

    def get_system_guid(self):
        return self.uuid


def main():
    port = int(sys.argv[1])
    state_dir = sys.argv[2]
    user, password = sys.argv[3], sys.argv[4]
    server = FileChassisBmc({user: password}, port, state_dir)
    print("ready %d" % server.port, flush=True)
    server.listen(timeout=1)


if __name__ == "__main__":
    main()
