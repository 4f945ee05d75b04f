#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: omg developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: env
short_description: Check a machine against an omg.lock, or bring it in line
version_added: "0.1.0"
description:
  - Compares the machine with an C(omg.lock) (written by C(omg env capture)),
    that is its explicitly installed packages, runtime versions and defaults,
    and the project's version files.
  - C(state=synced) installs the packages and runtime versions the lock has and
    the machine lacks, and sets the runtime defaults back (C(omg env sync)).
    Nothing is removed; packages the lock does not have are reported only.
options:
  lock:
    description:
      - The C(omg.lock) file on the managed machine.
    type: path
    required: true
  state:
    description:
      - C(checked) only reports the drift; C(synced) also fixes what C(omg env sync) can.
    type: str
    choices: [checked, synced]
    default: checked
  fail_on_drift:
    description:
      - With C(state=checked), fail when the machine differs from the lock.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports what C(state=synced) would change, as the diff.
  diff_mode:
    support: full
    description: The drift, one line per difference, as before and after.
notes:
  - C(state=synced) installs through omgd as root; run it with C(become) unless a
    polkit rule lets the user.
seealso:
  - module: omg.omg.package
  - module: omg.omg.facts
extends_documentation_fragment:
  - omg.omg.omg
"""

EXAMPLES = r"""
- name: Report how far web servers are from the fleet's lock
  omg.omg.env:
    lock: /etc/omg/fleet.lock
  register: fleet

- name: Bring them in line
  omg.omg.env:
    lock: /etc/omg/fleet.lock
    state: synced
  become: true
"""

RETURN = r"""
drift:
  description:
    - Every difference between the machine and the lock, as C(omg env check --json)
      reports it; after C(state=synced), what is left.
  returned: always
  type: list
  elements: dict
  sample:
    - kind: missing-package
      name: ripgrep
      version: 13.0.0-4+b2
drifted:
  description: Whether the machine differs from the lock (before any change).
  returned: always
  type: bool
fixed:
  description: The differences C(state=synced) fixed (in check mode, would fix).
  returned: always
  type: list
  elements: dict
fingerprint:
  description: The lock's fingerprint.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.omg.omg.plugins.module_utils.omg import (
    EXECUTABLE_OPTION,
    EXIT_FAILURE,
    EXIT_OK,
    Omg,
)

# What `omg env sync` acts on; the rest it reports and leaves alone.
FIXABLE = ("missing-package", "package-version", "missing-runtime", "runtime-default")


def check(omg, lock):
    """omg env check: the lock's fingerprint and the drift."""
    _rc, report = omg.json(["env", "check", "--file", lock], ok=(EXIT_OK, EXIT_FAILURE))
    return report["fingerprint"], report["drift"]


def describe(entry):
    """One difference as a line of the diff: (before, after)."""
    kind = entry["kind"]
    name = entry.get("name") or entry.get("path") or ""
    locked = entry.get("version") or entry.get("locked") or ""
    have = entry.get("installed") or entry.get("current") or ""
    if kind in ("missing-package", "missing-runtime"):
        return "%s (absent)" % name, "%s %s" % (name, locked)
    if kind in ("package-version", "runtime-default"):
        return "%s %s" % (name, have or "(none)"), "%s %s" % (name, locked)
    if kind in ("extra-package", "extra-runtime"):
        return "%s %s" % (name, locked), "%s %s (kept, not in the lock)" % (name, locked)
    return "%s: %s" % (kind, name), "%s: %s (not fixed by omg env sync)" % (kind, name)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            lock=dict(type="path", required=True),
            state=dict(type="str", default="checked", choices=["checked", "synced"]),
            fail_on_drift=dict(type="bool", default=False),
            executable=EXECUTABLE_OPTION,
        ),
        supports_check_mode=True,
    )
    omg = Omg(module)
    lock = module.params["lock"]
    fingerprint, drift = check(omg, lock)
    fixable = [d for d in drift if d["kind"] in FIXABLE]
    result = dict(
        changed=False,
        drift=drift,
        drifted=bool(drift),
        fixed=[],
        fingerprint=fingerprint,
    )
    if module._diff and drift:
        lines = [describe(d) for d in drift]
        result["diff"] = dict(
            before="\n".join(line[0] for line in lines) + "\n",
            after="\n".join(line[1] for line in lines) + "\n",
        )

    if module.params["state"] == "checked":
        if drift and module.params["fail_on_drift"]:
            module.fail_json(msg="the machine differs from %s" % lock, **result)
        module.exit_json(**result)

    if fixable and not module.check_mode:
        omg.run(["env", "sync", "--file", lock, "--noconfirm"])
        _fingerprint, left = check(omg, lock)
        still = [d for d in left if d["kind"] in FIXABLE]
        if still:
            module.fail_json(msg="omg env sync left differences from %s" % lock, left=still, **result)
        result["drift"] = left
    result["fixed"] = fixable
    result["changed"] = bool(fixable)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
