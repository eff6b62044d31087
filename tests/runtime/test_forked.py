"""A call computed in a forked child (transforms/runtime/forked): the same answer or the same
exception as in this process, and this process's own answer when no child can give one.

Each case runs in a fresh interpreter: a fork is only taken from a single-threaded process,
and pytest's may hold threads from earlier tests."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(body: str) -> dict:
    header = "import os, signal, threading, time\nfrom transforms.runtime.forked import Forked\n"
    script = header + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_call_runs_in_a_child_and_its_answer_or_exception_comes_back():
    said = run("""
        import json
        answer = Forked(lambda: (os.getpid(), list(range(5)))).result()
        try:
            Forked(int, "not a number").result()
            raised = ""
        except ValueError as exc:
            raised = str(exc)
        print(json.dumps({"parent": os.getpid(), "child": answer[0], "value": answer[1], "raised": raised}))
    """)
    assert said["child"] != said["parent"] and said["value"] == [0, 1, 2, 3, 4]
    assert said["raised"] == "invalid literal for int() with base 10: 'not a number'"


def test_the_child_leaves_its_answer_and_exits_before_it_is_asked_for():
    """A large answer (as a COCO file's packed annotations are) does not keep the child waiting
    for this process to read it: the child is gone while this process is still busy."""
    said = run("""
        import json
        forked = Forked(os.urandom, 8 << 20)  # 8 MB
        pid = forked._child[0]
        for _ in range(600):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        print(json.dumps({"exited_first": bool(done)}))
    """)
    assert said["exited_first"]


def test_the_answer_of_a_child_reaped_elsewhere_is_read():
    """Another part of the process may reap children (a SIGCHLD handler): the answer is still whole."""
    said = run("""
        import json
        forked = Forked(lambda: {"rows": list(range(100000))})
        pid = forked._child[0]
        while not os.waitpid(pid, os.WNOHANG)[0]:
            time.sleep(0.05)
        print(json.dumps({"n": len(forked.result()["rows"])}))
    """)
    assert said["n"] == 100000


def test_a_child_that_dies_leaves_the_call_to_this_process():
    said = run("""
        import json
        parent = os.getpid()
        def slow():
            if os.getpid() != parent:
                time.sleep(60)
            return os.getpid()
        forked = Forked(slow)
        os.kill(forked._child[0], signal.SIGKILL)
        print(json.dumps({"parent": parent, "answer": forked.result()}))
    """)
    assert said["answer"] == said["parent"]


def test_no_child_is_forked_from_a_process_with_threads_and_cancel_reaps_one():
    said = run("""
        import json
        stop = threading.Event()
        worker = threading.Thread(target=stop.wait)
        worker.start()
        threaded = Forked(os.getpid)
        stop.set(); worker.join()
        forked = Forked(time.sleep, 60)
        pid = forked._child[0]
        forked.cancel()
        try:
            os.waitpid(pid, os.WNOHANG)
            reaped = False
        except ChildProcessError:
            reaped = True
        print(json.dumps({"parent": os.getpid(), "no_child": threaded._child is None,
                          "answer": threaded.result(), "reaped": reaped}))
    """)
    assert said["no_child"] and said["answer"] == said["parent"] and said["reaped"]


def test_the_child_dies_with_its_parent(tmp_path):
    """A launch killed while its child reads (SIGKILL runs no cleanup) leaves no process behind."""
    import os
    import signal
    import time

    script = ("import os, time\nfrom transforms.runtime.forked import Forked\n"
              "forked = Forked(time.sleep, 600)\nprint(forked._child[0], flush=True)\ntime.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    child = int(parent.stdout.readline())
    time.sleep(0.5)  # the child has asked to die with its parent
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(100):  # reaped by init once the kernel has killed it
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError(f"the child {child} outlived its killed parent")
