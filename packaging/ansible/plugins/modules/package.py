#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: omg developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: package
short_description: Install, upgrade and remove packages and runtimes with omg
version_added: "0.1.0"
description:
  - Manages system packages (apt on Debian and Ubuntu, libalpm and the AUR on Arch)
    and language runtimes (node, python, go, rust, ruby, java, bun) through omg.
  - Reads omg's JSON output only; the plan omg makes is what check mode reports.
  - Reports C(changed) only when a package or runtime was installed, upgraded or
    removed, so a second run of the same task reports no change.
options:
  name:
    description:
      - Package names (C(repo/name) and, on Arch, AUR names are accepted).
    type: list
    elements: str
    default: []
    aliases: [pkg]
  runtime:
    description:
      - Runtime versions as C(RUNTIME@VERSION), for example C(node@20), C(python@3.12)
        or C(node@lts).
      - A partial version is satisfied by any installed version it starts
        (C(node@20) by C(20.11.1)); C(state=latest) installs the newest release of that line.
    type: list
    elements: str
    default: []
  state:
    description:
      - C(present) installs what is missing; C(latest) also upgrades what has a
        newer version; C(absent) removes.
    type: str
    choices: [present, absent, latest]
    default: present
  update_cache:
    description:
      - Refresh the repository databases before planning (omg's C(--refresh)).
        In check mode a private copy of the lists is refreshed, never the system's.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Runs omg's dry run and reports its plan.
  diff_mode:
    support: full
    description: Shows each package's and runtime's version before and after.
notes:
  - Questions omg would ask take their default answers (C(--noconfirm)).
  - Transactions run in omgd as root; run the task with C(become) unless a
    polkit rule lets the user.
seealso:
  - module: omg.omg.env
  - module: omg.omg.facts
extends_documentation_fragment:
  - omg.omg.omg
"""

EXAMPLES = r"""
- name: Install ripgrep and Node.js 20
  omg.omg.package:
    name: [ripgrep]
    runtime: [node@20]
  become: true

- name: Keep openssl at its newest version, refreshing the databases first
  omg.omg.package:
    name: openssl
    state: latest
    update_cache: true
  become: true

- name: Remove telnet
  omg.omg.package:
    name: telnet
    state: absent
  become: true
"""

RETURN = r"""
changes:
  description: What was changed (in check mode, what would be), as omg's transaction JSON reports it.
  returned: always
  type: list
  elements: dict
  sample:
    - name: ripgrep
      kind: Install
      repository: bookworm/main
      old_version: null
      new_version: 13.0.0-4+b2
      download_size: 1139872
      installed_size: 4361216
      as_dependency: false
runtimes:
  description: The runtime versions installed or removed (in check mode, that would be).
  returned: always
  type: list
  elements: dict
  sample:
    - runtime: node
      request: "20"
      action: install
      version: 20.11.1
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.omg.omg.plugins.module_utils.omg import (
    EXECUTABLE_OPTION,
    Omg,
)


def info(omg, names):
    """omg info for each name, by name."""
    _rc, found = omg.json(["info"] + list(names))
    return dict((p["name"], p) for p in found)


def installed_packages(omg):
    _rc, found = omg.json(["list"])
    return dict((p["name"], p["version"]) for p in found)


def package_targets(omg, names, state):
    """The names a transaction must act on for `state`."""
    if not names:
        return []
    if state == "absent":
        installed = installed_packages(omg)
        return [n for n in names if n in installed]
    packages = info(omg, names)
    targets = []
    for name in names:
        p = packages.get(name) or packages.get(name.split("/")[-1])
        if p is None or p.get("installed_version") is None:
            targets.append(name)
        elif state == "latest" and p.get("upgradable"):
            targets.append(name)
    return targets


def transaction(module, omg, verb, targets):
    """omg install|remove TARGETS: the changes made (or planned)."""
    args = [verb, "--noconfirm"]
    if verb == "install":
        args.append("--needed")
    if module.check_mode:
        args.append("--dry-run")
        if module.params["update_cache"] and verb == "install":
            # A private copy of the lists; the system's stay as they are.
            args.append("--refresh")
    _rc, report = omg.json(args + list(targets))
    return report.get("changes", [])


NUMERIC = re.compile(r"^v?\d+(\.\d+)*$")


def parse_runtime(module, entry):
    if "@" not in entry:
        module.fail_json(msg="runtime %r is not RUNTIME@VERSION (node@20)" % entry)
    runtime, request = entry.split("@", 1)
    if not runtime or not request:
        module.fail_json(msg="runtime %r is not RUNTIME@VERSION (node@20)" % entry)
    return runtime, request.lstrip("v") if NUMERIC.match(request) else request


def in_line(version, request):
    """Whether `version` is `request` or a release of that line."""
    return version == request or version.startswith(request + ".")


def newest_offered(omg, runtime, request):
    """The newest release upstream offers for `request` (a line or an alias)."""
    _rc, offered = omg.json(["list", runtime, "--available"])
    for release in offered:
        version = release["version"]
        lts = release.get("lts")
        if NUMERIC.match(request):
            if in_line(version, request):
                return version
        elif request in ("latest", "current", "stable"):
            return version
        elif request == "lts" and lts:
            return version
        elif request.startswith("lts/") and lts and lts.lower() == request[4:].lower():
            return version
    return None


def runtime_actions(module, omg, entries, state):
    """What to do for each runtime entry: (action, runtime, request, version).

    A version line (C(20), C(3.12)) is present when any release of it is
    installed; an alias (C(lts), C(latest)) and C(state=latest) want the
    newest release upstream offers.
    """
    actions = []
    for entry in entries:
        runtime, request = parse_runtime(module, entry)
        _rc, installed = omg.json(["list", runtime])
        versions = [v["version"] for v in installed]
        numeric = NUMERIC.match(request) is not None
        if state == "absent":
            if numeric:
                matching = [v for v in versions if in_line(v, request)]
            else:
                matching = [v for v in versions if v == newest_offered(omg, runtime, request)]
            actions.extend(("uninstall", runtime, request, v) for v in matching)
        elif state == "present" and numeric:
            if not any(in_line(v, request) for v in versions):
                actions.append(("install", runtime, request, None))
        else:
            wanted = newest_offered(omg, runtime, request)
            if wanted is None:
                module.fail_json(msg="%s offers no release for %s" % (runtime, request))
            if wanted not in versions:
                actions.append(("install", runtime, request, wanted))
    return actions


def carry_out(module, omg, actions):
    done = []
    for action, runtime, request, version in actions:
        record = dict(runtime=runtime, request=request, action=action, version=version)
        if module.check_mode:
            done.append(record)
            continue
        if action == "uninstall":
            omg.run(["uninstall", runtime, version])
        else:
            before = set(v["version"] for v in omg.json(["list", runtime])[1])
            omg.run(["install", "%s@%s" % (runtime, version or request)])
            after = [v["version"] for v in omg.json(["list", runtime])[1]]
            new = [v for v in after if v not in before]
            record["version"] = new[0] if new else version
        done.append(record)
    return done


def diff(changes, runtimes):
    before, after = [], []
    for c in changes:
        before.append("%s %s" % (c["name"], c.get("old_version") or "(absent)"))
        gone = c["kind"] == "Remove"
        after.append("%s %s" % (c["name"], "(absent)" if gone else c.get("new_version")))
    for r in runtimes:
        label = "%s@%s" % (r["runtime"], r["version"] or r["request"])
        if r["action"] == "uninstall":
            before.append(label)
            after.append("%s (absent)" % label)
        else:
            before.append("%s (absent)" % label)
            after.append(label)
    return dict(before="\n".join(before) + "\n", after="\n".join(after) + "\n")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="list", elements="str", default=[], aliases=["pkg"]),
            runtime=dict(type="list", elements="str", default=[]),
            state=dict(type="str", default="present", choices=["present", "absent", "latest"]),
            update_cache=dict(type="bool", default=False),
            executable=EXECUTABLE_OPTION,
        ),
        supports_check_mode=True,
    )
    omg = Omg(module)
    state = module.params["state"]
    names = module.params["name"]

    if module.params["update_cache"] and not module.check_mode:
        omg.run(["sync"])

    targets = package_targets(omg, names, state)
    changes = []
    if targets:
        verb = "remove" if state == "absent" else "install"
        changes = transaction(module, omg, verb, targets)
    runtimes = carry_out(module, omg, runtime_actions(module, omg, module.params["runtime"], state))

    result = dict(changed=bool(changes or runtimes), changes=changes, runtimes=runtimes)
    if module._diff:
        result["diff"] = diff(changes, runtimes)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
