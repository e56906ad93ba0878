#!/usr/bin/env python3
"""scripts/check_layers.py: the real tree has no upward include, and the check does catch one."""
import pathlib
import subprocess
import sys
import tempfile
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
CHECK = REPO / "scripts" / "check_layers.py"


def run(repo):
    return subprocess.run([sys.executable, str(CHECK), str(repo)], capture_output=True, text=True, timeout=60)


def write(root, path, text):
    p = root / path
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


class CheckLayersTest(unittest.TestCase):
    def test_the_tree_keeps_its_layers(self):
        r = run(REPO)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"check_layers: \d+ layers, [1-9]\d* includes checked, 0 offences")

    def _tree(self, root, kube_header_text):
        write(root, "agent/core/CMakeLists.txt", "aksnode_library(aksnode_core DIR agent/core DEPS aksnode_boost)\n")
        write(root, "agent/kube/CMakeLists.txt", "aksnode_library(aksnode_kube DIR agent/kube DEPS aksnode_core)\n")
        write(root, "agent/engine/CMakeLists.txt",
              "aksnode_library(aksnode_engine DIR agent/engine\n  DEPS aksnode_kube)\n")
        write(root, "probes/CMakeLists.txt", "aksnode_library(aksnode_probe_api FILES probes/probe.h DEPS aksnode_core)\n")
        write(root, "agent/core/time.h", "#pragma once\n")
        write(root, "probes/probe.h", '#include "agent/core/time.h"\n')
        write(root, "agent/engine/engine.h", '#include "agent/kube/client.h"\n#include "agent/core/time.h"\n')
        write(root, "agent/kube/client.h", kube_header_text)
        write(root, "agent/main.cpp", "")

    def _check(self, kube_header_text, extra_files=()):
        with tempfile.TemporaryDirectory() as d:
            root = pathlib.Path(d)
            self._tree(root, kube_header_text)
            for path in extra_files:
                write(root, path, "")
            return run(root)

    def test_an_upward_include_is_named_with_its_line(self):
        r = self._check('#pragma once\n#include "agent/core/time.h"\n#include "agent/engine/engine.h"\n')
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn('agent/kube/client.h:3: aksnode_kube includes "agent/engine/engine.h" of aksnode_engine', r.stdout)

    def test_a_sibling_layer_and_an_unowned_file_are_offences_too(self):
        r = self._check('#include "probes/probe.h"\n', extra_files=["agent/stray.h"])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn('includes "probes/probe.h" of aksnode_probe_api', r.stdout)
        self.assertIn("agent/stray.h: belongs to no layer", r.stdout)

    def test_allowed_includes_pass(self):
        r = self._check('#pragma once\n#include "agent/core/time.h"\n')
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("0 offences", r.stdout)


if __name__ == "__main__":
    unittest.main()
