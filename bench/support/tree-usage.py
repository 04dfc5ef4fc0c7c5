# Runs a command and reports the CPU time of its whole process tree, on stderr's last line:
#   python3 tree-usage.py <command> [args...]
# It makes itself a child subreaper (Linux prctl), so a descendant whose parent exits first (a
# detached helper process the runner leaves behind) is reparented here and reaped here instead of
# by init: getrusage(RUSAGE_CHILDREN) then holds every process of the tree. Node cannot do this
# (no prctl), and `bash -c '...; times'` misses such processes. It also times the command itself
# from just before fork to its exit (CLOCK_MONOTONIC), so this wrapper's own start is not in it.
import ctypes
import os
import resource
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.stderr.write('tree-usage: prctl(PR_SET_CHILD_SUBREAPER) failed\n')
    sys.exit(125)

epoch_ms = time.time_ns() / 1e6
t0 = time.monotonic_ns()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    except OSError as e:
        sys.stderr.write(f'tree-usage: cannot run {sys.argv[1]}: {e}\n')
        os._exit(127)
_, status = os.waitpid(pid, 0)
t1 = time.monotonic_ns()


def give_up(signum, frame):
    raise TimeoutError


# Descendants still running after the command exited: wait for them (they are part of its cost),
# but not forever.
orphans_left = 0
signal.signal(signal.SIGALRM, give_up)
signal.alarm(10)
try:
    while True:
        os.wait()
except ChildProcessError:
    pass
except TimeoutError:
    orphans_left = 1
signal.alarm(0)
t2 = time.monotonic_ns()
r = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.write(
    f'\nbench-tree spawned_epoch_ms={epoch_ms:.3f} wall_ms={(t1 - t0) / 1e6:.3f} tree_ms={(t2 - t0) / 1e6:.3f} '
    f'cpu_ms={(r.ru_utime + r.ru_stime) * 1000:.3f} orphans_left={orphans_left}\n'
)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
sys.exit(code)
