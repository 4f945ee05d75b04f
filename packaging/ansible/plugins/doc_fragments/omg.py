# -*- coding: utf-8 -*-
# Copyright: omg developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """What every omg.omg module takes: the omg to run."""

    DOCUMENTATION = r"""
options:
  executable:
    description:
      - The omg to run; by default the one on C(PATH).
    type: path
author:
  - omg developers (!UNKNOWN)
"""
