import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir, write } from '../support/helpers.js'
import { claimrunVerdicts, nativeVerdicts } from '../support/native.js'

/** A Perl distribution's t/, with what real ones use; each file says what prove makes of it. */
const DIST: Record<string, string> = {
  'lib/My/Dist.pm': 'package My::Dist;\nuse strict;\nsub answer { 42 }\n1;\n',
  // Taint: perl refuses `#!perl -T` unless -T is on its command line, and ignores PERL5LIB under it.
  't/00-load.t': '#!perl -T\nuse strict;\nuse warnings;\nuse Test::More tests => 2;\nuse lib "lib";\nuse My::Dist;\nuse Ext::Helper;\nis(My::Dist::answer(), 42, "answer");\nok(${^TAINT}, "taint mode is on");\n',
  't/01-wT.t': '#!/usr/bin/perl -wT\nuse Test::More;\nuse Ext::Helper;\nok(Ext::Helper::here(), "PERL5LIB as -I under taint");\nok(${^TAINT}, "taint");\ndone_testing;\n',
  // -w read from the #! line by perl itself: a warning is printed, the test still passes.
  't/02-warnings.t': '#!/usr/bin/perl -w\nuse Test::More;\nmy $x; my $y = "a" . $x;\nok($^W, "-w is on");\ndone_testing;\n',
  't/03-subtests.t': 'use strict;\nuse Test::More;\nsubtest outer => sub {\n  plan tests => 2;\n  ok(1, "one");\n  subtest inner => sub { ok(1, "deep"); done_testing };\n};\ndone_testing;\n',
  't/04-skip-all.t': 'use Test::More;\nplan skip_all => "needs a network";\n',
  't/05-fails.t': 'use Test::More;\nok(1, "fine");\nis(1 + 1, 3, "arithmetic");\ndone_testing;\n',
  't/06-bail.t': 'use Test::More;\nok(1);\nBAIL_OUT("database is gone");\nok(1);\ndone_testing;\n',
  // prove -r walks sub folders.
  't/deep/07-nested.t': '#!perl\nuse Test::More tests => 1;\nok(1, "nested");\n',
  't/deep/08-plan-short.t': 'use Test::More tests => 3;\nok(1);\nok(1);\n',
  'ext/Ext/Helper.pm': 'package Ext::Helper;\nsub here { 1 }\n1;\n',
}

describe('Perl verdicts agree with prove', () => {
  it('a distribution\'s t/ with -T, -wT and -w files, use lib, done_testing, skip_all, subtests and BAIL_OUT: file by file as prove', async () => {
    const dir = tempDir()
    for (const [name, body] of Object.entries(DIST)) write(dir, name, body)
    const env = { PERL5LIB: join(dir, 'ext') }

    // The files prove -r t would run, and its verdict on each.
    const dry = spawnSync('prove', ['-r', '--dry', 't'], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' })
    const proveFiles = dry.stdout.split('\n').filter(Boolean).sort()
    const native = nativeVerdicts(proveFiles, (id) => ['prove', id], dir, env)
    // `claimrun run t`, and `claimrun run` with no path in a project that has t/ and no test/.
    const ours = await claimrunVerdicts(['t'], dir, env)
    const noPath = await claimrunVerdicts([], dir, env)

    expect(Object.keys(ours.verdicts).sort()).toEqual(proveFiles)
    expect(ours.verdicts).toEqual(native)
    expect(noPath.verdicts).toEqual(native)
    expect(native).toEqual({
      't/00-load.t': 'pass',
      't/01-wT.t': 'pass',
      't/02-warnings.t': 'pass',
      't/03-subtests.t': 'pass',
      't/04-skip-all.t': 'pass',
      't/05-fails.t': 'fail',
      't/06-bail.t': 'fail',
      't/deep/07-nested.t': 'pass',
      't/deep/08-plan-short.t': 'fail',
    })
    expect(ours.code).toBe(1)
  })
})
