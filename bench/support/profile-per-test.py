#!/usr/bin/env python3
"""Where claimrun's CPU goes per test: runs `perf record` over a whole run (every process and
thread of the tree) of the N tests in a folder and of its first 6, then splits the samples by who
spent them and on what. Per test = (N-test run - 6-test run) / (N - 6), so the fixed cost of a run
(start-up, the worker threads' and the spawner's boots, exit) is out of it, as in the per-test
benchmark: 6 tests are enough for claimrun to boot all 3 threads and its spawner.

    python3 bench/support/profile-per-test.py <dir of N trivial tests> [claimrun args...]

Needs `perf` (Linux). Prints, per part of the tree, CPU microseconds per test. Parts: the runner's main thread, its other threads (the worker lanes, V8's and libuv's
helpers), the watchdog/spawner process, and each test's process from the fork on (the child's last
Node code, exec dropping the copied address space, the test, its exit).
`--floor` profiles the Node floor instead (bench/support/spawn-floor.mjs, one thread, 3 lanes): its
one process is reported as "runner". Within each part the stacks are put in buckets (fork, exec
tearing down the copied address space, page faults, JavaScript, V8's compiler/GC, other kernel).
`--functions` splits the runner's worker lanes from its helper threads and puts each sample in a
group by the innermost claimrun function on its stack (reading frames, asking for the spawn, the
worker log, judging the end...; the watchdog gets the runner's --perf-basic-prof, so its functions
are named too), or by what Node, V8 or the kernel was doing (boot, fork, page faults, spawn setup).
NODE_EXTRA_CA_CERTS is removed, as in the rest of the benchmarks.
"""
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

FREQ = 2999
FEW = 6
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, 'dist/src/cli/bin.cjs')
if not os.path.exists(CLI):
    CLI = os.path.join(ROOT, 'dist/src/cli/bin.js')
FLOOR = os.path.join(ROOT, 'bench/support/spawn-floor.mjs')

BUCKETS = [
    ('fork (copying the forking process)', re.compile(r'copy_process|dup_mmap|copy_page_range|kernel_clone')),
    ('exec/exit tearing down an address space', re.compile(r'exit_mmap|unmap_page_range|unmap_vmas|free_pgtables|begin_new_exec|tlb_finish_mmu')),
    ('page faults (copy-on-write and others)', re.compile(r'exc_page_fault|do_wp_page|handle_mm_fault')),
    ('V8: compile, GC, deserialize', re.compile(r'v8::internal::(Compiler|Scavenger|Heap|MarkCompact|Deserializer|Parser|Scanner|BytecodeGenerator|Concurrent)|Builtins_CompileLazy')),
    ('JavaScript and Node (user space)', re.compile(r'^(JS:|Builtins_|v8::|node::|uv_|uv__|\[unknown\])')),
]


# --functions: where the JavaScript time goes, by the innermost claimrun function on the stack
# (the watchdog is started with the runner's --perf-basic-prof, so its functions are named too).
OURS = re.compile(r'^(?:LazyCompile|Function|JS):[~*^+]?(\S*) \S*(?:workers/worker|cli/main|spawn-server|spawn-wire|watchdog-process|process-group)\.c?js')
FUNCTION_GROUPS = [
    ('boot: loading modules, bootstrap, compiling', r'worker\.c?js:1:1|piscina/dist/worker\.js:1:|compileForInternalLoader|Module\._load'),
    ('fork (kernel)', r'copy_process|dup_mmap|copy_page_range|kernel_clone'),
    ('page faults', r'exc_page_fault|do_wp_page|handle_mm_fault'),
    ("Node's spawn (setup, pipes), as in the floor", r'spawn node:child_process|ChildProcess\.spawn|normalizeSpawnArguments'),
]
LANE_FUNCTIONS = [
    ('reading frames from the spawner', r'^(onread|push|received|connect)$'),
    ("a test's events and its end (exit, pipes closed, group check)", r'^(spawned|exited|closed|finish|settle|done|failed|lost|signalGroup|groupMembers)$'),
    ('asking for the spawn (SPAWN frame, socket write)', r'^(launch|send|writeFrames|frame|flush|release|drop)$'),
    ('worker log and output tail', r'^(TestOutput|write|data|keepTail|tailText|WorkerLog)$'),
    ("judging the end (status, verdict, report)", r'^(statusOfEnd|describeEnd|escapeLine|escapeControl|isPassing|TapStream)$'),
    ('claiming (board, plan)', r'^(claimNext|decodeTest|attemptOf|setLanePid|isStopped|awaitWork|openBoard)$'),
    ('the lane loop itself (work, spawnTest, promises)', r'^(work|spawnTest|call|waitBounded|now|add|)$'),
]
OTHER_GROUPS = [
    ('Node streams and sockets', r'onStreamRead|Readable|Socket'),
    ('timers', r'processTimers|listOnTimeout'),
    ('messages between threads', r'postMessage|messageport|event_target|ValueDeserializer|ValueSerializer'),
    ('V8 GC and optimizing compiler', r'Scavenger|Heap::|MarkCompact|CompileOptimized|compiler::'),
    ('event loop, wake-ups, scheduler', r'epoll|uv__io_poll|futex|schedule'),
]


def function_group(part, stack):
    joined = ' '.join(stack)
    for name, pattern in FUNCTION_GROUPS:
        if re.search(pattern, joined):
            return name
    for frame in stack:  # innermost first
        m = OURS.match(frame)
        if not m:
            continue
        if 'lanes' in part:
            for name, pattern in LANE_FUNCTIONS:
                if re.match(pattern, m.group(1)):
                    return name
        return f'claimrun: {m.group(1) or "(anonymous)"}'
    for name, pattern in OTHER_GROUPS:
        if re.search(pattern, joined):
            return name
    return 'other (Node, V8, kernel)'


def bucket(stack):
    for name, pattern in BUCKETS:
        if any(pattern.search(frame) for frame in stack):
            return name
    return 'other (kernel: syscalls, scheduler; libc)'


def profile(tests_dir, args, env):
    """Sample counts: part of the tree -> bucket -> samples."""
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, 'perf.data')
        out = os.path.join(tmp, 'out')
        if args[:1] == ['--floor']:
            files = [os.path.join(tests_dir, f) for f in sorted(os.listdir(tests_dir))]
            command = ['node', '--perf-basic-prof', '--interpreted-frames-native-stack', FLOOR, 'main', '3', 'sh', *files]
        else:
            command = ['node', '--perf-basic-prof', '--interpreted-frames-native-stack', CLI, 'run', tests_dir, '--no-history', '--out', out, *args]
        # In the temp folder: --interpreted-frames-native-stack has V8 write isolate-*.log files where it runs.
        subprocess.run(['perf', 'record', '-q', '-g', '-F', str(FREQ), '-o', data, '--', *command], env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        script = subprocess.run(['perf', 'script', '-i', data, '--show-task-events', '-F', 'comm,pid,tid,ip,sym'],
                                capture_output=True, text=True, check=False).stdout
    parent, execed, root = {}, set(), None
    samples = []
    pid = tid = None
    stack = []
    for line in script.split('\n'):
        m = re.search(r'PERF_RECORD_FORK\((\d+):(\d+)\):\((\d+):(\d+)\)', line)
        if m:
            child, ctid, ppid = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if child == ctid and child != ppid:
                parent[child] = ppid
            continue
        m = re.search(r'PERF_RECORD_COMM exec: (\S+):(\d+)/(\d+)', line)
        if m:
            execed.add((int(m.group(2)), m.group(1)))
            continue
        if not line.strip():
            if pid is not None and stack:
                samples.append((pid, tid, stack))
            pid, stack = None, []
            continue
        if not line.startswith((' ', '\t')):
            m = re.match(r'\s*(\S+)\s+(\d+)/(\d+)', line)
            if m:
                pid, tid = int(m.group(2)), int(m.group(3))
                root = root or pid
            continue
        parts = line.strip().split(None, 1)
        if len(parts) == 2:
            stack.append(re.sub(r'\+0x[0-9a-f]+$', '', parts[1]))
    lanes = {t for p, t, stack in samples if p == root and t != root and any('workers/worker.' in f for f in stack)}
    # The watchdog: the runner's child that exec'd node (the tests exec their own commands).
    nodes = {p for p, comm in execed if comm == 'node' and parent.get(p) == root}

    def part(p, t):
        if p == root:
            if t == root:
                return 'runner: main thread'
            if FUNCTIONS:
                return 'runner: worker lanes' if t in lanes else 'runner: other threads (V8/libuv helpers)'
            return 'runner: other threads (worker lanes, V8/libuv helpers)'
        if p in nodes:
            return 'watchdog/spawner: main thread' if t == p else 'watchdog/spawner: other threads'
        # Sampled under its own pid from the fork on: the child's last Node code, exec, the test, its exit.
        return 'tests: each forked child, fork to exit'

    table = collections.defaultdict(collections.Counter)
    for p, t, stack in samples:
        where = part(p, t)
        table[where][function_group(where, stack) if FUNCTIONS and not where.startswith('tests') else bucket(stack)] += 1
    return table


FUNCTIONS = '--functions' in sys.argv


def main():
    tests_dir, args = os.path.abspath(sys.argv[1]), [a for a in sys.argv[2:] if a != '--functions']
    files = sorted(os.listdir(tests_dir))
    count = len(files)
    env = {k: v for k, v in os.environ.items() if k != 'NODE_EXTRA_CA_CERTS'}
    with tempfile.TemporaryDirectory() as few:
        for f in files[:FEW]:
            shutil.copy2(os.path.join(tests_dir, f), few)
        many, single = profile(tests_dir, args, env), profile(few, args, env)
    per = lambda n: n / FREQ / (count - FEW) * 1e6
    print(f'CPU per test in µs, ({count}-test run - {FEW}-test run) / {count - FEW}, sampled at {FREQ} Hz')
    print(f"| part | µs per test | largest {'function groups' if FUNCTIONS else 'buckets'} (µs) |")
    print('| --- | ---: | --- |')
    total = 0
    for name in sorted(many, key=lambda k: -sum(many[k].values())):
        diff = collections.Counter({b: many[name][b] - single.get(name, collections.Counter())[b] for b in many[name]})
        n = sum(diff.values())
        total += n
        top = ', '.join(f'{b} {per(v):.0f}' for b, v in diff.most_common(12 if FUNCTIONS else 3) if per(v) >= (3 if FUNCTIONS else 0) and v > 0)
        print(f'| {name} | {per(n):.0f} | {top} |')
    print(f'| **total** | **{per(total):.0f}** | |')


if __name__ == '__main__':
    main()
