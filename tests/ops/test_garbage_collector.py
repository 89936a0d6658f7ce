"""The server process's cyclic garbage collector: startup objects frozen, cycles still collected."""

import subprocess
import sys
import textwrap


def test_startup_objects_are_frozen_and_later_cycles_are_still_collected() -> None:
    # In a process of its own: freezing is for the whole interpreter.
    code = textwrap.dedent(
        """
        import gc, weakref
        import hookline.api.app  # what a server imports
        from hookline.runtime import GC_YOUNG_THRESHOLD, settle_garbage_collector

        settle_garbage_collector()
        assert gc.isenabled()
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
        frozen = gc.get_freeze_count()

        class Node:
            pass

        collected = []
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: reference counting alone never frees it
        weakref.finalize(a, collected.append, "a")
        del a, b
        # Young objects that stay alive (freed ones do not count), and no explicit gc.collect().
        kept = [[] for _ in range(GC_YOUNG_THRESHOLD * 3)]
        print(frozen, collected)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    frozen, collected = out.split(" ", 1)
    assert int(frozen) > 50_000, "the imports' objects are left out of every collection"
    assert collected.strip() == "['a']"
