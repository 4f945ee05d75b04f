#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: omg developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: facts
short_description: Pending updates, vulnerabilities, reboot and drift as facts
version_added: "0.1.0"
description:
  - Sets facts from omg's JSON output, asking no upstream and changing nothing
    (C(omg outdated --json), C(omg audit --json), C(omg status --json) and,
    with I(lock), C(omg env check --json)).
  - The updates are those the last refresh found (C(omgd-refresh.timer));
    the vulnerabilities those of the last scan (C(omgd-scan.timer)).
options:
  lock:
    description:
      - An C(omg.lock) to compare the machine with; without it C(omg_drift) is null.
    type: path
attributes:
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
  facts:
    support: full
    description: Every result is a fact of the host.
notes:
  - Before the first scan there is no vulnerability data; C(omg_vulnerable_packages)
    is then null and a warning says so.
seealso:
  - module: omg.omg.package
  - module: omg.omg.env
extends_documentation_fragment:
  - omg.omg.omg
"""

EXAMPLES = r"""
- name: Gather omg's facts
  omg.omg.facts:
    lock: /etc/omg/fleet.lock

- name: Upgrade the machines with security updates first
  omg.omg.package:
    name: "{{ omg_updates | selectattr('fixes') | map(attribute='name') | list }}"
    state: latest
  become: true
  when: omg_security_updates > 0
"""

RETURN = r"""
ansible_facts:
  description: Facts added to the host's.
  returned: always
  type: dict
  contains:
    omg_backend:
      description: C(apt) or C(alpm).
      type: str
    omg_pending_updates:
      description: How many updates are pending (repositories, AUR, VCS packages, runtimes, the project).
      type: int
    omg_updates:
      description: Each pending update as C(omg outdated --json) gives it (source, name, installed, available, kind, origin, fixes, pinned).
      type: list
      elements: dict
    omg_security_updates:
      description: Pending updates that fix a known vulnerability.
      type: int
    omg_vulnerable_packages:
      description: Installed packages affected by known vulnerabilities (null before the first scan).
      type: int
    omg_vulnerabilities:
      description: Those packages by their worst severity (critical, high, medium, low, unknown); null before the first scan.
      type: dict
    omg_reboot_required:
      description: An update waits for a reboot.
      type: bool
    omg_config_merges:
      description: Config files upgrades left (.pacnew, .dpkg-dist, ...) that wait for C(omg merge).
      type: int
    omg_drift:
      description: The differences from I(lock) (null without one).
      type: list
      elements: dict
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.omg.omg.plugins.module_utils.omg import (
    EXECUTABLE_OPTION,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_PENDING,
    Omg,
)

SEVERITIES = ("critical", "high", "medium", "low", "unknown")


def vulnerabilities(module, omg, status):
    """The last scan's findings by severity, or None before any scan (omg
    audit would fetch the advisories then)."""
    if not status.get("vulnerabilities"):
        module.warn("no vulnerability data yet (omgd work scan, or omgd-scan.timer)")
        return None
    _rc, out, err = omg.run(["audit", "--json"], ok=(EXIT_OK, EXIT_FAILURE))
    try:
        report = json.loads(out)
    except ValueError:
        module.warn("no vulnerability data: %s" % (err.strip() or "omg audit failed"))
        return None
    counts = dict((s, 0) for s in SEVERITIES)
    for finding in report.get("findings", []):
        severity = str(finding.get("severity", "unknown")).lower()
        counts[severity if severity in counts else "unknown"] += 1
    return counts


def main():
    module = AnsibleModule(
        argument_spec=dict(
            lock=dict(type="path"),
            executable=EXECUTABLE_OPTION,
        ),
        supports_check_mode=True,
    )
    omg = Omg(module)
    _rc, status = omg.json(["status"])
    _rc, outdated = omg.json(["outdated"], ok=(EXIT_OK, EXIT_PENDING))
    rows = outdated.get("rows", [])
    by_severity = vulnerabilities(module, omg, status)
    drift = None
    if module.params["lock"]:
        _rc, report = omg.json(
            ["env", "check", "--file", module.params["lock"]], ok=(EXIT_OK, EXIT_FAILURE)
        )
        drift = report["drift"]
    facts = dict(
        omg_backend=status["backend"],
        omg_pending_updates=len(rows),
        omg_updates=rows,
        omg_security_updates=len([r for r in rows if r.get("fixes")]),
        omg_vulnerable_packages=None if by_severity is None else sum(by_severity.values()),
        omg_vulnerabilities=by_severity,
        omg_reboot_required=bool(status.get("reboot_required")),
        omg_config_merges=int(status.get("config_merges", 0)),
        omg_drift=drift,
    )
    module.exit_json(changed=False, ansible_facts=facts)


if __name__ == "__main__":
    main()
