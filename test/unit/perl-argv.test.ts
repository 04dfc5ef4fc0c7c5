import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { perlArgv } from '../../dist/src/plan/perl-runner.js'
import { tempDir, write } from '../support/helpers.js'

/** The command TAP::Parser::SourceHandler::Perl (prove's) builds for each file, its perl left out. */
const HARNESS = `use strict; use TAP::Parser::Source; use TAP::Parser::SourceHandler::Perl;
for my $file (@ARGV) {
  my $s = TAP::Parser::Source->new; $s->raw(\\$file); $s->assemble_meta;
  my $it = TAP::Parser::SourceHandler::Perl->make_iterator($s);
  my @cmd = @{ $it->{command} }; shift @cmd;
  print join("\\x1f", @cmd), "\\n";
  1 while defined $it->next;
}`

const SHEBANGS = ['#!perl -T', '#!/usr/bin/perl -wT', '#!/usr/bin/perl -Tw', '#!perl -t', '#!/usr/bin/env perl -T', '#!/usr/bin/perl -w', '#!perl', '#!/bin/sh -T', '']

describe('perl argv for a .t file', () => {
  it('is the command prove builds: taint switches from the #! line, PERL5LIB as -I and PERL5OPT under taint only', () => {
    const dir = tempDir()
    const files = SHEBANGS.map((line, i) => write(dir, `t/${i}.t`, `${line}\nprint "1..0 # SKIP nothing to test\\n";\n`))
    const env = { PERL5LIB: `${join(dir, 'lib')}:${join(dir, 'ext lib')}`, PERL5OPT: '-Mstrict -w' }
    const res = spawnSync('perl', ['-e', HARNESS, ...files], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' })
    expect(res.status, res.stderr).toBe(0)
    const harness = res.stdout.trimEnd().split('\n').map((line) => line.split('\x1f'))
    const ours = files.map((file) => perlArgv(file, env).slice(1))
    expect(ours).toEqual(harness)
    expect(ours[0]).toEqual(['-T', `-I${join(dir, 'lib')}`, `-I${join(dir, 'ext lib')}`, '-Mstrict', '-w', files[0]])
    expect(ours[5]).toEqual([files[5]])
  })

  it('uses HARNESS_PERL for the perl, as prove does', () => {
    const dir = tempDir()
    const file = write(dir, 't/a.t', '#!perl\n')
    expect(perlArgv(file, { HARNESS_PERL: '/opt/perl/bin/perl' })).toEqual(['/opt/perl/bin/perl', file])
  })
})
