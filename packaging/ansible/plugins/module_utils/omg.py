# -*- coding: utf-8 -*-
# Copyright: omg developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running omg from the modules: its JSON interface and exit statuses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# Every module takes the omg to run.
EXECUTABLE_OPTION = dict(type="path", required=False)

# omg's exit statuses (docs/json.md).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_PENDING = 100


class Omg(object):
    """One omg, run without questions and without colour."""

    def __init__(self, module):
        self.module = module
        path = module.params.get("executable")
        self.path = path or module.get_bin_path("omg", required=True)

    def run(self, args, ok=(EXIT_OK,)):
        """Runs omg ARGS; fails the module on an exit status not in `ok`."""
        command = [self.path, "--color", "never"] + list(args)
        rc, out, err = self.module.run_command(
            command, environ_update={"NO_COLOR": "1", "LC_ALL": "C"}
        )
        if rc not in ok:
            self.module.fail_json(
                msg="omg %s failed: %s" % (" ".join(args), err.strip() or out.strip()),
                rc=rc,
                stdout=out,
                stderr=err,
                cmd=command,
            )
        return rc, out, err

    def json(self, args, ok=(EXIT_OK,)):
        """Runs omg ARGS --json and returns (exit status, document)."""
        rc, out, err = self.run(list(args) + ["--json"], ok=ok)
        try:
            return rc, json.loads(out)
        except ValueError as e:
            self.module.fail_json(
                msg="omg %s printed no JSON (%s)" % (" ".join(args), e),
                rc=rc,
                stdout=out,
                stderr=err,
            )
